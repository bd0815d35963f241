using NodaTime;

namespace Loyalty.Sdk.Rules;

/// <summary>The types of the rule language. Every value except a boolean may be null.</summary>
public enum RuleType
{
    /// <summary>The type of an expression that did not type-check (suppresses follow-up errors).</summary>
    Error,

    /// <summary>The <c>null</c> literal.</summary>
    Null,

    /// <summary><c>true</c> or <c>false</c> (never null: unknown reads as false).</summary>
    Boolean,

    /// <summary>A number.</summary>
    Number,

    /// <summary>Text.</summary>
    String,

    /// <summary>Money in the schema's base currency.</summary>
    Money,

    /// <summary>A length of time (<c>90d</c>).</summary>
    Duration,

    /// <summary>A calendar date (in the customer's time zone).</summary>
    Date,

    /// <summary>An instant.</summary>
    Timestamp,
}

/// <summary>A parameter of a parameterized trait, e.g. the channel of <c>reachable(sms)</c>.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Values">The symbols it accepts (null: any string).</param>
public sealed record RuleParameter(string Name, IReadOnlyList<string>? Values = null);

/// <summary>A trait a rule may read: a profile field, a computed trait, a predictive score, consent…</summary>
/// <param name="Name">The name in rules (lower-case snake_case).</param>
/// <param name="Type">The type.</param>
/// <param name="Description">What it means, for people and rule-builder UIs.</param>
public sealed record RuleTraitDefinition(string Name, RuleType Type, string Description)
{
    /// <summary>Parameters; a parameterized trait is written like a call: <c>consent(email, marketing)</c>.</summary>
    public IReadOnlyList<RuleParameter> Parameters { get; init; } = [];

    /// <summary>Whether the value changes with time alone (e.g. a lifecycle stage); the host then reports until when
    /// a value holds (<see cref="RuleSubject.Expires"/>).</summary>
    public bool TimeDependent { get; init; }

    /// <summary>The event kinds that can change the value; empty means any event.</summary>
    public IReadOnlyList<string> ChangedBy { get; init; } = [];
}

/// <summary>A stream of events that rules aggregate over time windows, e.g. <c>orders</c>.</summary>
/// <param name="Name">The name in rules.</param>
/// <param name="Description">What it counts.</param>
public sealed record RuleSourceDefinition(string Name, string Description)
{
    /// <summary>The event kinds that feed it.</summary>
    public IReadOnlyList<string> EventKinds { get; init; } = [];

    /// <summary>The type of the value summed/averaged (<see cref="RuleType.Money"/> or <see cref="RuleType.Number"/>);
    /// null when events have no value (only <c>count</c>, <c>distinct</c>, <c>any</c>, <c>none</c>).</summary>
    public RuleType? ValueType { get; init; }

    /// <summary>Properties events can be filtered by (and counted distinct), with their allowed values (null: any).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>?> Filters { get; init; } = new Dictionary<string, IReadOnlyList<string>?>();
}

/// <summary>One value slot of a <see cref="RuleSubject"/>: a trait with its arguments (segment memberships use the
/// trait name <see cref="RuleSchema.SegmentTrait"/>).</summary>
/// <param name="Index">The index in the subject's arrays.</param>
/// <param name="Trait">The trait.</param>
/// <param name="Arguments">Its arguments.</param>
/// <param name="Type">Its type.</param>
public sealed record RuleSlot(int Index, string Trait, IReadOnlyList<string> Arguments, RuleType Type);

/// <summary>What an aggregate computes over a window.</summary>
public enum AggregateKind
{
    /// <summary>Events.</summary>
    Count,

    /// <summary>Sum of values.</summary>
    Sum,

    /// <summary>Average value.</summary>
    Avg,

    /// <summary>Smallest value.</summary>
    Min,

    /// <summary>Largest value.</summary>
    Max,

    /// <summary>Distinct values of a property.</summary>
    Distinct,
}

/// <summary>A series of bucketed counters a host keeps per customer so that windowed aggregates are O(1) to maintain:
/// events of <see cref="Source"/> matching <see cref="Filters"/>, bucketed by <see cref="Bucket"/>.</summary>
/// <param name="Id">The series id (index).</param>
/// <param name="Source">The event source.</param>
/// <param name="Filters">Property = value filters, sorted by property.</param>
/// <param name="DistinctProperty">The property counted distinct, if any.</param>
/// <param name="Bucket">The bucket width (1 hour for windows under 2 days, else 1 day).</param>
public sealed record WindowSeries(int Id, string Source, IReadOnlyList<KeyValuePair<string, string>> Filters, string? DistinctProperty, Duration Bucket)
{
    /// <summary>A stable key, e.g. <c>orders|category=shoes|1d</c>.</summary>
    public string Key { get; } = SeriesKey(Source, Filters, DistinctProperty, Bucket);

    internal static string SeriesKey(string source, IEnumerable<KeyValuePair<string, string>> filters, string? distinct, Duration bucket) =>
        string.Join('|', new[] { source }.Concat(filters.Select(f => $"{f.Key}={f.Value}")).Concat(distinct is null ? [] : ["distinct=" + distinct]).Append(bucket == Duration.FromHours(1) ? "1h" : "1d"));
}

/// <summary>
/// What rules can refer to: the traits (with types), the event sources, the segments, and the base currency. Hosts and
/// capabilities register their own traits (e.g. predictive scores). The schema also numbers the value slots and window
/// series that compiled rules use; it is thread-safe.
/// </summary>
public sealed class RuleSchema
{
    /// <summary>The trait name of segment-membership slots.</summary>
    public const string SegmentTrait = "@segment";

    private readonly Dictionary<string, RuleTraitDefinition> traits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RuleSourceDefinition> sources = new(StringComparer.Ordinal);
    private readonly HashSet<string> segments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RuleSlot> slotIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WindowSeries> seriesIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<int, Duration> retention = [];
    private readonly Lock gate = new();
    private RuleSlot[] slots = [];
    private WindowSeries[] series = [];

    /// <summary>Creates a schema.</summary>
    /// <param name="baseCurrency">The currency of money traits.</param>
    /// <param name="exchangeRates">Rates to convert money literals of other currencies (1 unit = rate base units).</param>
    public RuleSchema(Currency baseCurrency, IReadOnlyDictionary<string, decimal>? exchangeRates = null)
    {
        BaseCurrency = baseCurrency;
        ExchangeRates = exchangeRates ?? new Dictionary<string, decimal>();
    }

    /// <summary>The currency of money values.</summary>
    public Currency BaseCurrency { get; }

    /// <summary>Rates for money literals in other currencies.</summary>
    public IReadOnlyDictionary<string, decimal> ExchangeRates { get; }

    /// <summary>The traits.</summary>
    public IReadOnlyDictionary<string, RuleTraitDefinition> Traits => traits;

    /// <summary>The event sources.</summary>
    public IReadOnlyDictionary<string, RuleSourceDefinition> Sources => sources;

    /// <summary>Segment ids rules may refer to with <c>in_segment("id")</c>.</summary>
    public IReadOnlyCollection<string> Segments => segments;

    /// <summary>The value slots allocated so far (a subject needs <see cref="SlotCount"/> of them).</summary>
    public IReadOnlyList<RuleSlot> Slots => Volatile.Read(ref slots);

    /// <summary>Number of slots.</summary>
    public int SlotCount => Volatile.Read(ref slots).Length;

    /// <summary>The window series allocated so far.</summary>
    public IReadOnlyList<WindowSeries> Series => Volatile.Read(ref series);

    /// <summary>Adds or replaces a trait (a later registration of a name wins).</summary>
    public RuleSchema AddTrait(RuleTraitDefinition trait)
    {
        ArgumentNullException.ThrowIfNull(trait);
        lock (gate)
        {
            traits[trait.Name] = trait;
        }

        return this;
    }

    /// <summary>Adds or replaces an event source.</summary>
    public RuleSchema AddSource(RuleSourceDefinition source)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (gate)
        {
            sources[source.Name] = source;
        }

        return this;
    }

    /// <summary>Declares a segment id.</summary>
    public RuleSchema AddSegment(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (gate)
        {
            segments.Add(id);
        }

        return this;
    }

    /// <summary>The longest window any compiled rule uses on <paramref name="seriesId"/> (how long its buckets must be kept).</summary>
    public Duration Retention(int seriesId)
    {
        lock (gate)
        {
            return retention.GetValueOrDefault(seriesId, Duration.FromDays(1));
        }
    }

    /// <summary>The slot of a trait with arguments, allocated on first use.</summary>
    public RuleSlot Slot(string trait, IReadOnlyList<string> arguments, RuleType type)
    {
        ArgumentNullException.ThrowIfNull(trait);
        ArgumentNullException.ThrowIfNull(arguments);
        var key = arguments.Count == 0 ? trait : trait + "(" + string.Join(',', arguments) + ")";
        lock (gate)
        {
            if (!slotIndex.TryGetValue(key, out var slot))
            {
                slot = new RuleSlot(slots.Length, trait, arguments.ToArray(), type);
                slotIndex[key] = slot;
                Volatile.Write(ref slots, [.. slots, slot]);
            }

            return slot;
        }
    }

    internal WindowSeries SeriesFor(string source, IReadOnlyList<KeyValuePair<string, string>> filters, string? distinct, Duration window)
    {
        var bucket = window < Duration.FromDays(2) ? Duration.FromHours(1) : Duration.FromDays(1);
        var key = WindowSeries.SeriesKey(source, filters, distinct, bucket);
        lock (gate)
        {
            if (!seriesIndex.TryGetValue(key, out var s))
            {
                s = new WindowSeries(series.Length, source, filters, distinct, bucket);
                seriesIndex[key] = s;
                Volatile.Write(ref series, [.. series, s]);
            }

            if (window + bucket > retention.GetValueOrDefault(s.Id))
            {
                retention[s.Id] = window + bucket;
            }

            return s;
        }
    }
}
