using Loyalty.Sdk.Pipeline;
using NodaTime;

namespace Loyalty.Sdk.Identity;

/// <summary>What an identity operation of staff changed.</summary>
/// <param name="Customer">The customer operated on (the survivor of a merge or split).</param>
/// <param name="Other">The other customer: split off, unmerged or absorbed.</param>
/// <param name="Identifiers">The identifiers that moved.</param>
/// <param name="Decisions">The decisions recorded.</param>
public sealed record IdentityOperationResult(CustomerId Customer, CustomerId Other, IReadOnlyList<Identifier> Identifiers, IReadOnlyList<Decision> Decisions)
{
    /// <summary>For a split, every customer split off (<see cref="Other"/>, the removed identifier's, is the last);
    /// for an unmerge, the absorbed customer; empty otherwise.</summary>
    public IReadOnlyList<CustomerId> SplitOff { get; init; } = [];
}

/// <summary>Where one identifier of a customer came from.</summary>
/// <param name="Identifier">The identifier.</param>
/// <param name="Source">The event that linked it.</param>
/// <param name="Rule">The rule that linked it.</param>
/// <param name="LinkedAt">When.</param>
/// <param name="ViaMergeOf">The absorbed customer it came with, when it arrived through a merge.</param>
public sealed record IdentifierProvenance(Identifier Identifier, EventId Source, string Rule, Instant LinkedAt, CustomerId? ViaMergeOf);

/// <summary>Everything that explains a customer's identity.</summary>
public sealed record CustomerExplanation
{
    /// <summary>The customer (an absorbed id is followed to its survivor).</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>When first seen.</summary>
    public required Instant FirstSeen { get; init; }

    /// <summary>The identifiers and where each came from.</summary>
    public IReadOnlyList<IdentifierProvenance> Identifiers { get; init; } = [];

    /// <summary>The merges into this customer.</summary>
    public IReadOnlyList<MergeRecord> Merges { get; init; } = [];

    /// <summary>The splits of this customer.</summary>
    public IReadOnlyList<SplitRecord> Splits { get; init; } = [];

    /// <summary>The staff protection, if any.</summary>
    public ProtectionRecord? Protection { get; init; }

    /// <summary>Links and merges refused for this customer (limits, protection, "do not link again", blocked values).</summary>
    public IReadOnlyList<Decision> Refusals { get; init; } = [];
}

/// <summary>
/// Staff operations on the identity graph: protect a customer from merging, remove an identifier, undo a wrong merge,
/// merge two customers, and explain a customer. Every operation is atomic (typed error, nothing changed) and audited
/// (decisions with actor and reason).
/// </summary>
public interface IIdentityService
{
    /// <summary>Protects a customer: no merge involving it happens automatically any more.</summary>
    /// <exception cref="IdentityOperationException">Unknown customer or empty actor/reason.</exception>
    ValueTask<IdentityOperationResult> ProtectAsync(TenantId tenant, CustomerId customer, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Removes <paramref name="identifier"/> from <paramref name="customer"/> by replaying the customer's
    /// graph (the recorded <see cref="CustomerIdentity.Evidence"/>) without it: the connected component holding the
    /// customer's earliest remaining identifier stays; the removed identifier and every other component become new
    /// customers (ids derived from the customer and the component, so a replay yields the same ids), "do not link
    /// again" rules separate all of them, merged customers' ids redirect to where their identifiers went, and every
    /// capability is told once per new customer (<c>ICustomerSplitParticipant</c>). Repeating a split that was done
    /// changes nothing and returns its outcome again.</summary>
    /// <exception cref="IdentityOperationException">Unknown customer, an identifier the customer does not hold, the
    /// customer's last identifier, or empty actor/reason; nothing changed.</exception>
    ValueTask<IdentityOperationResult> SplitAsync(TenantId tenant, CustomerId customer, Identifier identifier, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Undoes the merge of <paramref name="absorbed"/> into <paramref name="survivor"/>: the absorbed
    /// customer comes back with the identifiers it brought and its profile snapshot, and a "do not link again" rule
    /// keeps them apart.</summary>
    /// <exception cref="IdentityOperationException">No such merge, or empty actor/reason; nothing changed.</exception>
    ValueTask<IdentityOperationResult> UnmergeAsync(TenantId tenant, CustomerId survivor, CustomerId absorbed, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Merges <paramref name="absorbed"/> into <paramref name="survivor"/> through the same merge path as
    /// ingestion (participants consolidate, the merge is reversible) under <paramref name="rule"/>.</summary>
    /// <exception cref="IdentityOperationException">Unknown or identical customers, a protected customer, a "do not
    /// link again" rule, or a broken limit; nothing changed.</exception>
    ValueTask<IdentityOperationResult> MergeAsync(TenantId tenant, CustomerId survivor, CustomerId absorbed, string rule, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Explains a customer: identifiers with provenance, merges, splits, protection, refusals.</summary>
    /// <exception cref="IdentityOperationException">Unknown customer.</exception>
    ValueTask<CustomerExplanation> ExplainAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Every blocked value of the tenant (configured in the store or blocked automatically).</summary>
    ValueTask<IReadOnlyList<BlockedValue>> ListBlockedValuesAsync(TenantId tenant, CancellationToken cancellationToken = default);
}

/// <summary>An identity operation was refused; nothing changed.</summary>
public sealed class IdentityOperationException : Validation.LoyaltyException
{
    /// <summary>Creates the exception.</summary>
    public IdentityOperationException(string code, string message)
        : base(message) => Code = code;

    /// <summary>Creates the exception.</summary>
    public IdentityOperationException()
        : this("invalid", "The identity operation was refused.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public IdentityOperationException(string message)
        : this("invalid", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public IdentityOperationException(string message, Exception innerException)
        : base(message, innerException) => Code = "invalid";

    /// <summary>A stable code: <c>unknown_customer</c>, <c>identifier_not_held</c>, <c>last_identifier</c>,
    /// <c>not_merged</c>, <c>same_customer</c>, <c>protected</c>, <c>do_not_link</c>, <c>limit</c>,
    /// <c>invalid_identifier</c>, <c>required</c>.</summary>
    public string Code { get; } = "invalid";
}
