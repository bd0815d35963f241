using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using NodaTime;

namespace Loyalty.Sdk.Storage;

/// <summary>
/// The storage port of the engine. A session is one unit of work for one tenant: everything a stage writes through it
/// is applied atomically by <see cref="ILoyaltyStoreSession.CommitAsync"/>, or not at all when the session is disposed
/// without commit. Adapters (in-memory, SQLite, PostgreSQL, your own) implement this and the repositories below.
/// </summary>
public interface ILoyaltyStore
{
    /// <summary>Opens a unit of work for <paramref name="tenant"/>. Sessions of one tenant may be serialized.</summary>
    ValueTask<ILoyaltyStoreSession> OpenSessionAsync(TenantId tenant, CancellationToken cancellationToken = default);

    /// <summary>The outbox as dispatchers see it (claims with leases).</summary>
    IOutboxStore Outbox { get; }
}

/// <summary>
/// A unit of work over one tenant's data. The interface is partial: each capability declares the repository it needs
/// in its own file (e.g. <c>Ledger/ILedgerRepository.cs</c>), so a capability's storage contract lives with it.
/// </summary>
public partial interface ILoyaltyStoreSession : IAsyncDisposable
{
    /// <summary>The tenant of every read and write.</summary>
    TenantId Tenant { get; }

    /// <summary>Ingested event ids.</summary>
    IProcessedEventRepository Events { get; }

    /// <summary>The identity graph.</summary>
    IIdentityRepository Identity { get; }

    /// <summary>Profiles and computed traits.</summary>
    IProfileRepository Profiles { get; }

    /// <summary>Orders, for returns by line.</summary>
    IOrderRepository Orders { get; }

    /// <summary>The decision trail.</summary>
    IDecisionRepository Decisions { get; }

    /// <summary>Outbox writes.</summary>
    IOutboxRepository Outbox { get; }

    /// <summary>Applies every write of the session atomically.</summary>
    /// <exception cref="Validation.ConcurrencyConflictException">Another session changed the same record first.</exception>
    ValueTask CommitAsync(CancellationToken cancellationToken = default);
}

/// <summary>Ingested event ids (the idempotency record of ingestion).</summary>
public interface IProcessedEventRepository
{
    /// <summary>The earlier ingestion of <paramref name="eventId"/>, if any.</summary>
    ValueTask<ProcessedEvent?> FindAsync(EventId eventId, CancellationToken cancellationToken = default);

    /// <summary>Records an ingestion.</summary>
    ValueTask AddAsync(ProcessedEvent processed, CancellationToken cancellationToken = default);

    // --- Erasure (GDPR) ---

    /// <summary>Erasure: forgets which customer the ingested events resolved to (the ids stay, so retries remain
    /// duplicates). Applied on commit.</summary>
    ValueTask AnonymizeCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default);
}

/// <summary>The identity graph: identifiers to customers, with provenance and merges.</summary>
public interface IIdentityRepository
{
    /// <summary>The customer that holds a normalized identifier (not following merges), in O(1).</summary>
    ValueTask<CustomerId?> FindByIdentifierAsync(Identifier identifier, CancellationToken cancellationToken = default);

    /// <summary>A customer's identity record (absorbed customers included).</summary>
    ValueTask<CustomerIdentity?> GetAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Saves an identity and indexes its identifiers to it. <paramref name="expectedVersion"/> is the version
    /// read (0 for a new record); the stored version becomes <c>expectedVersion + 1</c>.</summary>
    ValueTask SaveAsync(CustomerIdentity identity, long expectedVersion, CancellationToken cancellationToken = default);

    // --- Erasure (GDPR) ---

    /// <summary>Erasure: deletes the identity record and every identifier index entry that points to it, so the
    /// identifiers resolve to nobody. Applied on commit.</summary>
    ValueTask EraseAsync(CustomerId customer, CancellationToken cancellationToken = default);
}

/// <summary>Profiles and computed traits.</summary>
public interface IProfileRepository
{
    /// <summary>A customer's profile.</summary>
    ValueTask<CustomerProfile?> GetAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Saves a profile with optimistic concurrency (see <see cref="IIdentityRepository.SaveAsync"/>).</summary>
    ValueTask SaveAsync(CustomerProfile profile, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Removes the profile of a customer absorbed by a merge.</summary>
    ValueTask DeleteAsync(CustomerId customer, CancellationToken cancellationToken = default);
}

/// <summary>Orders known to the engine.</summary>
public interface IOrderRepository
{
    /// <summary>An order by id.</summary>
    ValueTask<OrderRecord?> GetAsync(string orderId, CancellationToken cancellationToken = default);

    /// <summary>Saves an order with optimistic concurrency.</summary>
    ValueTask SaveAsync(OrderRecord order, long expectedVersion, CancellationToken cancellationToken = default);

    // --- Export and erasure (GDPR) ---

    /// <summary>A customer's orders.</summary>
    ValueTask<IReadOnlyList<OrderRecord>> ListByCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Erasure: keeps the customer's orders (accounting) under <paramref name="pseudonym"/>, without the
    /// identifiers they were placed with (<see cref="OrderRecord.Identifiers"/>). Applied on commit.</summary>
    ValueTask AnonymizeCustomerAsync(CustomerId customer, CustomerId pseudonym, CancellationToken cancellationToken = default);
}

/// <summary>The decision trail: every automated decision with its inputs and rule.</summary>
public interface IDecisionRepository
{
    /// <summary>Appends decisions.</summary>
    ValueTask AppendAsync(IReadOnlyList<Decision> decisions, CancellationToken cancellationToken = default);

    /// <summary>A customer's decisions, oldest first, paged.</summary>
    ValueTask<IReadOnlyList<Decision>> ListAsync(CustomerId customer, int skip, int take, CancellationToken cancellationToken = default);

    // --- Erasure (GDPR) ---

    /// <summary>Erasure: deletes a customer's decision trail (inputs hold personal values). Applied on commit.</summary>
    ValueTask DeleteAsync(CustomerId customer, CancellationToken cancellationToken = default);
}

/// <summary>Outbox writes within a session.</summary>
public interface IOutboxRepository
{
    /// <summary>Enqueues a message; a message whose key is already queued is ignored. Returns whether it was added.</summary>
    ValueTask<bool> EnqueueAsync(OutboxMessage message, CancellationToken cancellationToken = default);

    /// <summary>Marks a message claimed by <paramref name="owner"/> delivered, applied on commit together with the
    /// session's other writes (e.g. what a dispatcher counts for the delivery), so that both happen or neither does.
    /// If at commit the message is no longer claimed by <paramref name="owner"/> (another dispatcher claimed it after
    /// the lease ran out, or it was completed), the commit fails with
    /// <see cref="Validation.ConcurrencyConflictException"/> and nothing is applied.</summary>
    ValueTask CompleteAsync(string key, string owner, CancellationToken cancellationToken = default);

    // --- Erasure (GDPR) ---

    /// <summary>Erasure: drops the customer's undelivered messages. Applied on commit.</summary>
    ValueTask CancelForCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default);
}

/// <summary>The outbox as dispatchers see it.</summary>
public interface IOutboxStore
{
    /// <summary>Claims up to <paramref name="max"/> messages due at <paramref name="now"/> that nobody holds a live
    /// lease on, oldest due first, leasing them to <paramref name="owner"/> for <paramref name="lease"/>.</summary>
    ValueTask<IReadOnlyList<OutboxClaim>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default);

    /// <summary>Marks a claimed message delivered; it will never be claimed again.</summary>
    ValueTask CompleteAsync(TenantId tenant, string key, string owner, CancellationToken cancellationToken = default);

    /// <summary>Releases a claimed message for another attempt at <paramref name="retryAt"/>.</summary>
    ValueTask RetryAsync(TenantId tenant, string key, string owner, Instant retryAt, CancellationToken cancellationToken = default);

    /// <summary>Messages not yet delivered, for monitoring.</summary>
    ValueTask<int> CountPendingAsync(TenantId tenant, CancellationToken cancellationToken = default);
}
