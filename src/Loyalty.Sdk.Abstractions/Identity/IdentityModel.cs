using NodaTime;

namespace Loyalty.Sdk.Identity;

/// <summary>Why an identifier belongs to a customer: which event brought it, when, and under which rule.</summary>
/// <param name="Identifier">The normalized identifier.</param>
/// <param name="Source">The event that linked it.</param>
/// <param name="LinkedAt">When it was linked (engine clock).</param>
/// <param name="Rule">The rule that linked it, e.g. <c>identity.new_customer</c> or <c>identity.co_occurrence</c>.</param>
public sealed record IdentityLink(Identifier Identifier, EventId Source, Instant LinkedAt, string Rule);

/// <summary>
/// The provenance of the graph's edges: one event (or staff or probabilistic merge) that tied identifiers of a
/// customer together. The identifiers of one record are connected to each other; a split replays these records
/// without the removed identifier to find which identifiers still belong together.
/// </summary>
/// <param name="Source">The event that carried them together (for a staff or probabilistic merge, the synthetic
/// operation id).</param>
/// <param name="Identifiers">The normalized identifiers it tied together (at least two).</param>
/// <param name="At">When (engine clock).</param>
/// <param name="Rule">The rule: <c>identity.new_customer</c>, <c>identity.co_occurrence</c>,
/// <c>identity.merge_on_shared_event</c>, or the rule of a staff or probabilistic merge.</param>
public sealed record LinkEvidence(EventId Source, IReadOnlyList<Identifier> Identifiers, Instant At, string Rule);

/// <summary>A merge: <paramref name="Absorbed"/> was merged into <paramref name="Survivor"/>.</summary>
/// <param name="Absorbed">The customer absorbed.</param>
/// <param name="Survivor">The surviving customer.</param>
/// <param name="Source">The event that caused it.</param>
/// <param name="MergedAt">When (engine clock).</param>
/// <param name="Rule">The rule that merged them.</param>
public sealed record MergeRecord(CustomerId Absorbed, CustomerId Survivor, EventId Source, Instant MergedAt, string Rule)
{
    /// <summary>The identifiers the absorbed customer held when it was absorbed (what an unmerge gives back).</summary>
    public IReadOnlyList<IdentityLink> AbsorbedLinks { get; init; } = [];

    /// <summary>The absorbed customer's first seen when it was absorbed.</summary>
    public Instant? AbsorbedFirstSeen { get; init; }

    /// <summary>The merges the absorbed customer carried (customers it had absorbed before).</summary>
    public IReadOnlyList<MergeRecord> AbsorbedMerges { get; init; } = [];

    /// <summary>The absorbed customer's profile and traits as they were when it was absorbed, kept so that an
    /// unmerge can restore it and subtract it from the survivor.</summary>
    public Profiles.CustomerProfile? AbsorbedProfile { get; init; }

    /// <summary>Who asked for the merge when staff or a service did (<c>null</c> for the ingest pipeline).</summary>
    public string? Actor { get; init; }
}

/// <summary>Why a customer was split: an identifier removed or a merge undone by staff.</summary>
/// <param name="SplitOff">The customer that now holds the removed identifiers.</param>
/// <param name="Identifiers">The identifiers that left.</param>
/// <param name="Kind"><c>split</c> (an identifier removed) or <c>unmerge</c> (a merge marked wrong).</param>
/// <param name="Actor">Who did it.</param>
/// <param name="Reason">Why, in their words.</param>
/// <param name="At">When (engine clock).</param>
public sealed record SplitRecord(CustomerId SplitOff, IReadOnlyList<Identifier> Identifiers, string Kind, string Actor, string Reason, Instant At)
{
    /// <summary>For a split, the identifier staff removed (it may have taken other identifiers that were connected to
    /// the customer only through it along to other new customers); <c>null</c> for an unmerge and for records written
    /// before splits replayed the graph.</summary>
    public Identifier? Removed { get; init; }
}

/// <summary>A staff protection: the customer is never merged with another automatically.</summary>
/// <param name="Actor">Who protected the profile.</param>
/// <param name="Reason">Why.</param>
/// <param name="At">When (engine clock).</param>
public sealed record ProtectionRecord(string Actor, string Reason, Instant At);

/// <summary>The identity of one customer: their identifiers with provenance and their merge history.</summary>
public sealed record CustomerIdentity
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>When first seen; on a merge the earliest first seen survives.</summary>
    public required Instant FirstSeen { get; init; }

    /// <summary>The identifiers and why each belongs here.</summary>
    public IReadOnlyList<IdentityLink> Links { get; init; } = [];

    /// <summary>The events (and staff or probabilistic merges) that tied this customer's identifiers together: the
    /// edges of the identity graph, replayed by a split. An event whose identifiers were all already held by this
    /// customer adds nothing.</summary>
    public IReadOnlyList<LinkEvidence> Evidence { get; init; } = [];

    /// <summary>Customers merged into this one.</summary>
    public IReadOnlyList<MergeRecord> Merges { get; init; } = [];

    /// <summary>Splits of this customer (identifiers removed, merges undone).</summary>
    public IReadOnlyList<SplitRecord> Splits { get; init; } = [];

    /// <summary>Set when staff protected the customer from merging.</summary>
    public ProtectionRecord? Protection { get; init; }

    /// <summary>Set when this customer was absorbed: anything keyed by this id resolves to that survivor.</summary>
    public CustomerId? MergedInto { get; init; }

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; init; }
}
