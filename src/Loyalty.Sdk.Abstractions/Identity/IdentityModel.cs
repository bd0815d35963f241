using NodaTime;

namespace Loyalty.Sdk.Identity;

/// <summary>Why an identifier belongs to a customer: which event brought it, when, and under which rule.</summary>
/// <param name="Identifier">The normalized identifier.</param>
/// <param name="Source">The event that linked it.</param>
/// <param name="LinkedAt">When it was linked (engine clock).</param>
/// <param name="Rule">The rule that linked it, e.g. <c>identity.new_customer</c> or <c>identity.co_occurrence</c>.</param>
public sealed record IdentityLink(Identifier Identifier, EventId Source, Instant LinkedAt, string Rule);

/// <summary>A merge: <paramref name="Absorbed"/> was merged into <paramref name="Survivor"/>.</summary>
/// <param name="Absorbed">The customer absorbed.</param>
/// <param name="Survivor">The surviving customer.</param>
/// <param name="Source">The event that caused it.</param>
/// <param name="MergedAt">When (engine clock).</param>
/// <param name="Rule">The rule that merged them.</param>
public sealed record MergeRecord(CustomerId Absorbed, CustomerId Survivor, EventId Source, Instant MergedAt, string Rule);

/// <summary>The identity of one customer: their identifiers with provenance and their merge history.</summary>
public sealed record CustomerIdentity
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>When first seen; on a merge the earliest first seen survives.</summary>
    public required Instant FirstSeen { get; init; }

    /// <summary>The identifiers and why each belongs here.</summary>
    public IReadOnlyList<IdentityLink> Links { get; init; } = [];

    /// <summary>Customers merged into this one.</summary>
    public IReadOnlyList<MergeRecord> Merges { get; init; } = [];

    /// <summary>Set when this customer was absorbed: anything keyed by this id resolves to that survivor.</summary>
    public CustomerId? MergedInto { get; init; }

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; init; }
}
