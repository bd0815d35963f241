using BenchmarkDotNet.Attributes;
using Loyalty.Sdk.Rules;
using NodaTime;
using RulesEngine.Models;
using ReParameter = RulesEngine.Models.RuleParameter;

namespace Loyalty.Sdk.Rules.Benchmarks;

/// <summary>The same profile, as Microsoft RulesEngine reads it (precomputed properties).</summary>
public sealed class Profile
{
    public int Orders90 { get; set; }

    public string Tier { get; set; } = "bronze";

    public double DaysSinceLastOrder { get; set; }

    public bool EmailConsent { get; set; }

    public double NetSpend { get; set; }

    public double WeekendShare { get; set; }

    public double Aov { get; set; }

    public int Orders { get; set; }

    public double ResponseSms { get; set; }

    public double ResponseEmail { get; set; }
}

/// <summary>A customer's window counters for the benchmark: the 90-day order count.</summary>
internal sealed class ProfileWindows : IRuleWindows
{
    public int Orders90 { get; set; }

    public double Aggregate(int series, AggregateKind kind, long fromMs, long nowMs) => Orders90;

    public long NextExpiry(int series, long windowMs, long nowMs) => long.MaxValue;
}

/// <summary>Side by side: the same 5 rules over the same 1,000 profiles, Loyalty.Sdk compiled rules vs RulesEngine.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class RuleEvaluationBenchmarks
{
    private const int Profiles = 1_000;
    private static readonly Instant Now = Instant.FromUtc(2025, 6, 15, 12, 0);

    private static readonly (string Ours, string Theirs)[] Rules =
    [
        ("orders.count(within: 90d) >= 3 and tier in [\"gold\", \"platinum\"] and days_since(last_order) <= 60 and consent(email, marketing)",
         "input1.Orders90 >= 3 AND (input1.Tier == \"gold\" OR input1.Tier == \"platinum\") AND input1.DaysSinceLastOrder <= 60 AND input1.EmailConsent"),
        ("net_spend >= 750 EUR and orders >= 3", "input1.NetSpend >= 750 AND input1.Orders >= 3"),
        ("orders >= 3 and weekend_share >= 0.6 and aov >= 120 EUR", "input1.Orders >= 3 AND input1.WeekendShare >= 0.6 AND input1.Aov >= 120"),
        ("response_sms > response_email * 1.5", "input1.ResponseSms > input1.ResponseEmail * 1.5"),
        ("days_since(last_order) >= 60 and orders >= 2 and not (tier == \"platinum\")", "input1.DaysSinceLastOrder >= 60 AND input1.Orders >= 2 AND NOT (input1.Tier == \"platinum\")"),
    ];

    private CompiledRule[] ours = [];
    private RuleSubject[] subjects = [];
    private RulesEngine.RulesEngine engine = null!;
    private ReParameter[][] inputs = [];
    private long nowMs;

    [GlobalSetup]
    public void Setup()
    {
        var schema = BenchmarkSchema.Create();
        ours = Rules.Select(r => RuleCompiler.Compile(r.Ours, schema)).ToArray();
        var random = new Random(42);
        var profiles = Enumerable.Range(0, Profiles).Select(_ => new Profile
        {
            Orders90 = random.Next(0, 6), Tier = new[] { "bronze", "silver", "gold", "platinum" }[random.Next(4)], DaysSinceLastOrder = random.Next(0, 200),
            EmailConsent = random.NextDouble() < 0.6, NetSpend = random.Next(0, 2000), WeekendShare = random.NextDouble(), Aov = random.Next(20, 300), Orders = random.Next(0, 12),
            ResponseSms = random.NextDouble(), ResponseEmail = random.NextDouble(),
        }).ToArray();
        subjects = profiles.Select(p => BenchmarkSchema.Subject(schema, p, Now)).ToArray();
        nowMs = Now.ToUnixTimeMilliseconds();
        var workflow = new Workflow
        {
            WorkflowName = "segments",
            Rules = Rules.Select((r, i) => new Rule { RuleName = "r" + i, Expression = r.Theirs, RuleExpressionType = RuleExpressionType.LambdaExpression }).ToList(),
        };
        engine = new RulesEngine.RulesEngine([workflow], new ReSettings { CustomTypes = [typeof(Profile)] });
        inputs = profiles.Select(p => new[] { new ReParameter("input1", p) }).ToArray();

        // Both sides must agree on every profile and rule.
        for (var i = 0; i < Profiles; i++)
        {
            var theirs = engine.ExecuteAllRulesAsync("segments", inputs[i]).GetAwaiter().GetResult();
            for (var r = 0; r < Rules.Length; r++)
            {
                if (theirs[r].IsSuccess != ours[r].Evaluate(subjects[i], nowMs))
                {
                    throw new InvalidOperationException($"Rule {r} disagrees on profile {i}: {theirs[r].ExceptionMessage}");
                }
            }
        }
    }

    /// <summary>5,000 evaluations (5 rules × 1,000 profiles) with compiled Loyalty.Sdk rules.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Profiles * 5)]
    public int LoyaltySdk()
    {
        var hits = 0;
        for (var i = 0; i < subjects.Length; i++)
        {
            var s = subjects[i];
            foreach (var rule in ours)
            {
                hits += rule.Evaluate(s, nowMs) ? 1 : 0;
            }
        }

        return hits;
    }

    /// <summary>The same 5,000 evaluations with Microsoft RulesEngine (steady state: workflow compiled and cached).</summary>
    [Benchmark(OperationsPerInvoke = Profiles * 5)]
    public async Task<int> MicrosoftRulesEngine()
    {
        var hits = 0;
        for (var i = 0; i < inputs.Length; i++)
        {
            var results = await engine.ExecuteAllRulesAsync("segments", inputs[i]).ConfigureAwait(false);
            foreach (var r in results)
            {
                hits += r.IsSuccess ? 1 : 0;
            }
        }

        return hits;
    }
}

internal static class BenchmarkSchema
{
    public static RuleSchema Create()
    {
        var schema = new RuleSchema(Currency.Eur);
        schema.AddTrait(new RuleTraitDefinition("tier", RuleType.String, "tier"));
        schema.AddTrait(new RuleTraitDefinition("last_order", RuleType.Timestamp, "last order"));
        schema.AddTrait(new RuleTraitDefinition("net_spend", RuleType.Money, "net spend"));
        schema.AddTrait(new RuleTraitDefinition("aov", RuleType.Money, "aov"));
        schema.AddTrait(new RuleTraitDefinition("orders", RuleType.Number, "orders"));
        schema.AddTrait(new RuleTraitDefinition("weekend_share", RuleType.Number, "weekend share"));
        schema.AddTrait(new RuleTraitDefinition("response_sms", RuleType.Number, "sms"));
        schema.AddTrait(new RuleTraitDefinition("response_email", RuleType.Number, "email"));
        schema.AddTrait(new RuleTraitDefinition("consent", RuleType.Boolean, "consent") { Parameters = [new Loyalty.Sdk.Rules.RuleParameter("channel", ["email", "sms"]), new Loyalty.Sdk.Rules.RuleParameter("purpose", ["marketing"])] });
        schema.AddSource(new RuleSourceDefinition("orders", "orders") { EventKinds = ["order_placed"], ValueType = RuleType.Money });
        return schema;
    }

    public static RuleSubject Subject(RuleSchema schema, Profile p, Instant now)
    {
        int Slot(string name, RuleType type, params string[] args) => schema.Slot(name, args, type).Index;
        var s = new RuleSubject(schema.SlotCount + 16) { Windows = new ProfileWindows { Orders90 = p.Orders90 } };
        s.SetText(Slot("tier", RuleType.String), p.Tier);
        s.SetTimestamp(Slot("last_order", RuleType.Timestamp), now - Duration.FromDays(p.DaysSinceLastOrder));
        s.SetNumber(Slot("net_spend", RuleType.Money), p.NetSpend);
        s.SetNumber(Slot("aov", RuleType.Money), p.Aov);
        s.SetNumber(Slot("orders", RuleType.Number), p.Orders);
        s.SetNumber(Slot("weekend_share", RuleType.Number), p.WeekendShare);
        s.SetNumber(Slot("response_sms", RuleType.Number), p.ResponseSms);
        s.SetNumber(Slot("response_email", RuleType.Number), p.ResponseEmail);
        s.SetFlag(Slot("consent", RuleType.Boolean, "email", "marketing"), p.EmailConsent);
        return s;
    }
}
