using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>
/// The ledger's application API for the host: commands (earn, redeem, reserve, capture, release, reverse, adjust,
/// expire, member transfer, convert, activate, tier override), due work, and queries. Each command runs in its own
/// unit of work, is idempotent by its key, and is applied whole or not at all.
/// </summary>
public interface ILedgerService
{
    /// <summary>Runs a command now (engine clock). A retry with the same key returns the original result
    /// (<see cref="LedgerResult.Replayed"/>).</summary>
    /// <exception cref="LedgerException">Refused (typed: insufficient points, unknown entity, reservation state,
    /// idempotency conflict, overflow); nothing was applied.</exception>
    /// <exception cref="LedgerValidationException">Invalid input, with paths.</exception>
    ValueTask<LedgerResult> ExecuteAsync(TenantId tenant, LedgerCommand command, CancellationToken cancellationToken = default);

    /// <summary>Does what is due at <paramref name="now"/> (expiry, activation, reservation timeouts, notices, tier
    /// reviews) for up to <paramref name="maxCustomers"/> customers; call again while <see cref="DueWorkResult.More"/>.</summary>
    ValueTask<DueWorkResult> RunDueWorkAsync(TenantId tenant, Instant now, int maxCustomers = 10_000, CancellationToken cancellationToken = default);

    /// <summary>Balances by currency (available, pending, reserved, lifetime earned).</summary>
    ValueTask<IReadOnlyList<LedgerBalance>> GetBalancesAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>The customer's statement, oldest first, with reasons.</summary>
    ValueTask<IReadOnlyList<StatementLine>> GetStatementAsync(TenantId tenant, CustomerId customer, int skip = 0, int take = 50, CancellationToken cancellationToken = default);

    /// <summary>Lots with points left, soonest expiry first.</summary>
    ValueTask<IReadOnlyList<LedgerLot>> GetLotsAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>The tier, what it takes to reach the next one and to keep this one, and the tier history.</summary>
    ValueTask<TierProgress> GetTierAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>The program's liability per currency: flows, outstanding points by expiry month and their value,
    /// redemption rate and average time to redeem.</summary>
    ValueTask<IReadOnlyList<LedgerLiability>> GetLiabilityAsync(TenantId tenant, CancellationToken cancellationToken = default);

    /// <summary>Proves the books: every currency sums to zero over all accounts, and every hot balance, lot and
    /// program account equals the fold of the journal.</summary>
    ValueTask<ReconciliationReport> ReconcileAsync(TenantId tenant, CancellationToken cancellationToken = default);

    /// <summary>Dry run: what <paramref name="order"/> would earn for <paramref name="customer"/> (tier, caps, first
    /// purchase) without writing anything.</summary>
    ValueTask<EarningEvaluation> EvaluateOrderAsync(TenantId tenant, OrderPlaced order, CustomerId? customer = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// Sees the signals the ledger raises outside ingestion, from due work (points expiring soon, reservations expired,
/// tier reviews) and from commands (<see cref="ILedgerService.ExecuteAsync"/>, e.g. a tier override), for one customer at
/// a time, inside the ledger's own unit of work: what an observer writes through <see cref="LedgerSignalContext.Session"/>
/// commits with the ledger's changes or not at all. Data flows one way, from the ledger to the observer (journeys
/// register one); the ledger does not depend on what observers do. Signals raised during ingestion are not passed here:
/// the ingest pipeline records them as decisions.
/// </summary>
public interface ILedgerSignalObserver
{
    /// <summary>Called once per customer whose due work or command raised signals, before the unit of work commits.</summary>
    ValueTask OnSignalsAsync(LedgerSignalContext signals, CancellationToken cancellationToken = default);
}

/// <summary>One customer's signals from due work or a command, and the unit of work they were raised in.</summary>
public sealed record LedgerSignalContext
{
    /// <summary>The unit of work of the due-work page or the command (not committed yet).</summary>
    public required Storage.ILoyaltyStoreSession Session { get; init; }

    /// <summary>The tenant's program.</summary>
    public required Programs.LoyaltyProgram Program { get; init; }

    /// <summary>The tenant.</summary>
    public required TenantId Tenant { get; init; }

    /// <summary>The instant the due work ran for, or the command's time.</summary>
    public required Instant Now { get; init; }

    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The signals, in the order raised.</summary>
    public required IReadOnlyList<LedgerSignal> Signals { get; init; }
}
