using System.Text.Json.Nodes;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Rules.Syntax;
using NodaTime;

namespace Loyalty.Sdk.Rules.Tests;

public sealed class RuleLanguageTests
{
    private static readonly Instant Now = Instant.FromUtc(2025, 6, 15, 12, 0);

    public static TheoryData<string> ValidRules() =>
    [
        "orders_placed.count(within: 90d) >= 3 and tier in [\"gold\", \"platinum\"] and days_since(last_order) <= 60 and consent(email, marketing)",
        "not (orders ?? 0) > 2 or net_spend >= 50 EUR",
        "last_order is null or last_order is not null",
        "orders_placed.sum(within: 30d, category: \"shoes\") > 100 USD",
        "orders_placed.none(within: 60d)",
        "visits.count(within: 12h, channel: sms) > 0 and hour() >= 9",
        "days_until_birthday() <= 7",
        "day_of_week(last_order) in [\"saturday\", \"sunday\"] and in_segment(\"vip\")",
        "now() - last_order > 30d and date(last_order) >= 2025-01-31",
        "response_rate(sms) > response_rate(email) * 1.5",
        "-orders < -1 and tier not in [\"bronze\"]",
        "orders_placed.distinct(category, within: 365d) >= 3",
    ];

    [Theory]
    [MemberData(nameof(ValidRules))]
    public void Valid_rules_compile_and_round_trip_through_text_and_json(string text)
    {
        var schema = TestSchema.Create();
        var result = RuleCompiler.Check(text, schema);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        var ast = RuleParser.Parse(text);
        var canonical = RuleFormatter.Format(ast);
        var json = RuleJson.Serialize(ast);
        Assert.Equal(json, RuleJson.Serialize(RuleParser.Parse(canonical)));
        Assert.Equal(json, RuleJson.Serialize(RuleJson.Deserialize(json)));
        Assert.Equal(canonical, RuleFormatter.Format(RuleJson.Deserialize(json)));
    }

    [Fact]
    public void Syntax_errors_have_line_column_and_what_was_expected()
    {
        var result = RuleParser.TryParse("orders >= 3 and\n  (tier == \"gold\"");
        var error = Assert.Single(result.Errors);
        Assert.Equal(2, error.Line);
        Assert.Equal("syntax", error.Code);
        Assert.Contains("expected", error.Message, StringComparison.Ordinal);

        var bad = RuleParser.TryParse("orders >= ");
        Assert.Equal(1, bad.Errors[0].Line);
        Assert.Equal(11, bad.Errors[0].Column);
    }

    [Fact]
    public void Misspelled_names_get_a_did_you_mean_and_all_errors_come_at_once()
    {
        var result = RuleCompiler.Check("tierr == \"gold\" and dayz_since(last_order) < 3 and orders_placed.cuont(within: 9d) > 1 and consent(emial, marketing)", TestSchema.Create());
        Assert.False(result.Success);
        Assert.Equal(4, result.Errors.Count);
        Assert.Equal("tier", result.Errors[0].Suggestion);
        Assert.Equal(1, result.Errors[0].Column);
        Assert.Equal("days_since", result.Errors[1].Suggestion);
        Assert.Equal("count", result.Errors[2].Suggestion);
        Assert.Equal("email", result.Errors[3].Suggestion);
        Assert.Contains("Did you mean 'tier'?", result.Errors[0].ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("orders > \"3\"", "type_mismatch")]
    [InlineData("net_spend > 50", "type_mismatch")]
    [InlineData("net_spend > 50 GBP", "currency")]
    [InlineData("last_order == null", "null_comparison")]
    [InlineData("orders", "type_mismatch")]
    [InlineData("orders_placed.count() > 1", "arguments")]
    [InlineData("visits.sum(within: 3d) > 1", "type_mismatch")]
    [InlineData("orders_placed.count(within: 900d) > 1", "limit")]
    [InlineData("in_segment(\"vipp\")", "unknown_segment")]
    public void Type_errors_are_reported(string text, string code)
    {
        var result = RuleCompiler.Check(text, TestSchema.Create());
        Assert.Contains(result.Errors, e => e.Code == code);
    }

    [Fact]
    public void Evaluation_follows_null_semantics_and_explains_itself()
    {
        var schema = TestSchema.Create();
        var rule = RuleCompiler.Compile("orders_placed.count(within: 90d) >= 2 and tier in [\"gold\", \"platinum\"] and days_since(last_order) <= 60 and (orders ?? 0) > 1", schema);
        var windows = new TestWindows();
        windows.Add(rule.Windows[0].Id, Now - Duration.FromDays(10));
        windows.Add(rule.Windows[0].Id, Now - Duration.FromDays(80));
        var subject = TestSchema.Subject(schema, slot =>
        {
            _ = slot("tier", []);
        });
        subject.Windows = windows;
        subject.SetText(schema.Slot("tier", [], RuleType.String).Index, "GOLD");
        subject.SetTimestamp(schema.Slot("last_order", [], RuleType.Timestamp).Index, Now - Duration.FromDays(10));
        subject.SetNumber(schema.Slot("orders", [], RuleType.Number).Index, 5);
        Assert.True(rule.Evaluate(subject, Now));

        // The first order leaves the 90-day window 10 days from now; the days_since threshold is 50 days away.
        Assert.Equal(Now + Duration.FromDays(10), rule.NextChange(subject, Now));
        Assert.False(rule.Evaluate(subject, Now + Duration.FromDays(10)));

        var explanation = rule.Explain(subject, Now);
        Assert.Equal("true", explanation.Value);
        var text = explanation.Render();
        Assert.Contains("orders_placed.count(within: 90d) = 2", text, StringComparison.Ordinal);
        Assert.Contains("tier = \"GOLD\"", text, StringComparison.Ordinal);

        subject.SetNumber(schema.Slot("orders", [], RuleType.Number).Index, null);
        Assert.False(rule.Evaluate(subject, Now));
        var isNull = RuleCompiler.Compile("orders is null and not (orders > 1) and not (orders != 1)", schema);
        Assert.True(isNull.Evaluate(subject, Now));
    }

    [Fact]
    public void Days_since_threshold_is_the_next_change()
    {
        var schema = TestSchema.Create();
        var rule = RuleCompiler.Compile("days_since(last_order) >= 60", schema);
        var subject = new RuleSubject(schema.SlotCount);
        subject.SetTimestamp(schema.Slot("last_order", [], RuleType.Timestamp).Index, Now - Duration.FromDays(10));
        Assert.False(rule.Evaluate(subject, Now));
        var next = rule.NextChange(subject, Now)!.Value;
        Assert.Equal(Now + Duration.FromDays(50), next);
        Assert.True(rule.Evaluate(subject, next));
        Assert.False(rule.Evaluate(subject, next - Duration.FromMilliseconds(1)));
    }

    [Fact]
    public void Date_functions_use_the_customers_time_zone()
    {
        var schema = TestSchema.Create();
        var subject = new RuleSubject(schema.SlotCount) { Zone = DateTimeZoneProviders.Tzdb["Pacific/Auckland"] };
        var saturdayNightUtc = Instant.FromUtc(2025, 6, 14, 20, 0); // Sunday 08:00 in Auckland
        Assert.True(RuleCompiler.Compile("day_of_week() == \"sunday\" and hour() == 8 and is_weekend()", schema).Evaluate(subject, saturdayNightUtc));
        subject.EnsureCapacity(schema.SlotCount);
        var birthday = RuleCompiler.Compile("days_until_birthday() <= 7", schema);
        subject.EnsureCapacity(schema.SlotCount);
        subject.SetDate(schema.Slot("birth_date", [], RuleType.Date).Index, new LocalDate(1990, 6, 20));
        Assert.True(birthday.Evaluate(subject, saturdayNightUtc));
        subject.SetDate(schema.Slot("birth_date", [], RuleType.Date).Index, new LocalDate(1990, 6, 1));
        Assert.False(birthday.Evaluate(subject, saturdayNightUtc));
    }

    [Fact]
    public void Evaluation_does_not_allocate()
    {
        var schema = TestSchema.Create();
        var rule = RuleCompiler.Compile("orders_placed.count(within: 90d) >= 3 and tier in [\"gold\", \"platinum\"] and days_since(last_order) <= 60 and consent(email, marketing) or day_of_week() == \"monday\"", schema);
        var subject = new RuleSubject(schema.SlotCount) { Windows = new ConstantWindows(), Zone = DateTimeZoneProviders.Tzdb["Europe/Paris"] };
        subject.SetText(schema.Slot("tier", [], RuleType.String).Index, "gold");
        var ms = Now.ToUnixTimeMilliseconds();
        for (var i = 0; i < 1000; i++)
        {
            rule.Evaluate(subject, ms);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            rule.Evaluate(subject, ms + i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(5000, "limit")]
    public void Hostile_rules_are_rejected(int size, string code)
    {
        Assert.Equal(code, RuleParser.TryParse(new string('(', size)).Errors[0].Code);
        Assert.Equal("limit", RuleParser.TryParse(string.Concat(Enumerable.Repeat("not ", 500)) + "true").Errors[0].Code);
        Assert.Equal("limit", RuleParser.TryParse(string.Join(" and ", Enumerable.Repeat("true", 250))).Errors[0].Code);
        Assert.Equal("limit", RuleParser.TryParse(new string('[', 100) + new string(']', 100)).Errors[0].Code);
        var deepJson = "{\"kind\":\"boolean\",\"value\":true}";
        for (var i = 0; i < 100; i++)
        {
            deepJson = "{\"kind\":\"unary\",\"op\":\"not\",\"operand\":" + deepJson + "}";
        }

        Assert.Throws<RuleException>(() => RuleJson.Deserialize(deepJson));
        var node = RuleParser.Parse("true");
        for (var i = 0; i < 40; i++)
        {
            node = new UnaryNode("not", node);
        }

        Assert.Equal("limit", RuleCompiler.Check(node, TestSchema.Create()).Errors[0].Code);
    }

    [Fact]
    public void Json_form_is_documented_shape()
    {
        var json = RuleJson.ToJson(RuleParser.Parse("orders_placed.count(within: 90d) >= 3"));
        Assert.Equal("binary", json["kind"]!.GetValue<string>());
        Assert.Equal("call", json["left"]!["kind"]!.GetValue<string>());
        Assert.Equal("within", json["left"]!["args"]![0]!["name"]!.GetValue<string>());
        Assert.IsType<JsonObject>(json["right"]);
    }
}

internal sealed class ConstantWindows : IRuleWindows
{
    public double Aggregate(int series, AggregateKind kind, long fromMs, long nowMs) => 4;

    public long NextExpiry(int series, long windowMs, long nowMs) => long.MaxValue;
}
