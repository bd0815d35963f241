using System.Runtime.InteropServices;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>
/// The hot state of one customer's accounts in every currency: balances, live lots, reservations, earnings by day,
/// tier. It is a projection of the journal: <see cref="Apply(LedgerTransfer)"/> is the only way balances, lots and
/// reservations change, so folding a customer's transfers from empty rebuilds it (see <c>ReconcileAsync</c>). Storage
/// adapters keep it with a version for optimistic concurrency; readers treat what a repository returns as a working
/// copy of their session.
/// </summary>
public sealed class CustomerLedger
{
    private static readonly TimeSpan BucketRetention = TimeSpan.FromDays(800);

    /// <summary>Creates the empty state of <paramref name="customer"/>.</summary>
    public CustomerLedger(CustomerId customer) => Customer = customer;

    /// <summary>The customer.</summary>
    public CustomerId Customer { get; }

    /// <summary>Optimistic-concurrency version (0: never stored).</summary>
    public long Version { get; set; }

    /// <summary>Balances by currency.</summary>
    public List<LedgerBalance> Balances { get; init; } = [];

    /// <summary>Lots with points left (lots used up live on in the journal only).</summary>
    public List<LedgerLot> Lots { get; init; } = [];

    /// <summary>Reservations by id (closed ones are kept so that late captures are refused with a reason).</summary>
    public Dictionary<string, LedgerReservation> Reservations { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Earnings from orders by booking day (kept about 800 days): tier qualification and caps.</summary>
    public List<EarnBucket> EarnBuckets { get; init; } = [];

    /// <summary>Points granted by earn commands without an order, by booking day (kept about 800 days): caps that
    /// include manual earns.</summary>
    public List<EarnBucket> ManualEarnBuckets { get; init; } = [];

    /// <summary>The tier status.</summary>
    public TierStatus Tier { get; set; } = new();

    /// <summary>Tier changes, oldest first.</summary>
    public List<TierChange> TierHistory { get; init; } = [];

    /// <summary>Last earning or redemption.</summary>
    public Instant? LastActivityAt { get; set; }

    /// <summary>When everything expires for inactivity (when the program has an inactivity rule).</summary>
    public Instant? InactivityExpiresAt { get; set; }

    /// <summary>"Expiring soon" signals were raised for lots expiring up to this instant.</summary>
    public Instant? NoticedThrough { get; set; }

    /// <summary>When this state next needs due work (expiry, activation, reservation timeout, notice, tier review).</summary>
    public Instant? NextDueAt { get; set; }

    /// <summary>The balance of a currency (zero when none).</summary>
    public LedgerBalance Balance(string ledger)
    {
        foreach (var b in Balances)
        {
            if (string.Equals(b.Ledger, ledger, StringComparison.Ordinal))
            {
                return b;
            }
        }

        return new LedgerBalance { Ledger = ledger };
    }

    /// <summary>The index of a lot, or −1.</summary>
    public int FindLot(string lotId)
    {
        var lots = CollectionsMarshal.AsSpan(Lots);
        for (var i = lots.Length - 1; i >= 0; i--)
        {
            if (string.Equals(lots[i].Id, lotId, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A deep copy (lots, balances and buckets are values; reservations are copied).</summary>
    public CustomerLedger Clone()
    {
        var copy = new CustomerLedger(Customer)
        {
            Version = Version,
            Balances = [.. Balances],
            Lots = [.. Lots],
            EarnBuckets = [.. EarnBuckets],
            ManualEarnBuckets = [.. ManualEarnBuckets],
            Tier = Tier,
            TierHistory = [.. TierHistory],
            LastActivityAt = LastActivityAt,
            InactivityExpiresAt = InactivityExpiresAt,
            NoticedThrough = NoticedThrough,
            NextDueAt = NextDueAt,
        };
        foreach (var (id, r) in Reservations)
        {
            copy.Reservations[id] = r.Clone();
        }

        return copy;
    }

    /// <summary>
    /// Evolves the state by one transfer: the sides of the transfer that are this customer's accounts change their
    /// balance, lot and reservation. Arithmetic is checked; a transfer that would over-consume a lot throws
    /// <see cref="InvalidOperationException"/> (the engine never emits one).
    /// </summary>
    public void Apply(LedgerTransfer transfer)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        var mineDebit = transfer.Debit.Customer == Customer;
        var mineCredit = transfer.Credit.Customer == Customer;
        if (!mineDebit && !mineCredit)
        {
            return;
        }

        var bi = BalanceIndex(transfer.Ledger);
        ref var balance = ref CollectionsMarshal.AsSpan(Balances)[bi];
        var amount = transfer.Amount;
        if (mineDebit)
        {
            Move(ref balance, transfer.Debit.Kind, -amount);
            if (transfer.DebitLot is { } lotId)
            {
                var li = FindLot(lotId);
                if (li < 0)
                {
                    throw new InvalidOperationException($"Transfer {transfer.Id} debits unknown lot {lotId} of {Customer}.");
                }

                ref var lot = ref CollectionsMarshal.AsSpan(Lots)[li];
                MoveLot(ref lot, transfer.Debit.Kind, -amount, transfer.Id);
            }
            else if (transfer.Debit.Kind == AccountKind.Available)
            {
                balance.Debt = checked(balance.Debt + amount);
            }

            if (transfer.Kind is TransferKind.Clawback or TransferKind.Recover || (transfer.Kind == TransferKind.Reverse && transfer.Credit.Kind == AccountKind.Issuance))
            {
                if (transfer.Kind != TransferKind.Recover)
                {
                    balance.LifetimeEarned = checked(balance.LifetimeEarned - amount);
                    AddBucket(transfer.Reason.OrderId is null ? ManualEarnBuckets : EarnBuckets, transfer.Ledger, transfer.BookingDate, -amount, -transfer.Spend);
                }
                else
                {
                    balance.Owed = checked(balance.Owed - amount);
                }
            }

            if (transfer.Kind == TransferKind.Clawback && transfer.Shortfall > 0)
            {
                balance.Owed = checked(balance.Owed + transfer.Shortfall);
                balance.LifetimeEarned = checked(balance.LifetimeEarned - transfer.Shortfall);
                AddBucket(EarnBuckets, transfer.Ledger, transfer.BookingDate, -transfer.Shortfall, 0m);
            }

            if (transfer.Kind == TransferKind.Merge)
            {
                balance.Owed = checked(balance.Owed - transfer.Shortfall);
                balance.LifetimeEarned = checked(balance.LifetimeEarned - transfer.Lifetime);
            }

            if (transfer.Kind is TransferKind.Redeem or TransferKind.Reserve)
            {
                LastActivityAt = Max(LastActivityAt, transfer.At);
            }

            if (transfer.ReservationId is { } rid && transfer.Debit.Kind == AccountKind.Reserved)
            {
                var r = Reservations[rid];
                var lotId2 = transfer.DebitLot!;
                var held = checked(r.Held[lotId2] - amount);
                if (held < 0)
                {
                    throw new InvalidOperationException($"Transfer {transfer.Id} takes more than reservation {rid} holds on lot {lotId2}.");
                }

                if (held == 0)
                {
                    r.Held.Remove(lotId2);
                }
                else
                {
                    r.Held[lotId2] = held;
                }

                if (transfer.Kind == TransferKind.Capture)
                {
                    r.Captured = checked(r.Captured + amount);
                }
                else
                {
                    r.Released = checked(r.Released + amount);
                }
            }
        }

        if (mineCredit)
        {
            Move(ref balance, transfer.Credit.Kind, amount);
            if (transfer.CreditLot is { } lotId)
            {
                // A lot named after its transfer is new (earnings, refunds, merges, member transfers): no lookup.
                var li = string.Equals(lotId, transfer.Id, StringComparison.Ordinal) ? -1 : FindLot(lotId);
                if (li < 0)
                {
                    Lots.Add(new LedgerLot
                    {
                        Id = lotId,
                        Ledger = transfer.Ledger,
                        CreatedAt = transfer.At,
                        Source = transfer.Kind,
                        OrderId = transfer.Reason.OrderId,
                        Rule = transfer.Reason.Rule,
                        Amount = amount,
                        ActivatesAt = transfer.Credit.Kind == AccountKind.Pending ? transfer.ActivatesAt : null,
                        ActivatedAt = transfer.Credit.Kind == AccountKind.Pending ? null : transfer.At,
                        ExpiresAt = transfer.ExpiresAt,
                    });
                    li = Lots.Count - 1;
                }
                else if (transfer.Kind == TransferKind.Activate)
                {
                    ref var activated = ref CollectionsMarshal.AsSpan(Lots)[li];
                    activated.ActivatedAt = transfer.At;
                    activated.ActivatesAt = null;
                    activated.ExpiresAt = transfer.ExpiresAt;
                }

                ref var lot = ref CollectionsMarshal.AsSpan(Lots)[li];
                MoveLot(ref lot, transfer.Credit.Kind, amount, transfer.Id);
            }
            else if (transfer.Credit.Kind == AccountKind.Available)
            {
                balance.Debt = checked(balance.Debt - amount);
            }

            if (transfer.Kind == TransferKind.Merge)
            {
                balance.Owed = checked(balance.Owed + transfer.Shortfall);
                balance.LifetimeEarned = checked(balance.LifetimeEarned + transfer.Lifetime);
            }

            if (transfer.Kind == TransferKind.Earn)
            {
                balance.LifetimeEarned = checked(balance.LifetimeEarned + amount);
                AddBucket(transfer.Reason.OrderId is null ? ManualEarnBuckets : EarnBuckets, transfer.Ledger, transfer.BookingDate, amount, transfer.Spend);

                LastActivityAt = Max(LastActivityAt, transfer.At);
            }

            if (transfer.ReservationId is { } rid && transfer.Credit.Kind == AccountKind.Reserved)
            {
                if (!Reservations.TryGetValue(rid, out var r))
                {
                    Reservations[rid] = r = new LedgerReservation
                    {
                        Id = rid, Ledger = transfer.Ledger, OrderId = transfer.Reason.OrderId, CreatedAt = transfer.At, ExpiresAt = transfer.ExpiresAt ?? transfer.At,
                    };
                }

                r.Amount = checked(r.Amount + amount);
                var lotId2 = transfer.CreditLot!;
                r.Held[lotId2] = checked(r.Held.GetValueOrDefault(lotId2) + amount);
            }
        }

        if (transfer.DebitLot is { } d && mineDebit)
        {
            PruneLot(d);
        }
    }

    private int BalanceIndex(string ledger)
    {
        var span = CollectionsMarshal.AsSpan(Balances);
        for (var i = 0; i < span.Length; i++)
        {
            if (string.Equals(span[i].Ledger, ledger, StringComparison.Ordinal))
            {
                return i;
            }
        }

        Balances.Add(new LedgerBalance { Ledger = ledger });
        return Balances.Count - 1;
    }

    private static void Move(ref LedgerBalance balance, AccountKind kind, long delta)
    {
        switch (kind)
        {
            case AccountKind.Available:
                balance.Available = checked(balance.Available + delta);
                break;
            case AccountKind.Pending:
                balance.Pending = checked(balance.Pending + delta);
                break;
            case AccountKind.Reserved:
                balance.Reserved = checked(balance.Reserved + delta);
                break;
            default:
                throw new InvalidOperationException($"{kind} is not a customer account.");
        }
    }

    private static void MoveLot(ref LedgerLot lot, AccountKind kind, long delta, string transferId)
    {
        switch (kind)
        {
            case AccountKind.Available:
                lot.Available = checked(lot.Available + delta);
                break;
            case AccountKind.Pending:
                lot.Pending = checked(lot.Pending + delta);
                break;
            case AccountKind.Reserved:
                lot.Reserved = checked(lot.Reserved + delta);
                break;
        }

        if (lot.Available < 0 || lot.Pending < 0 || lot.Reserved < 0)
        {
            throw new InvalidOperationException($"Transfer {transferId} over-consumes lot {lot.Id}.");
        }
    }

    private void PruneLot(string lotId)
    {
        var i = FindLot(lotId);
        if (i >= 0 && Lots[i].Remaining == 0)
        {
            Lots.RemoveAt(i);
        }
    }

    private static void AddBucket(List<EarnBucket> buckets, string ledger, LocalDate day, long points, decimal spend)
    {
        var span = CollectionsMarshal.AsSpan(buckets);
        for (var i = span.Length - 1; i >= 0 && i >= span.Length - 8; i--)
        {
            ref var b = ref span[i];
            if (b.Day == day && (ReferenceEquals(b.Ledger, ledger) || string.Equals(b.Ledger, ledger, StringComparison.Ordinal)))
            {
                // Most earnings carry no spend (manual earns) or land on the day's last bucket: no decimal work then.
                b = new EarnBucket(b.Ledger, day, checked(b.Points + points), spend == 0m ? b.Spend : b.Spend + spend);
                return;
            }
        }

        buckets.Add(new EarnBucket(ledger, day, points, spend));
        if (buckets.Count > 64 && buckets[0].Day < day.PlusDays(-(int)BucketRetention.TotalDays))
        {
            buckets.RemoveAll(b => b.Day < day.PlusDays(-(int)BucketRetention.TotalDays));
        }
    }

    private static Instant? Max(Instant? a, Instant b) => a is null || b > a ? b : a;
}
