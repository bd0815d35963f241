using System.Diagnostics;
using System.Text;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Rules.Syntax;

namespace Loyalty.Sdk.Rules.Tests;

public sealed class RuleFuzzTests
{
    private static readonly string[] Seeds =
    [
        "orders_placed.count(within: 90d) >= 3 and tier in [\"gold\", \"platinum\"] and days_since(last_order) <= 60 and consent(email, marketing)",
        "not (orders ?? 0) > 2 or net_spend >= 50 EUR",
        "last_order is not null and date(last_order) >= 2025-01-31",
        "orders_placed.sum(within: 30d, category: \"shoes\") > 100 USD",
        "response_rate(sms) > response_rate(email) * 1.5 and in_segment(\"vip\")",
    ];

    private static readonly string[] Fragments =
    [
        "(", ")", "[", "]", ",", ":", ".", "==", "!=", "<=", ">=", "<", ">", "??", "+", "-", "*", "/", " and ", " or ", "not ", " in ", " is ", "null",
        "true", "false", "\"", "\\", "90d", "12h", "50 EUR", "2025-02-30", "9999-99-99", "1e400", "99999999999999999999", "0.5", "tier", "orders_placed", ".count(",
        "within:", "\n", "\t", "\u0000", "\uffff", "é", "😀", "days_since(", "consent(", "in_segment(", "$", "#", "'", "`",
    ];

    [Fact]
    public void A_million_generated_inputs_never_crash_the_parser_or_checker()
    {
        var schema = TestSchema.Create();
        var random = new Random(20250615);
        var watch = Stopwatch.StartNew();
        var parsed = 0;
        var compiled = 0;
        var text = new StringBuilder();
        const int Inputs = 1_000_000;
        for (var i = 0; i < Inputs; i++)
        {
            text.Clear();
            var mode = random.Next(4);
            if (mode == 0)
            {
                // Token soup.
                var n = random.Next(1, 24);
                for (var k = 0; k < n; k++)
                {
                    text.Append(Fragments[random.Next(Fragments.Length)]);
                }
            }
            else if (mode == 1)
            {
                // Random characters.
                var n = random.Next(0, 40);
                for (var k = 0; k < n; k++)
                {
                    text.Append((char)random.Next(0, 128));
                }
            }
            else
            {
                // Mutations of valid rules.
                text.Append(Seeds[random.Next(Seeds.Length)]);
                var edits = random.Next(1, mode == 2 ? 3 : 8);
                for (var e = 0; e < edits && text.Length > 0; e++)
                {
                    var at = random.Next(text.Length);
                    switch (random.Next(3))
                    {
                        case 0:
                            text.Remove(at, Math.Min(text.Length - at, random.Next(1, 6)));
                            break;
                        case 1:
                            text.Insert(at, Fragments[random.Next(Fragments.Length)]);
                            break;
                        default:
                            text[at] = (char)random.Next(32, 127);
                            break;
                    }
                }
            }

            var input = text.ToString();
            try
            {
                var result = RuleParser.TryParse(input);
                if (result.Node is null)
                {
                    Assert.NotEmpty(result.Errors);
                    continue;
                }

                parsed++;
                if ((i & 7) == 0)
                {
                    var check = RuleCompiler.Check(result.Node, schema);
                    if (check.Rule is not null)
                    {
                        compiled++;
                        check.Rule.Evaluate(new RuleSubject(schema.SlotCount), NodaTime.Instant.FromUnixTimeSeconds(1_750_000_000));
                    }

                    // The canonical text must parse back to the same tree.
                    Assert.Equal(RuleJson.Serialize(result.Node), RuleJson.Serialize(RuleParser.Parse(RuleFormatter.Format(result.Node))));
                }
            }
            catch (RuleException)
            {
                // The typed rule error is the only exception allowed to escape.
            }
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(90), $"fuzzing took {watch.Elapsed}");
        Assert.True(parsed > 10_000, $"only {parsed} inputs parsed");
        Assert.True(compiled > 100, $"only {compiled} inputs compiled");
    }
}
