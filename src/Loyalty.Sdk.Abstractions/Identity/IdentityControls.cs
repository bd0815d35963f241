using Loyalty.Sdk.Identity;
using NodaTime;

namespace Loyalty.Sdk.Identity
{
    /// <summary>A value that never links customers in a tenant.</summary>
    /// <param name="Identifier">The normalized identifier.</param>
    /// <param name="Reason">Why it was blocked.</param>
    /// <param name="BlockedAt">When (engine clock).</param>
    /// <param name="Automatic">True when the engine blocked it because it kept linking different customers.</param>
    /// <param name="DistinctCustomers">How many distinct customers it had tried to link when it was blocked.</param>
    public sealed record BlockedValue(Identifier Identifier, string Reason, Instant BlockedAt, bool Automatic, int DistinctCustomers);

    /// <summary>A "do not link again" rule recorded by a split: the two customers are never merged automatically.</summary>
    /// <param name="First">One customer.</param>
    /// <param name="Second">The other.</param>
    /// <param name="Actor">Who split them.</param>
    /// <param name="Reason">Why.</param>
    /// <param name="At">When (engine clock).</param>
    public sealed record DoNotLinkRule(CustomerId First, CustomerId Second, string Actor, string Reason, Instant At);

    /// <summary>The state of a suggested merge in the review queue.</summary>
    public enum MergeReviewStatus
    {
        /// <summary>Waiting for staff.</summary>
        Pending,

        /// <summary>Staff merged the pair.</summary>
        Approved,

        /// <summary>Staff rejected the pair.</summary>
        Rejected,
    }

    /// <summary>A probable duplicate waiting for a person to decide.</summary>
    /// <param name="Left">One customer.</param>
    /// <param name="Right">The other.</param>
    /// <param name="Probability">Match probability.</param>
    /// <param name="Weight">Match weight in bits.</param>
    /// <param name="Explanation">One line per field: level and partial weight.</param>
    /// <param name="QueuedAt">When it was queued.</param>
    public sealed record MergeReview(CustomerId Left, CustomerId Right, double Probability, double Weight, IReadOnlyList<string> Explanation, Instant QueuedAt)
    {
        /// <summary>Pending, approved or rejected.</summary>
        public MergeReviewStatus Status { get; init; }
    }

    /// <summary>
    /// The identity store's controls for one tenant: blocked values (configured ones live in the program; this holds
    /// the per-tenant and automatic blocklist), sharing counts that feed auto-blocking, "do not link again" rules,
    /// the review queue of probable duplicates, and a listing of active customers for batch work.
    /// </summary>
    public interface IIdentityControlRepository
    {
        /// <summary>The block on a normalized identifier, if any, in O(1).</summary>
        ValueTask<BlockedValue?> GetBlockAsync(Identifier identifier, CancellationToken cancellationToken = default);

        /// <summary>Blocks a value.</summary>
        ValueTask BlockAsync(BlockedValue blocked, CancellationToken cancellationToken = default);

        /// <summary>Every blocked value of the tenant.</summary>
        ValueTask<IReadOnlyList<BlockedValue>> ListBlocksAsync(CancellationToken cancellationToken = default);

        /// <summary>Records that <paramref name="identifier"/> tried to link <paramref name="customer"/>; returns the
        /// number of distinct customers it has tried to link so far (counting stops at <paramref name="cap"/>).</summary>
        ValueTask<int> RecordSharingAsync(Identifier identifier, CustomerId customer, int cap, CancellationToken cancellationToken = default);

        /// <summary>Whether a "do not link again" rule separates the two customers, in O(1).</summary>
        ValueTask<bool> IsDoNotLinkAsync(CustomerId first, CustomerId second, CancellationToken cancellationToken = default);

        /// <summary>Records a "do not link again" rule.</summary>
        ValueTask AddDoNotLinkAsync(DoNotLinkRule rule, CancellationToken cancellationToken = default);

        /// <summary>Queues (or replaces) a review of a pair.</summary>
        ValueTask SaveReviewAsync(MergeReview review, CancellationToken cancellationToken = default);

        /// <summary>The review queue, oldest first.</summary>
        ValueTask<IReadOnlyList<MergeReview>> ListReviewsAsync(CancellationToken cancellationToken = default);

        /// <summary>Active (not absorbed) customers' identities as committed, in a stable order, paged.</summary>
        ValueTask<IReadOnlyList<CustomerIdentity>> ListCustomersAsync(int skip, int take, CancellationToken cancellationToken = default);

        /// <summary>GDPR erasure: removes <paramref name="customer"/> from the sharing counts of
        /// <paramref name="identifiers"/> (the values it held) and deletes the "do not link again" rules and merge
        /// reviews that name it. Blocked values stay (they protect everyone). Applied on commit.</summary>
        ValueTask EraseCustomerAsync(CustomerId customer, IReadOnlyList<Identifier> identifiers, CancellationToken cancellationToken = default);
    }
}

namespace Loyalty.Sdk.Storage
{
    /// <summary>The identity controls of a unit of work.</summary>
    public partial interface ILoyaltyStoreSession
    {
        /// <summary>Blocked values, sharing counts, "do not link again" rules, the review queue.</summary>
        IIdentityControlRepository IdentityControls { get; }
    }
}
