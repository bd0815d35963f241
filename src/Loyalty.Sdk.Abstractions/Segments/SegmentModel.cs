using NodaTime;

namespace Loyalty.Sdk.Segments;

/// <summary>A segment of a program: a named rule in the rule language (see <c>docs/rules.md</c>).</summary>
public sealed record SegmentDefinition
{
    /// <summary>The id (lower-case letters, digits and '_'), e.g. <c>at_risk</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Display name.</summary>
    public required string Name { get; init; }

    /// <summary>What it is for.</summary>
    public string? Description { get; init; }

    /// <summary>The rule, e.g. <c>days_since(last_order) &gt;= 60 and orders &gt;= 2</c>.</summary>
    public required string Rule { get; init; }

    /// <summary>Version of the definition; compiled rules are cached by it.</summary>
    public int Version { get; init; } = 1;
}

/// <summary>One bucket of a windowed counter: the events of one hour or one day.</summary>
public struct WindowBucket
{
    /// <summary>Bucket start, Unix milliseconds.</summary>
    public long Start;

    /// <summary>Events.</summary>
    public double Count;

    /// <summary>Sum of values.</summary>
    public double Sum;

    /// <summary>Smallest value.</summary>
    public double Min;

    /// <summary>Largest value.</summary>
    public double Max;
}

/// <summary>The bucketed counters of one window series for one customer: a ring of the non-empty buckets still inside
/// the longest window a live rule uses (older buckets are dropped as new ones arrive).</summary>
public sealed class WindowSeriesState
{
    /// <summary>Non-empty buckets, oldest first.</summary>
    public List<WindowBucket> Buckets { get; init; } = [];

    /// <summary>For distinct counts: each value and the start of the last bucket it was seen in.</summary>
    public Dictionary<string, long>? LastSeen { get; set; }

    /// <summary>A deep copy.</summary>
    public WindowSeriesState Clone() => new() { Buckets = [.. Buckets], LastSeen = LastSeen is null ? null : new Dictionary<string, long>(LastSeen, StringComparer.Ordinal) };
}

/// <summary>The running state behind the computed traits of one customer, maintained in O(1) per event. Channel-indexed
/// arrays use the <see cref="Channel"/> enum's values.</summary>
public sealed class ComputedTraitState
{
    /// <summary>Number of channels in the arrays.</summary>
    public const int Channels = 8;

    /// <summary>Orders placed.</summary>
    public int Orders { get; set; }

    /// <summary>Order value (base currency) of placed orders.</summary>
    public double Monetary { get; set; }

    /// <summary>First order (Unix ms), 0 if none.</summary>
    public long FirstOrderMs { get; set; }

    /// <summary>Last order (Unix ms), 0 if none.</summary>
    public long LastOrderMs { get; set; }

    /// <summary>Intervals between orders observed.</summary>
    public int Intervals { get; set; }

    /// <summary>Mean days between orders.</summary>
    public double MeanIntervalDays { get; set; }

    /// <summary>Recent days between orders (exponentially weighted, α = 0.5).</summary>
    public double RecentIntervalDays { get; set; }

    /// <summary>Orders placed on a Saturday or Sunday (customer's time zone).</summary>
    public int WeekendOrders { get; set; }

    /// <summary>When the customer came back after a long gap (Unix ms), 0 if never.</summary>
    public long ReactivatedAtMs { get; set; }

    /// <summary>Orders per channel.</summary>
    public int[] OrdersByChannel { get; set; } = new int[Channels];

    /// <summary>Messages delivered per channel.</summary>
    public int[] Delivered { get; set; } = new int[Channels];

    /// <summary>Messages opened or clicked per channel.</summary>
    public int[] Responded { get; set; } = new int[Channels];

    /// <summary>Last engagement per channel (Unix ms), 0 if none.</summary>
    public long[] LastEngagementMs { get; set; } = new long[Channels];

    /// <summary>Spend per product category.</summary>
    public Dictionary<string, double> CategorySpend { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A deep copy.</summary>
    public ComputedTraitState Clone() => new()
    {
        Orders = Orders,
        Monetary = Monetary,
        FirstOrderMs = FirstOrderMs,
        LastOrderMs = LastOrderMs,
        Intervals = Intervals,
        MeanIntervalDays = MeanIntervalDays,
        RecentIntervalDays = RecentIntervalDays,
        WeekendOrders = WeekendOrders,
        ReactivatedAtMs = ReactivatedAtMs,
        OrdersByChannel = (int[])OrdersByChannel.Clone(),
        Delivered = (int[])Delivered.Clone(),
        Responded = (int[])Responded.Clone(),
        LastEngagementMs = (long[])LastEngagementMs.Clone(),
        CategorySpend = new Dictionary<string, double>(CategorySpend, StringComparer.Ordinal),
    };
}

/// <summary>What the segmentation capability keeps per customer.</summary>
public sealed class CustomerSegmentState
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; set; }

    /// <summary>When the customer's time-dependent segments must be re-evaluated next (due work), if ever.</summary>
    public Instant? DueAt { get; set; }

    /// <summary>Segments the customer is in, with when they entered.</summary>
    public Dictionary<string, Instant> Memberships { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Window counters by series key.</summary>
    public Dictionary<string, WindowSeriesState> Series { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Computed-trait state.</summary>
    public ComputedTraitState Traits { get; set; } = new();

    /// <summary>A deep copy.</summary>
    public CustomerSegmentState Clone() => new()
    {
        Customer = Customer,
        Version = Version,
        DueAt = DueAt,
        Memberships = new Dictionary<string, Instant>(Memberships, StringComparer.Ordinal),
        Series = Series.ToDictionary(kv => kv.Key, kv => kv.Value.Clone(), StringComparer.Ordinal),
        Traits = Traits.Clone(),
    };
}

/// <summary>One change of membership written by a batch recompute.</summary>
/// <param name="Customer">The customer.</param>
/// <param name="Segment">The segment.</param>
/// <param name="Entered">Entered (true) or exited.</param>
/// <param name="At">When.</param>
public sealed record SegmentMembershipChange(CustomerId Customer, string Segment, bool Entered, Instant At);

/// <summary>The size of a segment at an instant.</summary>
/// <param name="At">When.</param>
/// <param name="Size">Members.</param>
/// <param name="Entered">Entries since the previous point.</param>
/// <param name="Exited">Exits since the previous point.</param>
public sealed record SegmentSizePoint(Instant At, long Size, long Entered, long Exited);

/// <summary>Storage of the segmentation capability, scoped to the session's tenant.</summary>
public interface ISegmentRepository
{
    /// <summary>A customer's state (a copy the caller may change and save).</summary>
    ValueTask<CustomerSegmentState?> GetAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Saves a state with optimistic concurrency (<paramref name="expectedVersion"/> is the version read, 0 for new).</summary>
    ValueTask SaveAsync(CustomerSegmentState state, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Removes the state of a customer absorbed by a merge.</summary>
    ValueTask DeleteAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Customers whose due time is at or before <paramref name="now"/>, earliest first.</summary>
    ValueTask<IReadOnlyList<CustomerId>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims due work for a worker: like <see cref="ListDueAsync"/>, but skips customers another owner holds a live lease
    /// on and leases the ones returned to <paramref name="owner"/> for <paramref name="lease"/>. The claim takes effect
    /// at once, outside the unit of work; saving a claimed state ends the lease, and a lease whose owner crashed lapses. Workers
    /// in several processes claiming at once get disjoint work and never wait for each other.
    /// </summary>
    ValueTask<IReadOnlyList<CustomerId>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default);

    /// <summary>A page of stored states, read-only (for batch recompute; do not change them).</summary>
    ValueTask<IReadOnlyList<CustomerSegmentState>> ListAsync(int skip, int take, CancellationToken cancellationToken = default);

    /// <summary>Customers with state.</summary>
    ValueTask<int> CountAsync(CancellationToken cancellationToken = default);

    /// <summary>Applies membership changes computed by a batch recompute.</summary>
    ValueTask ApplyChangesAsync(IReadOnlyList<SegmentMembershipChange> changes, CancellationToken cancellationToken = default);

    /// <summary>Current members of each segment.</summary>
    ValueTask<IReadOnlyDictionary<string, long>> GetSizesAsync(CancellationToken cancellationToken = default);

    /// <summary>The members of a segment.</summary>
    ValueTask<IReadOnlyList<CustomerId>> ListMembersAsync(string segment, CancellationToken cancellationToken = default);

    /// <summary>Records the current size of every segment at <paramref name="at"/> (size history).</summary>
    ValueTask RecordSizesAsync(Instant at, CancellationToken cancellationToken = default);

    /// <summary>The recorded size history of a segment, oldest first.</summary>
    ValueTask<IReadOnlyList<SegmentSizePoint>> GetSizeHistoryAsync(string segment, CancellationToken cancellationToken = default);
}
