using System.Globalization;
using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>Due work (expiry, activation, reservation timeouts, notices, tier reviews) and tiers.</summary>
public sealed partial class LedgerEngine
{
    /// <summary>
    /// Does everything due at <paramref name="now"/> for one customer: releases lapsed reservations, activates pending
    /// points whose window ended, expires lots (one entry per lot) and, with an inactivity rule, everything after the
    /// inactivity period, raises "expiring soon" signals once per lot, and runs tier reviews. Idempotent: running it
    /// twice for the same instant writes nothing the second time.
    /// </summary>
    public LedgerPosting RunDue(CustomerLedger state, Instant now)
    {
        ArgumentNullException.ThrowIfNull(state);
        var key = string.Create(CultureInfo.InvariantCulture, $"due:{state.Customer}:{now.ToUnixTimeTicks()}");
        var posting = Begin(key, now, state);

        // 1. Lapsed reservations.
        foreach (var r in state.Reservations.Values.Where(r => r.Open > 0 && r.ExpiresAt <= now).OrderBy(r => r.ExpiresAt).ToArray())
        {
            var open = r.Open;
            ReleaseAll(posting, state, r, new LedgerReason { CommandKey = key, Rule = ReservationTimeoutRule, OrderId = r.OrderId, Note = "Reservation lapsed." });
            posting.Signal(new LedgerSignal { Kind = LedgerSignalKind.ReservationExpired, Customer = state.Customer, Ledger = r.Ledger, Points = open, At = now, Key = $"reservation_expired:{state.Customer}:{r.Id}" });
        }

        // 2. Pending windows that ended.
        foreach (var lot in state.Lots.Where(l => l.Pending > 0 && l.ActivatesAt is { } a && a <= now).OrderBy(l => l.ActivatesAt).ToArray())
        {
            var points = Activate(posting, state, lot.Id, new LedgerReason { CommandKey = key, Rule = ActivationRule, RuleVersion = Program.Version });
            posting.Signal(new LedgerSignal { Kind = LedgerSignalKind.PointsActivated, Customer = state.Customer, Ledger = lot.Ledger, Points = points, At = now, Key = $"activated:{state.Customer}:{lot.Id}" });
        }

        // 3. Inactivity: everything available expires.
        var expired = new Dictionary<string, long>(StringComparer.Ordinal);
        if (state.InactivityExpiresAt is { } inactive && inactive <= now)
        {
            foreach (var lot in state.Lots.Where(l => l.Available > 0).ToArray())
            {
                expired[lot.Ledger] = expired.GetValueOrDefault(lot.Ledger) + lot.Available;
                ExpireLot(posting, state, state.FindLot(lot.Id), new LedgerReason { CommandKey = key, Rule = InactivityRule, RuleVersion = Program.Version, Note = "No activity for the inactivity period." });
            }

            state.InactivityExpiresAt = null;
        }

        // 4. Lots past their expiry (available part; reserved points expire once released).
        foreach (var lot in state.Lots.Where(l => l.Available > 0 && l.ExpiresAt is { } e && e <= now).OrderBy(l => l.ExpiresAt).ThenBy(l => l.CreatedAt).ToArray())
        {
            expired[lot.Ledger] = expired.GetValueOrDefault(lot.Ledger) + lot.Available;
            var li = state.FindLot(lot.Id);
            var available = state.Lots[li].Available;
            posting.Post(new LedgerTransfer
            {
                Id = posting.NextId(),
                Ledger = lot.Ledger,
                Debit = LedgerAccount.Of(state.Customer, AccountKind.Available),
                Credit = LedgerAccount.Program(AccountKind.Expired),
                Amount = available,
                Kind = TransferKind.Expire,
                At = now,
                BookingDate = posting.BookingDate,
                DebitLot = lot.Id,
                Reason = new LedgerReason { CommandKey = key, Rule = ExpiryRule, RuleVersion = Program.Version, OrderId = lot.OrderId, Note = $"Lot expired at {Format(lot.ExpiresAt!.Value)}." },
            });
        }

        foreach (var (code, points) in expired)
        {
            posting.Signal(new LedgerSignal { Kind = LedgerSignalKind.PointsExpired, Customer = state.Customer, Ledger = code, Points = points, At = now, Key = $"expired:{state.Customer}:{code}:{now.ToUnixTimeTicks()}" });
        }

        // 5. Expiring soon: once per lot (lots expiring after what was already noticed, within the notice period).
        if (ledger.ExpiryNoticeDays > 0)
        {
            var horizon = now + Duration.FromDays(ledger.ExpiryNoticeDays);
            var soon = state.Lots
                .Where(l => l.Available > 0 && l.ExpiresAt is { } e && e > now && e <= horizon && (state.NoticedThrough is null || e > state.NoticedThrough))
                .GroupBy(l => (l.Ledger, l.ExpiresAt!.Value))
                .OrderBy(g => g.Key.Value);
            foreach (var g in soon)
            {
                posting.Signal(new LedgerSignal
                {
                    Kind = LedgerSignalKind.PointsExpiringSoon, Customer = state.Customer, Ledger = g.Key.Ledger, Points = g.Sum(l => l.Available), At = now, ExpiresAt = g.Key.Value,
                    Key = $"expiring_soon:{state.Customer}:{g.Key.Ledger}:{g.Key.Value.ToUnixTimeTicks()}",
                });
            }

            state.NoticedThrough = state.NoticedThrough is { } n && n > horizon ? n : horizon;
        }

        // 6. Tier review, grace end, override end.
        if (state.Tier.Override is { Until: { } until } && until <= now)
        {
            state.Tier = state.Tier with { Override = null };
            EvaluateTier(state, posting, "tier.override_ended");
        }

        if (Tiers is not null && (state.Tier.GraceUntil ?? state.Tier.ReviewAt) is { } review && review <= now)
        {
            Review(state, posting);
        }

        RefreshDue(state);
        return posting;
    }

    /// <summary>Qualifying value (points earned or spend, net of returns) in the tier window ending at <paramref name="now"/>.</summary>
    public decimal Qualifying(CustomerLedger state, Instant now)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (Tiers is null)
        {
            return 0m;
        }

        var today = BookingDay(now);
        var from = Tiers.Window == TierWindowKind.CalendarYear ? new LocalDate(today.Year, 1, 1) : today.PlusMonths(-Tiers.WindowMonths).PlusDays(1);
        decimal sum = 0;
        foreach (var b in state.EarnBuckets)
        {
            if (b.Day >= from && b.Day <= today && b.Ledger == Primary)
            {
                sum += Tiers.Basis == TierBasis.Spend ? b.Spend : b.Points;
            }
        }

        return sum;
    }

    /// <summary>The tier in force: a fixed override wins, a floor override lifts, otherwise the qualified tier.</summary>
    public string? EffectiveTier(TierStatus status, Instant now)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (Tiers is null)
        {
            return null;
        }

        var tier = status.Tier ?? Tiers.Levels[0].Id;
        if (status.Override is { } o && (o.Until is null || o.Until > now))
        {
            if (o.Mode == TierOverrideMode.Fixed || LevelIndex(o.Tier) > LevelIndex(tier))
            {
                return o.Tier;
            }
        }

        return tier;
    }

    private int LevelIndex(string? tier)
    {
        if (Tiers is null || tier is null)
        {
            return -1;
        }

        for (var i = 0; i < Tiers.Levels.Count; i++)
        {
            if (Tiers.Levels[i].Id == tier)
            {
                return i;
            }
        }

        return -1;
    }

    private int QualifiedIndex(decimal qualifying)
    {
        var index = 0;
        for (var i = 0; i < Tiers!.Levels.Count; i++)
        {
            if (qualifying >= Tiers.Levels[i].Threshold)
            {
                index = i;
            }
        }

        return index;
    }

    /// <summary>Upgrades at once when the customer qualifies for a higher tier (never downgrades: that waits for the review).</summary>
    private void EvaluateTier(CustomerLedger state, LedgerPosting posting, string cause)
    {
        if (Tiers is null)
        {
            return;
        }

        var now = posting.Now;
        var current = LevelIndex(state.Tier.Tier);
        var qualifying = Qualifying(state, now);
        var qualified = QualifiedIndex(qualifying);
        if (current < 0)
        {
            ChangeTier(state, posting, null, Tiers.Levels[qualified].Id, qualified == 0 ? "tier.initial" : "tier.upgrade", qualifying);
        }
        else if (qualified > current)
        {
            ChangeTier(state, posting, state.Tier.Tier, Tiers.Levels[qualified].Id, "tier.upgrade", qualifying);
        }

        _ = cause;
    }

    private void ChangeTier(CustomerLedger state, LedgerPosting posting, string? from, string to, string rule, decimal qualifying)
    {
        var now = posting.Now;
        var effectiveBefore = EffectiveTier(state.Tier, now);
        state.Tier = state.Tier with { Tier = to, Since = now, ReviewAt = now + Duration.FromDays(0) + Period(Tiers!.ReviewMonths, now), GraceUntil = null };
        state.TierHistory.Add(new TierChange { From = from, To = to, At = now, Rule = rule, Qualifying = qualifying, CommandKey = posting.Key });
        posting.TierChanged = true;
        NoteDue(state, state.Tier.ReviewAt);
        var effectiveAfter = EffectiveTier(state.Tier, now);
        if (rule != "tier.initial" || effectiveAfter != effectiveBefore)
        {
            posting.Signal(new LedgerSignal
            {
                Kind = LedgerSignalKind.TierChanged, Customer = state.Customer, At = now, Tier = to, PreviousTier = from,
                Key = string.Create(CultureInfo.InvariantCulture, $"tier:{state.Customer}:{to}:{now.ToUnixTimeTicks()}"),
            });
        }
    }

    private Duration Period(int months, Instant from)
    {
        var day = BookingDay(from);
        return day.PlusMonths(months).AtStartOfDayInZone(Zone).ToInstant() - day.AtStartOfDayInZone(Zone).ToInstant();
    }

    private void Review(CustomerLedger state, LedgerPosting posting)
    {
        var now = posting.Now;
        var current = LevelIndex(state.Tier.Tier);
        var qualifying = Qualifying(state, now);
        var qualified = QualifiedIndex(qualifying);
        if (qualified >= current)
        {
            if (qualified > current)
            {
                ChangeTier(state, posting, state.Tier.Tier, Tiers!.Levels[qualified].Id, "tier.upgrade", qualifying);
            }
            else
            {
                state.Tier = state.Tier with { ReviewAt = now + Period(Tiers!.ReviewMonths, now), GraceUntil = null };
                state.TierHistory.Add(new TierChange { From = state.Tier.Tier, To = state.Tier.Tier!, At = now, Rule = "tier.kept", Qualifying = qualifying, CommandKey = posting.Key });
            }

            return;
        }

        if (Tiers!.GraceDays > 0 && state.Tier.GraceUntil is null)
        {
            state.Tier = state.Tier with { GraceUntil = now + Duration.FromDays(Tiers.GraceDays) };
            state.TierHistory.Add(new TierChange { From = state.Tier.Tier, To = state.Tier.Tier!, At = now, Rule = "tier.grace", Qualifying = qualifying, CommandKey = posting.Key });
            posting.Signal(new LedgerSignal
            {
                Kind = LedgerSignalKind.TierChanged, Customer = state.Customer, At = now, Tier = state.Tier.Tier, PreviousTier = state.Tier.Tier,
                Key = string.Create(CultureInfo.InvariantCulture, $"tier_grace:{state.Customer}:{now.ToUnixTimeTicks()}"),
            });
            return;
        }

        var target = Tiers.Downgrade == TierDowngrade.OneTier ? Math.Max(qualified, current - 1) : qualified;
        ChangeTier(state, posting, state.Tier.Tier, Tiers.Levels[target].Id, "tier.downgrade", qualifying);
    }

    private void SetOverride(LedgerPosting posting, CustomerLedger state, TierOverrideCommand o)
    {
        if (Tiers is null)
        {
            throw new LedgerException("no_tiers", "The program has no tiers.");
        }

        if (o.Tier is not null && LevelIndex(o.Tier) < 0)
        {
            throw new UnknownLedgerEntityException("tier", o.Tier);
        }

        if (o.Until is { } until && until <= posting.Now)
        {
            throw Invalid("$.until", "in_the_past", "An override must end in the future.");
        }

        var before = EffectiveTier(state.Tier, posting.Now);
        if (state.Tier.Tier is null)
        {
            EvaluateTier(state, posting, "tier.override");
        }

        state.Tier = state.Tier with
        {
            Override = o.Tier is null ? null : new TierOverride { Tier = o.Tier, Mode = o.Mode, Until = o.Until, Actor = o.Actor!, Note = o.Note },
        };
        var after = EffectiveTier(state.Tier, posting.Now);
        state.TierHistory.Add(new TierChange { From = before, To = after!, At = posting.Now, Rule = "tier.override", CommandKey = posting.Key });
        if (before != after)
        {
            posting.TierChanged = true;
            posting.Signal(new LedgerSignal { Kind = LedgerSignalKind.TierChanged, Customer = state.Customer, At = posting.Now, Tier = after, PreviousTier = before, Key = $"tier_override:{posting.Key}" });
        }
    }

    /// <summary>A customer's tier progress: qualifying value, what it takes to reach the next tier and to keep this one.</summary>
    public TierProgress Progress(CustomerLedger state, Instant now)
    {
        ArgumentNullException.ThrowIfNull(state);
        var status = state.Tier with { Tier = EffectiveTier(state.Tier, now) };
        if (Tiers is null)
        {
            return new TierProgress { Customer = state.Customer, Status = status, History = [.. state.TierHistory] };
        }

        var qualifying = Qualifying(state, now);
        var index = Math.Max(0, LevelIndex(status.Tier));
        var next = index + 1 < Tiers.Levels.Count ? Tiers.Levels[index + 1] : null;
        return new TierProgress
        {
            Customer = state.Customer,
            Status = status,
            Qualifying = qualifying,
            NextTier = next?.Id,
            ToReachNext = next is null ? 0 : Math.Max(0, next.Threshold - qualifying),
            ToKeepCurrent = Math.Max(0, Tiers.Levels[index].Threshold - qualifying),
            History = [.. state.TierHistory],
        };
    }

    private static Instant? Max(Instant? a, Instant? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
