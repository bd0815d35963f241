using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>A stored command: its content (to detect a reused key) and its result (returned to a retry).</summary>
/// <param name="Command">The command.</param>
/// <param name="Result">What it did.</param>
public sealed record LedgerCommandRecord(LedgerCommand Command, LedgerResult Result);

/// <summary>What the ledger remembers of an order: the points it earned (by line) and what returns did since.</summary>
public sealed record LedgerOrder
{
    /// <summary>The order's id.</summary>
    public required string OrderId { get; init; }

    /// <summary>The customer who earned on it (followed through merges).</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The currency earned.</summary>
    public required string Ledger { get; init; }

    /// <summary>Points posted.</summary>
    public long Points { get; init; }

    /// <summary>Points by line id.</summary>
    public IReadOnlyDictionary<string, long> PointsByLine { get; init; } = new Dictionary<string, long>();

    /// <summary>Units by line id.</summary>
    public IReadOnlyDictionary<string, int> QuantityByLine { get; init; } = new Dictionary<string, int>();

    /// <summary>Units returned or cancelled so far, by line id.</summary>
    public IReadOnlyDictionary<string, int> ReturnedByLine { get; init; } = new Dictionary<string, int>();

    /// <summary>Points clawed back (collected or recorded as shortfall) so far.</summary>
    public long ClawedBack { get; init; }

    /// <summary>Points paid for the order.</summary>
    public long PointsRedeemed { get; init; }

    /// <summary>Points paid that were given back so far.</summary>
    public long PointsRefunded { get; init; }

    /// <summary>Qualifying spend posted.</summary>
    public decimal Spend { get; init; }

    /// <summary>The lots created.</summary>
    public IReadOnlyList<string> Lots { get; init; } = [];

    /// <summary>When it was placed.</summary>
    public Instant PlacedAt { get; init; }

    /// <summary>When it was completed.</summary>
    public Instant? CompletedAt { get; init; }

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; init; }
}

/// <summary>A program account of one currency, TigerBeetle-style: debits and credits posted so far.</summary>
/// <param name="Ledger">The currency.</param>
/// <param name="Account">The program account.</param>
/// <param name="DebitsPosted">Points debited from it.</param>
/// <param name="CreditsPosted">Points credited to it.</param>
public sealed record ProgramAccountBalance(string Ledger, AccountKind Account, long DebitsPosted, long CreditsPosted)
{
    /// <summary>Credits − debits.</summary>
    public long Balance => CreditsPosted - DebitsPosted;
}

/// <summary>
/// The ledger's storage port. Writes join the session's unit of work. Customer states carry a version: a write states
/// the version it read and the commit fails with <see cref="Validation.ConcurrencyConflictException"/> when another
/// session changed that customer first. Program accounts are updated by commutative increments (no version).
/// </summary>
public interface ILedgerRepository
{
    /// <summary>A working copy of the customer's state (null when they never had an entry). Changes to it are kept
    /// only through <see cref="SaveAsync"/>.</summary>
    ValueTask<CustomerLedger?> GetAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Saves the state after the engine applied <paramref name="transfers"/> to it; appends the transfers to
    /// the journal and the program accounts. <paramref name="expectedVersion"/> is the version read (0 for new).</summary>
    ValueTask SaveAsync(CustomerLedger state, long expectedVersion, IReadOnlyList<LedgerTransfer> transfers, CancellationToken cancellationToken = default);

    /// <summary>The earlier command with this idempotency key.</summary>
    ValueTask<LedgerCommandRecord?> FindCommandAsync(string idempotencyKey, CancellationToken cancellationToken = default);

    /// <summary>Records a command and its result (a key is recorded once).</summary>
    ValueTask AddCommandAsync(string idempotencyKey, LedgerCommandRecord record, CancellationToken cancellationToken = default);

    /// <summary>An order's ledger record.</summary>
    ValueTask<LedgerOrder?> GetOrderAsync(string orderId, CancellationToken cancellationToken = default);

    /// <summary>Saves an order's ledger record with optimistic concurrency.</summary>
    ValueTask SaveOrderAsync(LedgerOrder order, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>A transfer by id.</summary>
    ValueTask<LedgerTransfer?> GetTransferAsync(string transferId, CancellationToken cancellationToken = default);

    /// <summary>Journal entries, oldest first: a customer's (either side), or all when <paramref name="customer"/> is null.</summary>
    ValueTask<IReadOnlyList<LedgerTransfer>> ListTransfersAsync(CustomerId? customer, int skip, int take, CancellationToken cancellationToken = default);

    /// <summary>Customers whose state is due at or before <paramref name="now"/>, earliest first.</summary>
    ValueTask<IReadOnlyList<CustomerId>> ListDueAsync(Instant now, int take, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims due work for a worker: like <see cref="ListDueAsync"/>, but skips customers another owner holds a live lease
    /// on and leases the ones returned to <paramref name="owner"/> for <paramref name="lease"/>. The claim takes effect
    /// at once, outside the unit of work; saving a claimed state ends the lease, and a lease whose owner crashed lapses. Workers
    /// in several processes claiming at once get disjoint work and never wait for each other.
    /// </summary>
    ValueTask<IReadOnlyList<CustomerId>> ClaimDueAsync(Instant now, int take, Duration lease, string owner, CancellationToken cancellationToken = default);

    /// <summary>Customers with a state, in a stable order, paged.</summary>
    ValueTask<IReadOnlyList<CustomerId>> ListCustomersAsync(int skip, int take, CancellationToken cancellationToken = default);

    /// <summary>The program accounts' balances.</summary>
    ValueTask<IReadOnlyList<ProgramAccountBalance>> GetProgramBalancesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// GDPR erasure: re-keys everything the ledger holds about <paramref name="customers"/> (a customer and the ids merged
    /// into it) to <paramref name="pseudonym"/>, so that the program's accounts still reconcile: the customers' states
    /// become one state of the pseudonym, their journal entries, orders and command records name the pseudonym, ids
    /// that embed a customer id (merge keys, lot and transfer ids) have it replaced by the pseudonym (suffixed
    /// <c>.1</c>, <c>.2</c>… for the second and later ids, which keeps them unique), and notes (free text) are cleared.
    /// Applied on commit.
    /// </summary>
    ValueTask AnonymizeAsync(IReadOnlyList<CustomerId> customers, CustomerId pseudonym, CancellationToken cancellationToken = default);
}
