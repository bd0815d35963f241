using System.Globalization;
using System.Runtime.CompilerServices;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>Options of the ledger.</summary>
public sealed class LedgerOptions
{
    /// <summary>Refuse commands for customers the identity graph does not know (default true). Commands for a
    /// customer merged away go to the survivor.</summary>
    public bool RequireKnownCustomers { get; set; } = true;

    /// <summary>Attempts of a command that loses an optimistic-concurrency race (default 5).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Customers processed per unit of work by due work (default 200).</summary>
    public int DueWorkBatchSize { get; set; } = 200;

    /// <summary>How long due work holds the customers it claimed before another worker may take them (default
    /// 5 minutes). Workers in several processes claim disjoint customers; a crashed worker's claims lapse after this.
    /// Keep one batch well under it.</summary>
    public Duration DueWorkLease { get; set; } = Duration.FromMinutes(5);
}

/// <summary>One <see cref="LedgerEngine"/> per program instance.</summary>
public sealed class LedgerEngines
{
    private readonly ConditionalWeakTable<LoyaltyProgram, LedgerEngine> engines = [];

    /// <summary>The engine of <paramref name="program"/>.</summary>
    public LedgerEngine For(LoyaltyProgram program) => engines.GetValue(program, p => new LedgerEngine(p));
}

/// <summary>The ledger's application service (see <see cref="ILedgerService"/>).</summary>
public sealed class LedgerService : ILedgerService
{
    private static readonly string[] ReservedPrefixes = ["order:", "complete:", "return:", "cancel:", "due:", "merge:"];
    private readonly ILoyaltyStore store;
    private readonly IProgramProvider programs;
    private readonly IClock clock;
    private readonly LedgerEngines engines;
    private readonly LedgerOptions options;
    private readonly ILedgerSignalObserver[] observers;
    private readonly string owner = DueWorkOwner.Create("ledger");

    /// <summary>Creates the service; the container normally does this.</summary>
    public LedgerService(ILoyaltyStore store, IProgramProvider programs, IClock clock, LedgerEngines engines, IOptions<LedgerOptions> options)
        : this(store, programs, clock, engines, options, [])
    {
    }

    /// <summary>Creates the service with observers of due-work signals (journeys register one); the container
    /// normally does this.</summary>
    public LedgerService(ILoyaltyStore store, IProgramProvider programs, IClock clock, LedgerEngines engines, IOptions<LedgerOptions> options, IEnumerable<ILedgerSignalObserver> observers)
    {
        this.observers = [.. observers ?? throw new ArgumentNullException(nameof(observers))];
        ArgumentNullException.ThrowIfNull(options);
        this.store = store ?? throw new ArgumentNullException(nameof(store));
        this.programs = programs ?? throw new ArgumentNullException(nameof(programs));
        this.clock = clock ?? throw new ArgumentNullException(nameof(clock));
        this.engines = engines ?? throw new ArgumentNullException(nameof(engines));
        this.options = options.Value;
    }

    /// <inheritdoc />
    public async ValueTask<LedgerResult> ExecuteAsync(TenantId tenant, LedgerCommand command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.IdempotencyKey is { } k && ReservedPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal)))
        {
            throw LedgerEngine.Invalid("$.idempotencyKey", "reserved_prefix", $"Keys starting with {string.Join(", ", ReservedPrefixes)} are reserved for the ledger's own entries.");
        }

        var engine = engines.For(programs.GetProgram(tenant));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ExecuteOnceAsync(tenant, engine, command, cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyConflictException) when (attempt < options.MaxAttempts)
            {
                // Another writer changed the customer first: read again and decide again.
            }
            catch (OverflowException ex)
            {
                throw new LedgerOverflowException("A point count would overflow 64 bits; nothing was applied.", ex);
            }
        }
    }

    private async ValueTask<LedgerResult> ExecuteOnceAsync(TenantId tenant, LedgerEngine engine, LedgerCommand command, CancellationToken cancellationToken)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var repo = session.Ledger;
        if (session is IReadAheadSession readAhead && command.Customer.Value is not null && !string.IsNullOrEmpty(command.IdempotencyKey))
        {
            // One round trip for the replay check, the customer's identity and ledger (and a transfer's recipient).
            await readAhead.ReadAheadAsync(
                new ReadAheadRequest
                {
                    Purpose = ReadAheadPurpose.LedgerCommand,
                    LedgerCommandKeys = [command.IdempotencyKey],
                    Customers = command is TransferPointsCommand { To.Value: not null } tp ? [command.Customer, tp.To] : [command.Customer],
                },
                cancellationToken).ConfigureAwait(false);
        }

        if (!string.IsNullOrEmpty(command.IdempotencyKey) && await repo.FindCommandAsync(command.IdempotencyKey, cancellationToken).ConfigureAwait(false) is { } earlier)
        {
            return earlier.Command == command ? earlier.Result with { Replayed = true } : throw new IdempotencyConflictException(command.IdempotencyKey);
        }

        var now = clock.GetCurrentInstant();
        var customer = await ResolveAsync(session, command.Customer, "$.customer", cancellationToken).ConfigureAwait(false);
        var state = await repo.GetAsync(customer, cancellationToken).ConfigureAwait(false) ?? new CustomerLedger(customer);
        var expected = state.Version;
        CustomerLedger? counterparty = null;
        long counterpartyExpected = 0;
        if (command is TransferPointsCommand t)
        {
            var to = await ResolveAsync(session, t.To, "$.to", cancellationToken).ConfigureAwait(false);
            if (to == customer)
            {
                throw LedgerEngine.Invalid("$.to", "same_customer", "A member cannot transfer points to themselves.");
            }

            counterparty = await repo.GetAsync(to, cancellationToken).ConfigureAwait(false) ?? new CustomerLedger(to);
            counterpartyExpected = counterparty.Version;
        }

        LedgerTransfer? reversed = null;
        if (command is ReverseCommand rv)
        {
            reversed = await repo.GetTransferAsync(rv.TransferId, cancellationToken).ConfigureAwait(false);
            if (reversed is null || (reversed.Debit.Customer != customer && reversed.Credit.Customer != customer))
            {
                throw new UnknownLedgerEntityException("transfer", rv.TransferId);
            }

            var history = await repo.ListTransfersAsync(customer, 0, int.MaxValue, cancellationToken).ConfigureAwait(false);
            if (history.Any(x => x.Kind == TransferKind.Reverse && x.Reason.Reverses == rv.TransferId))
            {
                throw new LedgerException("already_reversed", $"Transfer {rv.TransferId} was already reversed.");
            }
        }

        var effective = command.Customer == customer ? command : command with { Customer = customer };
        var posting = engine.Execute(state, effective, now, counterparty, reversed);
        await repo.SaveAsync(state, expected, posting.Transfers, cancellationToken).ConfigureAwait(false);
        if (posting.Signals.Count > 0 && observers.Length > 0)
        {
            await NotifyAsync(new LedgerSignalContext { Session = session, Program = engine.Program, Tenant = tenant, Now = now, Customer = customer, Signals = [.. posting.Signals] }, cancellationToken).ConfigureAwait(false);
        }
        if (counterparty is not null)
        {
            await repo.SaveAsync(counterparty, counterpartyExpected, [], cancellationToken).ConfigureAwait(false);
        }

        var result = new LedgerResult
        {
            IdempotencyKey = command.IdempotencyKey,
            Customer = customer,
            Transfers = posting.Transfers,
            Balances = [.. state.Balances],
            Shortfall = posting.Shortfall,
            Capped = posting.Capped,
            Signals = posting.Signals,
            Net = Net(posting.Transfers, customer),
        };
        await repo.AddCommandAsync(command.IdempotencyKey, new LedgerCommandRecord(command, result), cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    private static long Net(IReadOnlyList<LedgerTransfer> transfers, CustomerId customer)
    {
        long net = 0;
        foreach (var t in transfers)
        {
            if (t.Credit.Customer == customer && t.Credit.Kind != AccountKind.Reserved)
            {
                net += t.Amount;
            }

            if (t.Debit.Customer == customer && t.Debit.Kind != AccountKind.Reserved)
            {
                net -= t.Amount;
            }
        }

        return net;
    }

    private async ValueTask<CustomerId> ResolveAsync(ILoyaltyStoreSession session, CustomerId customer, string path, CancellationToken cancellationToken)
    {
        if (customer.Value is null)
        {
            throw LedgerEngine.Invalid(path, "required", "A customer is required.");
        }

        var identity = await IdentityStage.FollowAsync(session.Identity, customer, cancellationToken).ConfigureAwait(false);
        if (identity is not null)
        {
            return identity.Customer;
        }

        return options.RequireKnownCustomers ? throw new UnknownLedgerEntityException("customer", customer.Value) : customer;
    }

    private async ValueTask NotifyAsync(LedgerSignalContext raised, CancellationToken cancellationToken)
    {
        foreach (var observer in observers)
        {
            await observer.OnSignalsAsync(raised, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask<DueWorkResult> RunDueWorkAsync(TenantId tenant, Instant now, int maxCustomers = 10_000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCustomers);
        var program = programs.GetProgram(tenant);
        var engine = engines.For(program);
        var signals = new List<LedgerSignal>();
        int customers = 0, transfers = 0;
        long expired = 0, activated = 0, released = 0;
        var more = false;
        var seen = new HashSet<CustomerId>();
        var lease = DueWorkOwner.Lease(options.DueWorkLease);
        var conflicts = 0;
        while (customers < maxCustomers)
        {
            var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
            await using var scope = session.ConfigureAwait(false);
            var batch = Math.Min(options.DueWorkBatchSize, maxCustomers - customers);

            // Claimed, not just listed: workers in other processes get other customers, and the lease keeps them off
            // these until this batch commits (the save ends it) or lapses (this worker crashed).
            var due = await session.Ledger.ClaimDueAsync(now, batch, lease, owner, cancellationToken).ConfigureAwait(false);
            var work = due.Where(c => !seen.Contains(c)).ToArray();
            if (work.Length == 0)
            {
                break;
            }

            int batchCustomers = 0, batchTransfers = 0;
            long batchExpired = 0, batchActivated = 0, batchReleased = 0;
            var batchSignals = new List<LedgerSignal>();
            foreach (var customer in work)
            {
                var state = await session.Ledger.GetAsync(customer, cancellationToken).ConfigureAwait(false);
                if (state is null)
                {
                    continue;
                }

                var expected = state.Version;
                var posting = engine.RunDue(state, now);
                await session.Ledger.SaveAsync(state, expected, posting.Transfers, cancellationToken).ConfigureAwait(false);
                batchCustomers++;
                batchTransfers += posting.Transfers.Count;
                foreach (var x in posting.Transfers)
                {
                    switch (x.Kind)
                    {
                        case TransferKind.Expire:
                            batchExpired += x.Amount;
                            break;
                        case TransferKind.Activate:
                            batchActivated += x.Amount;
                            break;
                        case TransferKind.Release:
                            batchReleased += x.Amount;
                            break;
                    }
                }

                batchSignals.AddRange(posting.Signals);
                if (posting.Signals.Count > 0 && observers.Length > 0)
                {
                    await NotifyAsync(new LedgerSignalContext { Session = session, Program = program, Tenant = tenant, Now = now, Customer = customer, Signals = [.. posting.Signals] }, cancellationToken).ConfigureAwait(false);
                }
            }

            try
            {
                await session.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyConflictException) when (++conflicts <= options.MaxAttempts)
            {
                // An event changed one of these customers meanwhile: nothing of the batch was applied. Claim again
                // (this worker's own leases are claimable by it) and run the batch on fresh states.
                continue;
            }

            customers += batchCustomers;
            transfers += batchTransfers;
            expired += batchExpired;
            activated += batchActivated;
            released += batchReleased;
            signals.AddRange(batchSignals);
            foreach (var c in work)
            {
                seen.Add(c);
            }

            more = due.Count >= batch;
            if (!more)
            {
                break;
            }
        }

        return new DueWorkResult
        {
            Now = now, Customers = customers, Transfers = transfers, PointsExpired = expired, PointsActivated = activated, PointsReleased = released,
            Signals = signals, More = more && customers >= maxCustomers,
        };
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LedgerBalance>> GetBalancesAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default)
    {
        var state = await ReadStateAsync(tenant, customer, cancellationToken).ConfigureAwait(false);
        return state is null ? [] : [.. state.Balances];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LedgerLot>> GetLotsAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default)
    {
        var state = await ReadStateAsync(tenant, customer, cancellationToken).ConfigureAwait(false);
        return state is null ? [] : [.. state.Lots.OrderBy(l => l.ExpiresAt ?? Instant.MaxValue).ThenBy(l => l.CreatedAt)];
    }

    /// <inheritdoc />
    public async ValueTask<TierProgress> GetTierAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default)
    {
        var engine = engines.For(programs.GetProgram(tenant));
        var state = await ReadStateAsync(tenant, customer, cancellationToken).ConfigureAwait(false) ?? new CustomerLedger(customer);
        return engine.Progress(state, clock.GetCurrentInstant());
    }

    private async ValueTask<CustomerLedger?> ReadStateAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await IdentityStage.FollowAsync(session.Identity, customer, cancellationToken).ConfigureAwait(false);
        return await session.Ledger.GetAsync(identity?.Customer ?? customer, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StatementLine>> GetStatementAsync(TenantId tenant, CustomerId customer, int skip = 0, int take = 50, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(take);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await IdentityStage.FollowAsync(session.Identity, customer, cancellationToken).ConfigureAwait(false);
        var c = identity?.Customer ?? customer;
        var transfers = await session.Ledger.ListTransfersAsync(c, skip, take, cancellationToken).ConfigureAwait(false);
        return [.. transfers.Select(t => Line(t, c))];
    }

    private static StatementLine Line(LedgerTransfer t, CustomerId c)
    {
        long Delta(AccountKind kind) => (t.Credit.Customer == c && t.Credit.Kind == kind ? t.Amount : 0) - (t.Debit.Customer == c && t.Debit.Kind == kind ? t.Amount : 0);
        var what = t.Kind switch
        {
            TransferKind.Earn => t.Reason.OrderId is { } o ? $"Earned on order {o} ({t.Reason.Rule} v{t.Reason.RuleVersion})" : $"Earned ({t.Reason.Rule ?? "manual"})",
            TransferKind.Activate => $"Available after the return window{(t.Reason.OrderId is { } o2 ? $" of order {o2}" : string.Empty)}",
            TransferKind.Redeem => $"Redeemed{(t.Reason.OrderId is { } o3 ? $" on order {o3}" : string.Empty)}",
            TransferKind.Reserve => $"Reserved at checkout ({t.ReservationId})",
            TransferKind.Capture => $"Reservation {t.ReservationId} captured",
            TransferKind.Release => $"Reservation {t.ReservationId} released",
            TransferKind.Clawback => t.Shortfall > 0 ? $"Return of order {t.Reason.OrderId}: {t.Shortfall} could not be taken back (recorded)" : $"Taken back: return of order {t.Reason.OrderId}",
            TransferKind.Recover => "Earlier return shortfall recovered",
            TransferKind.SettleDebt => "Negative balance settled",
            TransferKind.Refund => $"Points paid for returned goods of order {t.Reason.OrderId} given back",
            TransferKind.Adjust => $"Adjustment by {t.Reason.Actor}: {t.Reason.Note}",
            TransferKind.Expire => $"Expired ({t.Reason.Rule})",
            TransferKind.MemberTransfer => t.Credit.Customer == c ? $"Received from {t.Debit.Customer}" : $"Given to {t.Credit.Customer}",
            TransferKind.Merge => $"Moved by merge {t.Reason.MergeId}",
            TransferKind.Convert => $"Conversion ({t.Reason.Rule})",
            TransferKind.Reverse => $"Reversal of {t.Reason.Reverses}",
            _ => t.Kind.ToString(),
        };
        return new StatementLine
        {
            Transfer = t, AvailableDelta = Delta(AccountKind.Available), PendingDelta = Delta(AccountKind.Pending), ReservedDelta = Delta(AccountKind.Reserved), Description = what,
        };
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LedgerLiability>> GetLiabilityAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        var engine = engines.For(programs.GetProgram(tenant));
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var repo = session.Ledger;
        var accounts = await repo.GetProgramBalancesAsync(cancellationToken).ConfigureAwait(false);
        var buckets = new Dictionary<(string Ledger, string Month), long>();
        var totals = new Dictionary<string, (long Available, long Pending, long Reserved)>(StringComparer.Ordinal);
        for (var skip = 0; ; skip += 1000)
        {
            var page = await repo.ListCustomersAsync(skip, 1000, cancellationToken).ConfigureAwait(false);
            foreach (var c in page)
            {
                var state = await repo.GetAsync(c, cancellationToken).ConfigureAwait(false);
                if (state is null)
                {
                    continue;
                }

                foreach (var lot in state.Lots)
                {
                    if (lot.Pending > 0)
                    {
                        buckets[(lot.Ledger, "pending")] = buckets.GetValueOrDefault((lot.Ledger, "pending")) + lot.Pending;
                    }

                    if (lot.Available + lot.Reserved > 0)
                    {
                        var month = engine.ExpiryMonth(lot.ExpiresAt);
                        buckets[(lot.Ledger, month)] = buckets.GetValueOrDefault((lot.Ledger, month)) + lot.Available + lot.Reserved;
                    }
                }

                foreach (var b in state.Balances)
                {
                    var (a, p, r) = totals.GetValueOrDefault(b.Ledger);
                    totals[b.Ledger] = (a + b.Available, p + b.Pending, r + b.Reserved);
                    if (b.Debt > 0)
                    {
                        buckets[(b.Ledger, "debt")] = buckets.GetValueOrDefault((b.Ledger, "debt")) - b.Debt;
                    }
                }
            }

            if (page.Count < 1000)
            {
                break;
            }
        }

        // Time to redeem: from each lot's creation to the redemptions that used it.
        var created = new Dictionary<string, Instant>(StringComparer.Ordinal);
        var weighted = new Dictionary<string, (double Days, long Points)>(StringComparer.Ordinal);
        for (var skip = 0; ; skip += 10_000)
        {
            var page = await repo.ListTransfersAsync(null, skip, 10_000, cancellationToken).ConfigureAwait(false);
            foreach (var t in page)
            {
                if (t.CreditLot is { } lot && t.Kind is TransferKind.Earn or TransferKind.Adjust or TransferKind.Refund or TransferKind.Reverse or TransferKind.Convert)
                {
                    created[lot] = t.At;
                }
                else if (t.CreditLot is { } moved && t.DebitLot is { } source && t.Kind is TransferKind.Merge or TransferKind.MemberTransfer && created.TryGetValue(source, out var origin))
                {
                    created[moved] = origin;
                }

                if (t.Kind is TransferKind.Redeem or TransferKind.Capture && t.DebitLot is { } used && created.TryGetValue(used, out var at))
                {
                    var (d, p) = weighted.GetValueOrDefault(t.Ledger);
                    weighted[t.Ledger] = (d + ((t.At - at).TotalDays * t.Amount), p + t.Amount);
                }
            }

            if (page.Count < 10_000)
            {
                break;
            }
        }

        var program = engine.Settings;
        var result = new List<LedgerLiability>();
        foreach (var currency in program.Currencies)
        {
            var code = currency.Code;
            ProgramAccountBalance Account(AccountKind kind) => accounts.FirstOrDefault(a => a.Ledger == code && a.Account == kind) ?? new ProgramAccountBalance(code, kind, 0, 0);
            var issued = Account(AccountKind.Issuance).DebitsPosted;
            var reversed = Account(AccountKind.Issuance).CreditsPosted;
            var redeemed = Account(AccountKind.Redeemed).Balance;
            var expiredPoints = Account(AccountKind.Expired).Balance + Account(AccountKind.Breakage).Balance;
            var adjusted = -Account(AccountKind.Adjustments).Balance;
            var converted = -Account(AccountKind.Conversion).Balance;
            var (available, pending, reserved) = totals.GetValueOrDefault(code);
            var outstanding = available + pending + reserved;
            var (days, points) = weighted.GetValueOrDefault(code);
            var breakageRate = expiredPoints + redeemed <= 0 ? 0d : Math.Round(expiredPoints / (double)(expiredPoints + redeemed), 4);
            var expectedBreakage = (long)Math.Round(Math.Max(0, available + pending) * breakageRate, MidpointRounding.AwayFromZero);
            result.Add(new LedgerLiability
            {
                Ledger = code,
                Issued = issued,
                Reversed = reversed,
                Redeemed = redeemed,
                Expired = expiredPoints,
                Adjusted = adjusted,
                Converted = converted,
                Outstanding = outstanding,
                Available = available,
                Pending = pending,
                Reserved = reserved,
                ValuePerPoint = currency.ValuePerPoint,
                Value = decimal.Round(outstanding * currency.ValuePerPoint, 2),
                ByExpiryMonth = [.. buckets.Where(b => b.Key.Ledger == code).OrderBy(b => b.Key.Month, StringComparer.Ordinal)
                    .Select(b => new LiabilityBucket(b.Key.Month, b.Value, decimal.Round(b.Value * currency.ValuePerPoint, 2)))],
                RedemptionRate = issued == 0 ? 0 : Math.Round(redeemed / (double)issued, 4),
                AverageDaysToRedeem = points == 0 ? 0 : Math.Round(days / points, 1),
                BreakageRate = breakageRate,
                ExpectedBreakage = expectedBreakage,
                ValueNetOfBreakage = decimal.Round((outstanding - expectedBreakage) * currency.ValuePerPoint, 2),
            });
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask<ReconciliationReport> ReconcileAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var repo = session.Ledger;
        var folded = new Dictionary<CustomerId, CustomerLedger>();
        var program = new Dictionary<(string, AccountKind), (long Debits, long Credits)>();
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        var problems = new List<string>();
        long count = 0;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var skip = 0; ; skip += 10_000)
        {
            var page = await repo.ListTransfersAsync(null, skip, 10_000, cancellationToken).ConfigureAwait(false);
            foreach (var t in page)
            {
                count++;
                if (!ids.Add(t.Id))
                {
                    problems.Add($"Transfer id {t.Id} appears twice in the journal.");
                }

                if (t.Amount < 0 || (t.Amount == 0 && t.Shortfall == 0 && t.Lifetime == 0))
                {
                    problems.Add($"Transfer {t.Id} has amount {t.Amount}.");
                }

                foreach (var (account, sign) in new[] { (t.Debit, -1L), (t.Credit, 1L) })
                {
                    sums[t.Ledger] = checked(sums.GetValueOrDefault(t.Ledger) + (sign * t.Amount));
                    if (account.Customer is { } c)
                    {
                        if (!folded.TryGetValue(c, out var s))
                        {
                            folded[c] = s = new CustomerLedger(c);
                        }
                    }
                    else
                    {
                        var (d, cr) = program.GetValueOrDefault((t.Ledger, account.Kind));
                        program[(t.Ledger, account.Kind)] = sign < 0 ? (d + t.Amount, cr) : (d, cr + t.Amount);
                    }
                }

                if (t.Debit.Customer is { } dc)
                {
                    folded[dc].Apply(t);
                }

                if (t.Credit.Customer is { } cc && cc != t.Debit.Customer)
                {
                    folded[cc].Apply(t);
                }
            }

            if (page.Count < 10_000)
            {
                break;
            }
        }

        foreach (var (ledger, sum) in sums)
        {
            if (sum != 0)
            {
                problems.Add($"Ledger {ledger} sums to {sum}, not zero.");
            }
        }

        var customers = 0;
        for (var skip = 0; ; skip += 1000)
        {
            var page = await repo.ListCustomersAsync(skip, 1000, cancellationToken).ConfigureAwait(false);
            foreach (var c in page)
            {
                customers++;
                var hot = await repo.GetAsync(c, cancellationToken).ConfigureAwait(false);
                var fold = folded.GetValueOrDefault(c) ?? new CustomerLedger(c);
                Compare(hot!, fold, problems);
                folded.Remove(c);
            }

            if (page.Count < 1000)
            {
                break;
            }
        }

        foreach (var c in folded.Keys)
        {
            problems.Add($"Customer {c} has journal entries but no state.");
        }

        foreach (var a in await repo.GetProgramBalancesAsync(cancellationToken).ConfigureAwait(false))
        {
            var (d, cr) = program.GetValueOrDefault((a.Ledger, a.Account));
            if (d != a.DebitsPosted || cr != a.CreditsPosted)
            {
                problems.Add($"Program account {a.Ledger}/{a.Account} holds debits {a.DebitsPosted} credits {a.CreditsPosted}; the journal says {d}/{cr}.");
            }

            program.Remove((a.Ledger, a.Account));
        }

        foreach (var ((l, k), _) in program)
        {
            problems.Add($"Program account {l}/{k} is missing.");
        }

        return new ReconciliationReport { Transfers = count, Customers = customers, SumByLedger = sums, Problems = problems };
    }

    private static void Compare(CustomerLedger hot, CustomerLedger fold, List<string> problems)
    {
        foreach (var b in hot.Balances.Concat(fold.Balances).Select(b => b.Ledger).Distinct())
        {
            var h = hot.Balance(b);
            var f = fold.Balance(b);
            if (h.Available != f.Available || h.Pending != f.Pending || h.Reserved != f.Reserved || h.Debt != f.Debt || h.Owed != f.Owed || h.LifetimeEarned != f.LifetimeEarned)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{hot.Customer}/{b}: hot {h} but the journal folds to {f}."));
            }

            var lotSum = hot.Lots.Where(l => l.Ledger == b).Sum(l => l.Available);
            if (lotSum - h.Debt != h.Available)
            {
                problems.Add($"{hot.Customer}/{b}: lots hold {lotSum} available, debt {h.Debt}, balance {h.Available}.");
            }
        }

        var hotLots = hot.Lots.ToDictionary(l => l.Id, StringComparer.Ordinal);
        foreach (var l in fold.Lots)
        {
            if (!hotLots.Remove(l.Id, out var h) || h.Available != l.Available || h.Pending != l.Pending || h.Reserved != l.Reserved || h.Amount != l.Amount)
            {
                problems.Add($"{hot.Customer}: lot {l.Id} differs from the journal.");
            }
        }

        foreach (var id in hotLots.Keys)
        {
            problems.Add($"{hot.Customer}: lot {id} is not in the journal.");
        }
    }

    /// <inheritdoc />
    public async ValueTask<EarningEvaluation> EvaluateOrderAsync(TenantId tenant, OrderPlaced order, CustomerId? customer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        var engine = engines.For(programs.GetProgram(tenant));
        CustomerLedger? state = null;
        LocalDate? birth = null;
        var first = true;
        EarningFacts? facts = null;
        if (customer is { } c)
        {
            var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
            await using var scope = session.ConfigureAwait(false);
            var identity = await IdentityStage.FollowAsync(session.Identity, c, cancellationToken).ConfigureAwait(false);
            var id = identity?.Customer ?? c;
            state = await session.Ledger.GetAsync(id, cancellationToken).ConfigureAwait(false);
            var profile = await session.Profiles.GetAsync(id, cancellationToken).ConfigureAwait(false);
            birth = profile?.BirthDate;
            first = (profile?.Traits.Orders ?? 0) == 0;
            facts = new EarningFacts
            {
                Profile = profile,
                Segments = engine.ConditionsUseSegments ? await LedgerStage.SegmentsAsync(session, id, cancellationToken).ConfigureAwait(false) : new HashSet<string>(StringComparer.Ordinal),
            };
        }

        return engine.EvaluateOrder(order, state, birth, first, facts);
    }
}
