using System.Globalization;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>Identity merges and their reversal (unmerge): the ledger's side of <c>CustomerMerged</c> and <c>CustomerSplit</c>.</summary>
public sealed partial class LedgerEngine
{
    /// <summary>The policy id of entries written by an unmerge.</summary>
    public const string UnmergeRule = "ledger.unmerge";

    /// <summary>The policy id of entries written when points follow the orders of a split's identifiers.</summary>
    public const string SplitRule = "ledger.split";

    /// <summary>
    /// Moves everything of <paramref name="absorbed"/> to <paramref name="survivor"/>: open reservations are released,
    /// then every lot moves as one <see cref="TransferKind.Merge"/> entry per lot and account (keeping its expiry or
    /// activation), a negative balance, a recorded shortfall and lifetime earned move too, earnings by day join the survivor's, and the
    /// survivor keeps the higher tier. Every entry names <paramref name="mergeId"/> so that a split can reverse them.
    /// Running it again moves nothing.
    /// </summary>
    public LedgerPosting Merge(CustomerLedger absorbed, CustomerLedger survivor, string mergeId, Instant now)
    {
        ArgumentNullException.ThrowIfNull(absorbed);
        ArgumentNullException.ThrowIfNull(survivor);
        var key = $"merge:{mergeId}";
        var stamp = now.ToUnixTimeTicks().ToString(CultureInfo.InvariantCulture);
        var posting = Begin(key, now, absorbed, survivor);
        var reason = new LedgerReason { CommandKey = key, Rule = "ledger.merge", MergeId = mergeId, Note = $"{absorbed.Customer} merged into {survivor.Customer}." };
        foreach (var r in absorbed.Reservations.Values.Where(r => r.Open > 0).ToArray())
        {
            ReleaseAll(posting, absorbed, r, reason);
        }

        foreach (var lot in absorbed.Lots.ToArray())
        {
            MoveLot(posting, absorbed, survivor, lot, reason with { OrderId = lot.OrderId, Reverses = lot.Id });
        }

        foreach (var b in absorbed.Balances.Where(b => b.Debt > 0 || b.Owed > 0).ToArray())
        {
            if (b.Debt > 0)
            {
                // The survivor takes on the debt: its available goes down, the absorbed customer's comes back to zero.
                posting.Post(new LedgerTransfer
                {
                    Id = $"{key}#debt:{b.Ledger}@{stamp}", Ledger = b.Ledger, Amount = b.Debt, Kind = TransferKind.Merge, At = now, BookingDate = posting.BookingDate,
                    Debit = LedgerAccount.Of(survivor.Customer, AccountKind.Available), Credit = LedgerAccount.Of(absorbed.Customer, AccountKind.Available), Reason = reason,
                });
            }

            if (b.Owed > 0)
            {
                posting.Post(new LedgerTransfer
                {
                    Id = $"{key}#owed:{b.Ledger}@{stamp}", Ledger = b.Ledger, Amount = 0, Shortfall = b.Owed, Kind = TransferKind.Merge, At = now, BookingDate = posting.BookingDate,
                    Debit = LedgerAccount.Of(absorbed.Customer, AccountKind.Available), Credit = LedgerAccount.Of(survivor.Customer, AccountKind.Available), Reason = reason,
                });
            }
        }

        foreach (var b in absorbed.Balances.Where(b => b.LifetimeEarned != 0).ToArray())
        {
            // Lifetime earned follows the points: tiers and "lifetime" queries see the survivor's whole history.
            posting.Post(new LedgerTransfer
            {
                Id = $"{key}#lifetime:{b.Ledger}@{stamp}", Ledger = b.Ledger, Amount = 0, Lifetime = b.LifetimeEarned, Kind = TransferKind.Merge, At = now, BookingDate = posting.BookingDate,
                Debit = LedgerAccount.Of(absorbed.Customer, AccountKind.Available), Credit = LedgerAccount.Of(survivor.Customer, AccountKind.Available), Reason = reason,
            });
        }

        if (absorbed.ManualEarnBuckets.Count > 0)
        {
            survivor.ManualEarnBuckets.AddRange(absorbed.ManualEarnBuckets);
            survivor.ManualEarnBuckets.Sort((x, y) => x.Day.CompareTo(y.Day));
            absorbed.ManualEarnBuckets.Clear();
        }

        if (absorbed.EarnBuckets.Count > 0)
        {
            survivor.EarnBuckets.AddRange(absorbed.EarnBuckets);
            survivor.EarnBuckets.Sort((x, y) => x.Day.CompareTo(y.Day));
            absorbed.EarnBuckets.Clear();
        }

        if (Tiers is not null && absorbed.Tier.Tier is not null)
        {
            var a = LevelIndex(absorbed.Tier.Tier);
            var s = LevelIndex(survivor.Tier.Tier);
            foreach (var h in absorbed.TierHistory)
            {
                survivor.TierHistory.Add(h with { Rule = h.Rule + "@" + absorbed.Customer.Value });
            }

            if (a > s)
            {
                ChangeTier(survivor, posting, survivor.Tier.Tier, absorbed.Tier.Tier, "tier.merge", Qualifying(survivor, now));
            }

            absorbed.Tier = new TierStatus();
            EvaluateTier(survivor, posting, "tier.merge");
        }

        survivor.LastActivityAt = Max(survivor.LastActivityAt, absorbed.LastActivityAt);
        survivor.InactivityExpiresAt = Max(survivor.InactivityExpiresAt, absorbed.InactivityExpiresAt);
        RefreshDue(absorbed);
        RefreshDue(survivor);
        return posting;
    }

    /// <summary>
    /// Reverses the merge of <paramref name="absorbed"/> into <paramref name="survivor"/> made at
    /// <paramref name="mergedAt"/> (an unmerge: staff marked the merge wrong). What is left of every lot the merge moved
    /// goes back as one <see cref="TransferKind.Merge"/> entry per lot and account, keeping its expiry or activation;
    /// the debt, shortfall and lifetime earned the merge moved go back; points of the absorbed customer that the
    /// survivor spent or holds in a reservation meanwhile are given back as new lots, taken from the survivor's
    /// spendable lots and, for what those cannot cover, from the program's adjustments account (a wrong merge is the
    /// operator's error, so no customer is pushed below zero by it). Points that expired or were clawed back for the
    /// absorbed customer's own returns stay gone. Earnings by day and tier history go back; a tier the survivor only
    /// reached through the merge is undone, and each customer's tier is then evaluated again.
    /// <para>Pure and deterministic: <paramref name="survivorJournal"/> and <paramref name="absorbedJournal"/> are the
    /// journal entries touching each customer. Running it again (the journal already holds its entries) writes
    /// nothing.</para>
    /// </summary>
    /// <param name="survivor">The survivor's state (changed in place).</param>
    /// <param name="absorbed">The absorbed customer's state (changed in place).</param>
    /// <param name="mergeId">The merge's id, <c>absorbed&gt;survivor</c>.</param>
    /// <param name="mergedAt">When the merge happened (the instant of its entries).</param>
    /// <param name="survivorJournal">Entries touching the survivor, in journal order.</param>
    /// <param name="absorbedJournal">Entries touching the absorbed customer, in journal order.</param>
    /// <param name="now">The instant of the unmerge.</param>
    /// <param name="actor">Who asked for it.</param>
    /// <param name="note">Why.</param>
    public LedgerPosting Unmerge(
        CustomerLedger survivor, CustomerLedger absorbed, string mergeId, Instant mergedAt,
        IReadOnlyList<LedgerTransfer> survivorJournal, IReadOnlyList<LedgerTransfer> absorbedJournal, Instant now, string actor, string note)
    {
        ArgumentNullException.ThrowIfNull(survivor);
        ArgumentNullException.ThrowIfNull(absorbed);
        ArgumentNullException.ThrowIfNull(survivorJournal);
        ArgumentNullException.ThrowIfNull(absorbedJournal);
        var key = string.Create(CultureInfo.InvariantCulture, $"unmerge:{mergeId}@{mergedAt.ToUnixTimeTicks()}");
        var posting = Begin(key, now, survivor, absorbed);
        // Done already when either side's journal holds an entry of it (an unmerge may touch only the absorbed
        // customer, e.g. points the program compensates).
        if (survivorJournal.Concat(absorbedJournal).Any(t => string.Equals(t.Reason.CommandKey, key, StringComparison.Ordinal)))
        {
            return posting;
        }

        var mergeKey = $"merge:{mergeId}";
        var moves = survivorJournal.Where(t => t.Kind == TransferKind.Merge && t.At == mergedAt && string.Equals(t.Reason.CommandKey, mergeKey, StringComparison.Ordinal)).ToList();
        var reason = new LedgerReason { CommandKey = key, Rule = UnmergeRule, MergeId = mergeId, Actor = actor, Note = note };

        // Points of the absorbed customer the survivor used (by currency); reduced by what the survivor paid for it.
        var owedBack = new SortedDictionary<string, long>(StringComparer.Ordinal);

        // 1. Debt and clawback shortfall the merge moved: back as far as the survivor still carries them; what the survivor
        //    settled from its own credits was paid for the absorbed customer and is netted off what it is owed back.
        foreach (var m in moves.Where(t => t.CreditLot is null && t.DebitLot is null))
        {
            var b = survivor.Balance(m.Ledger);
            if (m.Amount > 0 && m.Debit.Customer == survivor.Customer)
            {
                var back = Math.Min(m.Amount, b.Debt);
                if (back > 0)
                {
                    posting.Post(posting.Transfer(m.Ledger, LedgerAccount.Of(absorbed.Customer, AccountKind.Available), LedgerAccount.Of(survivor.Customer, AccountKind.Available), back, TransferKind.Merge, reason with { Reverses = m.Id }) with { Id = posting.NextId("debt:" + m.Ledger) });
                }

                owedBack[m.Ledger] = owedBack.GetValueOrDefault(m.Ledger) - (m.Amount - back);
            }
            else if (m.Shortfall > 0 && m.Credit.Customer == survivor.Customer)
            {
                var back = Math.Min(m.Shortfall, b.Owed);
                if (back > 0)
                {
                    posting.Post(posting.Transfer(m.Ledger, LedgerAccount.Of(survivor.Customer, AccountKind.Available), LedgerAccount.Of(absorbed.Customer, AccountKind.Available), 0, TransferKind.Merge, reason with { Reverses = m.Id }) with { Id = posting.NextId("owed:" + m.Ledger), Shortfall = back });
                }

                owedBack[m.Ledger] = owedBack.GetValueOrDefault(m.Ledger) - (m.Shortfall - back);
            }

            if (m.Lifetime != 0 && m.Credit.Customer == survivor.Customer)
            {
                posting.Post(posting.Transfer(m.Ledger, LedgerAccount.Of(survivor.Customer, AccountKind.Available), LedgerAccount.Of(absorbed.Customer, AccountKind.Available), 0, TransferKind.Merge, reason with { Reverses = m.Id }) with { Id = posting.NextId("lifetime:" + m.Ledger), Lifetime = m.Lifetime });
            }
        }

        // 2. Every lot the merge moved: what is left goes back; what expired or was clawed back for the absorbed
        //    customer's own order stays gone; the rest was used by the survivor and is owed back.
        foreach (var m in moves.Where(t => t.CreditLot is not null && t.Credit.Customer == survivor.Customer))
        {
            var lotId = m.CreditLot!;
            var gone = survivorJournal
                .Where(t => t.Debit.Customer == survivor.Customer && string.Equals(t.DebitLot, lotId, StringComparison.Ordinal)
                    && (t.Kind == TransferKind.Expire || (t.Kind == TransferKind.Clawback && t.Reason.OrderId is not null && string.Equals(t.Reason.OrderId, m.Reason.OrderId, StringComparison.Ordinal))))
                .Sum(t => t.Amount);
            var li = survivor.FindLot(lotId);
            var left = li < 0 ? 0 : MoveLot(posting, survivor, absorbed, survivor.Lots[li], reason with { OrderId = survivor.Lots[li].OrderId, Reverses = m.Id });

            var used = m.Amount - left - gone;
            if (used > 0)
            {
                owedBack[m.Ledger] = owedBack.GetValueOrDefault(m.Ledger) + used;
            }
        }

        // 3. Give back what the survivor used: from its spendable lots, then from the program's adjustments account.
        foreach (var (code, owed) in owedBack)
        {
            if (owed <= 0)
            {
                continue;
            }

            var left = owed;
            var expires = ExpiryFor(code, now);
            var compensation = reason with { Rule = UnmergeRule + ".compensation", Note = $"Points of {absorbed.Customer} used by {survivor.Customer} while merged. {note}" };
            var budget = Math.Min(left, Spendable(survivor, code, now));
            foreach (var lotId in ConsumptionOrder(survivor, code, now))
            {
                if (budget == 0)
                {
                    break;
                }

                var source = survivor.Lots[survivor.FindLot(lotId)];
                var take = Math.Min(budget, source.Available);
                budget -= take;

                var id = posting.NextId();
                posting.Post(new LedgerTransfer
                {
                    Id = id, Ledger = code, Amount = take, Kind = TransferKind.Merge, At = now, BookingDate = posting.BookingDate,
                    Debit = LedgerAccount.Of(survivor.Customer, AccountKind.Available), Credit = LedgerAccount.Of(absorbed.Customer, AccountKind.Available),
                    DebitLot = source.Id, CreditLot = id, ExpiresAt = expires, Reason = compensation,
                });
                Settle(posting, absorbed, code, id);
                left -= take;
            }

            if (left > 0)
            {
                Credit(posting, absorbed, code, left, TransferKind.Adjust, AccountKind.Adjustments, compensation with { Rule = UnmergeRule + ".program_compensation" }, expiresAt: expires);
            }
        }

        // 4. Earnings by day (tier qualification) go back to the absorbed customer.
        foreach (var manual in new[] { false, true })
        {
            var (mine, theirs) = manual ? (absorbed.ManualEarnBuckets, survivor.ManualEarnBuckets) : (absorbed.EarnBuckets, survivor.EarnBuckets);
            foreach (var (ledgerCode, day, points, spend) in OwnEarnings(absorbed.Customer, absorbedJournal, mergedAt, manual))
            {
                TakeBucket(theirs, ledgerCode, day, points, spend);
                mine.Add(new EarnBucket(ledgerCode, day, points, spend));
            }

            mine.Sort((x, y) => x.Day.CompareTo(y.Day));
        }

        // 5. Tiers: the absorbed customer's history leaves the survivor; a tier reached through the merge is undone.
        if (Tiers is not null)
        {
            var suffix = "@" + absorbed.Customer.Value;
            survivor.TierHistory.RemoveAll(h => h.Rule.EndsWith(suffix, StringComparison.Ordinal));
            var byMerge = survivor.TierHistory.Where(h => h.At == mergedAt && string.Equals(h.CommandKey, mergeKey, StringComparison.Ordinal)).ToList();
            if (byMerge.Count > 0 && survivor.Tier.Override is null && string.Equals(survivor.Tier.Tier, byMerge[^1].To, StringComparison.Ordinal))
            {
                var before = byMerge[0].From ?? Tiers.Levels[0].Id;
                if (!string.Equals(before, survivor.Tier.Tier, StringComparison.Ordinal))
                {
                    ChangeTier(survivor, posting, survivor.Tier.Tier, before, "tier.unmerge", Qualifying(survivor, now));
                }
            }

            EvaluateTier(survivor, posting, "tier.unmerge");
            var own = absorbed.TierHistory.Where(h => h.At < mergedAt).ToList();
            if (own.Count > 0 && absorbed.Tier.Tier is null)
            {
                ChangeTier(absorbed, posting, null, own[^1].To, "tier.unmerge", Qualifying(absorbed, now));
            }

            EvaluateTier(absorbed, posting, "tier.unmerge");
        }

        // 6. Activity clocks of the absorbed customer come from its own journal.
        foreach (var t in absorbedJournal)
        {
            if (t.At < mergedAt && t.Kind is TransferKind.Earn or TransferKind.Redeem or TransferKind.Reserve)
            {
                absorbed.LastActivityAt = Max(absorbed.LastActivityAt, t.At);
            }
        }

        if (absorbed.LastActivityAt is { } last && InactivityDeadline(Primary, last) is { } deadline)
        {
            absorbed.InactivityExpiresAt = deadline;
        }

        RefreshDue(survivor);
        RefreshDue(absorbed);
        return posting;
    }

    /// <summary>
    /// A split of identifiers: the points of <paramref name="orders"/> (placed with the identifiers that left) follow
    /// them from <paramref name="from"/> to <paramref name="to"/>. What is left of each of their lots moves with its
    /// expiry or activation (one <see cref="TransferKind.Merge"/> entry per lot and account, rule
    /// <see cref="SplitRule"/>), and so do the lifetime earned and the earnings by day those orders account for (as the
    /// journal <paramref name="fromJournal"/> shows them). Points of those orders already spent stay spent. Running it
    /// again writes nothing.
    /// </summary>
    /// <param name="from">The customer that keeps the other identifiers (changed in place).</param>
    /// <param name="to">The split-off customer (changed in place).</param>
    /// <param name="orders">The order ids whose points move.</param>
    /// <param name="fromJournal">Entries touching <paramref name="from"/>, in journal order.</param>
    /// <param name="key">The split's idempotency key.</param>
    /// <param name="now">The instant of the split.</param>
    /// <param name="actor">Who asked for it.</param>
    /// <param name="note">Why.</param>
    public LedgerPosting MoveOrders(CustomerLedger from, CustomerLedger to, IReadOnlySet<string> orders, IReadOnlyList<LedgerTransfer> fromJournal, string key, Instant now, string actor, string note)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(fromJournal);
        var posting = Begin(key, now, from, to);
        if (orders.Count == 0 || fromJournal.Any(t => string.Equals(t.Reason.CommandKey, key, StringComparison.Ordinal)))
        {
            return posting;
        }

        var reason = new LedgerReason { CommandKey = key, Rule = SplitRule, Actor = actor, Note = note };
        foreach (var lot in from.Lots.Where(l => l.OrderId is not null && orders.Contains(l.OrderId)).ToArray())
        {
            MoveLot(posting, from, to, lot, reason with { OrderId = lot.OrderId, Reverses = lot.Id });
        }

        // Lifetime earned and earnings by day of those orders, as the state's Apply counted them.
        var days = Earnings(from.Customer, fromJournal, t => t.Reason.OrderId is { } order && orders.Contains(order));
        foreach (var g in days.GroupBy(d => d.Ledger, StringComparer.Ordinal))
        {
            var points = g.Sum(d => d.Points);
            if (points != 0)
            {
                posting.Post(posting.Transfer(g.Key, LedgerAccount.Of(from.Customer, AccountKind.Available), LedgerAccount.Of(to.Customer, AccountKind.Available), 0, TransferKind.Merge, reason) with { Id = posting.NextId("lifetime:" + g.Key), Lifetime = points });
            }
        }

        foreach (var (code, day, points, spend) in days)
        {
            TakeBucket(from.EarnBuckets, code, day, points, spend);
            to.EarnBuckets.Add(new EarnBucket(code, day, points, spend));
        }

        to.EarnBuckets.Sort((x, y) => x.Day.CompareTo(y.Day));
        EvaluateTier(to, posting, "tier.split");
        RefreshDue(from);
        RefreshDue(to);
        return posting;
    }

    /// <summary>
    /// Moves what is left of <paramref name="lot"/> (pending as pending, available with its expiry) from one customer to
    /// another: one <see cref="TransferKind.Merge"/> entry per account, named after the posting's key and the lot; an
    /// available part settles the receiver's debts first. Returns the points moved.
    /// </summary>
    private static long MoveLot(LedgerPosting posting, CustomerLedger from, CustomerLedger to, LedgerLot lot, LedgerReason reason)
    {
        long moved = 0;
        foreach (var (account, amount) in new[] { (AccountKind.Pending, lot.Pending), (AccountKind.Available, lot.Available) })
        {
            if (amount <= 0)
            {
                continue;
            }

            moved += amount;
            var id = $"{posting.Key}#{lot.Id}:{(account == AccountKind.Pending ? "pending" : "available")}";
            posting.Post(new LedgerTransfer
            {
                Id = id, Ledger = lot.Ledger, Amount = amount, Kind = TransferKind.Merge, At = posting.Now, BookingDate = posting.BookingDate,
                Debit = LedgerAccount.Of(from.Customer, account), Credit = LedgerAccount.Of(to.Customer, account),
                DebitLot = lot.Id, CreditLot = id, ActivatesAt = lot.ActivatesAt, ExpiresAt = account == AccountKind.Pending ? null : lot.ExpiresAt,
                Reason = reason,
            });
            if (account == AccountKind.Available)
            {
                Settle(posting, to, lot.Ledger, id);
            }
        }

        return moved;
    }

    /// <summary>The absorbed customer's own earnings by (currency, day) before the merge.</summary>
    private static IEnumerable<(string Ledger, LocalDate Day, long Points, decimal Spend)> OwnEarnings(CustomerId customer, IReadOnlyList<LedgerTransfer> journal, Instant before, bool manual) =>
        Earnings(customer, journal, t => t.At < before && (t.Reason.OrderId is null) == manual);

    /// <summary>A customer's earnings by (currency, day) in the journal entries <paramref name="include"/> selects, as
    /// <see cref="CustomerLedger.Apply(LedgerTransfer)"/> counts them (earnings in, clawbacks and reversals out).</summary>
    private static List<(string Ledger, LocalDate Day, long Points, decimal Spend)> Earnings(CustomerId customer, IReadOnlyList<LedgerTransfer> journal, Func<LedgerTransfer, bool> include)
    {
        var sums = new SortedDictionary<(string, LocalDate), (long Points, decimal Spend)>();
        foreach (var t in journal)
        {
            if (!include(t))
            {
                continue;
            }

            (long p, decimal s) delta = (0, 0m);
            if (t.Credit.Customer == customer && t.Kind == TransferKind.Earn)
            {
                delta = (t.Amount, t.Spend);
            }
            else if (t.Debit.Customer == customer && (t.Kind == TransferKind.Clawback || (t.Kind == TransferKind.Reverse && t.Credit.Kind == AccountKind.Issuance)))
            {
                delta = (-t.Amount - (t.Kind == TransferKind.Clawback ? t.Shortfall : 0), -t.Spend);
            }

            if (delta != (0, 0m))
            {
                var k = (t.Ledger, t.BookingDate);
                var (p, s) = sums.GetValueOrDefault(k);
                sums[k] = (p + delta.p, s + delta.s);
            }
        }

        return [.. sums.Where(kv => kv.Value.Points != 0 || kv.Value.Spend != 0).Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value.Points, kv.Value.Spend))];
    }

    /// <summary>Takes earnings of one (currency, day) off buckets (buckets already pruned are left alone).</summary>
    private static void TakeBucket(List<EarnBucket> buckets, string ledger, LocalDate day, long points, decimal spend)
    {
        for (var i = 0; i < buckets.Count && (points != 0 || spend != 0); i++)
        {
            var b = buckets[i];
            if (b.Day != day || !string.Equals(b.Ledger, ledger, StringComparison.Ordinal))
            {
                continue;
            }

            var p = points > 0 ? Math.Min(points, b.Points) : points;
            var s = spend > 0 ? Math.Min(spend, b.Spend) : spend;
            buckets[i] = b with { Points = b.Points - p, Spend = b.Spend - s };
            points -= p;
            spend -= s;
        }

        buckets.RemoveAll(b => b.Points == 0 && b.Spend == 0);
    }
}
