using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Rules.Tests;

/// <summary>A small schema and subject for language tests.</summary>
internal sealed class TestWindows : IRuleWindows
{
    public Dictionary<int, List<(long At, double Value)>> Events { get; } = [];

    public void Add(int series, Instant at, double value = 1)
    {
        if (!Events.TryGetValue(series, out var list))
        {
            Events[series] = list = [];
        }

        list.Add((at.ToUnixTimeMilliseconds(), value));
    }

    public double Aggregate(int series, AggregateKind kind, long fromMs, long nowMs)
    {
        var values = Events.TryGetValue(series, out var l) ? l.Where(e => e.At > fromMs && e.At <= nowMs).Select(e => e.Value).ToList() : [];
        return kind switch
        {
            AggregateKind.Count or AggregateKind.Distinct => values.Count,
            AggregateKind.Sum => values.Sum(),
            AggregateKind.Avg => values.Count == 0 ? double.NaN : values.Average(),
            AggregateKind.Min => values.Count == 0 ? double.NaN : values.Min(),
            _ => values.Count == 0 ? double.NaN : values.Max(),
        };
    }

    public long NextExpiry(int series, long windowMs, long nowMs) =>
        Events.TryGetValue(series, out var l) && l.Where(e => e.At > nowMs - windowMs).Select(e => e.At + windowMs).DefaultIfEmpty(long.MaxValue).Min() is var m ? m : long.MaxValue;
}

internal static class TestSchema
{
    public static readonly string[] Channels = ["email", "sms", "push", "web", "app", "pos"];

    public static RuleSchema Create()
    {
        var schema = new RuleSchema(Currency.Eur, new Dictionary<string, decimal> { ["USD"] = 0.9m });
        schema.AddTrait(new RuleTraitDefinition("tier", RuleType.String, "Loyalty tier"));
        schema.AddTrait(new RuleTraitDefinition("last_order", RuleType.Timestamp, "Last order"));
        schema.AddTrait(new RuleTraitDefinition("birth_date", RuleType.Date, "Birth date"));
        schema.AddTrait(new RuleTraitDefinition("net_spend", RuleType.Money, "Net spend"));
        schema.AddTrait(new RuleTraitDefinition("orders", RuleType.Number, "Orders"));
        schema.AddTrait(new RuleTraitDefinition("lifecycle_stage", RuleType.String, "Lifecycle") { TimeDependent = true });
        schema.AddTrait(new RuleTraitDefinition("consent", RuleType.Boolean, "Consent") { Parameters = [new("channel", Channels), new("purpose", ["marketing", "profiling"])] });
        schema.AddTrait(new RuleTraitDefinition("response_rate", RuleType.Number, "Response rate") { Parameters = [new("channel", Channels)] });
        schema.AddSource(new RuleSourceDefinition("orders_placed", "Orders") { EventKinds = ["order_placed"], ValueType = RuleType.Money, Filters = new Dictionary<string, IReadOnlyList<string>?> { ["category"] = null, ["channel"] = Channels } });
        schema.AddSource(new RuleSourceDefinition("visits", "Visits") { EventKinds = ["interaction"], Filters = new Dictionary<string, IReadOnlyList<string>?> { ["channel"] = Channels } });
        schema.AddSegment("vip");
        return schema;
    }

    public static RuleSubject Subject(RuleSchema schema, Action<Func<string, string[], int>> fill)
    {
        var subject = new RuleSubject(schema.SlotCount);
        fill((trait, args) => schema.Slot(trait, args, schema.Traits.TryGetValue(trait, out var t) ? t.Type : RuleType.Boolean).Index);
        subject.EnsureCapacity(schema.SlotCount);
        return subject;
    }
}
