using System.Globalization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Validation;
using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>Orders: earning rules, posting, completion, returns.</summary>
public sealed partial class LedgerEngine
{
    /// <summary>
    /// What <paramref name="order"/> earns, rule by rule, without writing anything (the dry run, and the plan the
    /// ledger stage posts). <paramref name="state"/> gives the tier and the earnings already counted against caps.
    /// </summary>
    /// <exception cref="LedgerValidationException">The order's currency has no exchange rate in the program.</exception>
    /// <param name="order">The order.</param>
    /// <param name="state">The customer's ledger (tier, caps, balances), or <c>null</c> for a guest.</param>
    /// <param name="birthDate">The customer's birth date (birthday-month rules).</param>
    /// <param name="firstPurchase">Whether this is the customer's first order.</param>
    /// <param name="facts">Profile and segments for rule-language conditions (<see cref="EarningConditions.Rule"/>).</param>
    public EarningEvaluation EvaluateOrder(OrderPlaced order, CustomerLedger? state, LocalDate? birthDate, bool firstPurchase, EarningFacts? facts = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        decimal rate = 1m;
        if (order.Currency != Program.BaseCurrency)
        {
            if (!Program.ExchangeRates.TryGetValue(order.Currency.Code, out rate))
            {
                throw Invalid("$.currency", "currency_mismatch", $"The program has no exchange rate from {order.Currency} to {Program.BaseCurrency}.");
            }
        }

        var ex = ledger.Exclusions;
        var subtotal = order.Subtotal;
        var pointsValue = order.PointsRedeemed * (currencies.TryGetValue(Primary, out var primary) ? primary.ValuePerPoint : 0m);
        var lines = new List<(string Id, string? Category, string? Sku, decimal Value)>();
        foreach (var l in order.Lines)
        {
            if (ex.LineKinds.Contains(l.LineKind) || (l.Category is not null && ex.Categories.Contains(l.Category)) || ex.Skus.Contains(l.Sku))
            {
                continue;
            }

            var share = subtotal == 0 ? 0 : l.LineTotal / subtotal;
            var value = (l.LineTotal - (order.Discount * share)) * rate - (pointsValue * share);
            lines.Add((l.LineId, l.Category, l.Sku, Math.Max(0m, value)));
        }

        if (ex.IncludeShipping && order.Shipping > 0)
        {
            lines.Add(("_shipping", null, null, order.Shipping * rate));
        }

        if (ex.IncludeTax && order.Tax > 0)
        {
            lines.Add(("_tax", null, null, order.Tax * rate));
        }

        var eligible = lines.Sum(l => l.Value);
        var local = order.OccurredAt.InZone(Zone).Date;
        var tier = state is null ? null : EffectiveTier(state.Tier, order.OccurredAt);

        // Per rule: exact (unrounded) points per line.
        var plan = new List<(EarningRule Rule, string Ledger, decimal[] PerLine, string Explanation)>();
        var basePerLine = new decimal[lines.Count];
        var baseRuleOfLine = new string?[lines.Count];
        var stopped = new List<string>();
        var stop = false;
        RuleSubject? subject = null;
        foreach (var rule in Rules)
        {
            if (stop)
            {
                stopped.Add(rule.Id);
                continue;
            }

            if (!OrderMatches(rule.When, order, local, eligible, tier, birthDate, firstPurchase))
            {
                continue;
            }

            string? because = null;
            if (conditions is not null && conditions.TryGetValue(rule.Id, out var condition))
            {
                subject ??= new RuleSubject(slotCount) { Zone = Zone };
                LedgerRules.Fill(condition, subject, order, eligible, rate, tier, firstPurchase, birthDate, state, Primary, facts, order.OccurredAt);
                if (!condition.Evaluate(subject, order.OccurredAt))
                {
                    continue;
                }

                because = $" when {condition.Text}";
            }

            var code = rule.Currency ?? Primary;
            var perLine = new decimal[lines.Count];
            var applied = false;
            string explanation;
            switch (rule.Kind)
            {
                case EarningRuleKind.Base:
                    for (var i = 0; i < lines.Count; i++)
                    {
                        if (baseRuleOfLine[i] is null && LineMatches(rule.When, lines[i].Category, lines[i].Sku))
                        {
                            perLine[i] = lines[i].Value * rule.Rate;
                            basePerLine[i] = perLine[i];
                            baseRuleOfLine[i] = rule.Id;
                            applied = true;
                        }
                    }

                    explanation = string.Create(CultureInfo.InvariantCulture, $"{rule.Rate} {code} per {Program.BaseCurrency} of eligible spend");
                    break;
                case EarningRuleKind.Multiplier:
                    for (var i = 0; i < lines.Count; i++)
                    {
                        if (LineMatches(rule.When, lines[i].Category, lines[i].Sku) && basePerLine[i] > 0)
                        {
                            perLine[i] = basePerLine[i] * (rule.Multiplier - 1m);
                            applied = true;
                        }
                    }

                    explanation = string.Create(CultureInfo.InvariantCulture, $"x{rule.Multiplier} on base points of matching lines");
                    break;
                default:
                    if (rule.Points > 0 && eligible > 0)
                    {
                        for (var i = 0; i < lines.Count; i++)
                        {
                            perLine[i] = rule.Points * lines[i].Value / eligible;
                        }

                        applied = true;
                    }

                    explanation = string.Create(CultureInfo.InvariantCulture, $"bonus of {rule.Points} {code}");
                    break;
            }

            if (!applied)
            {
                continue;
            }

            plan.Add((rule, code, perLine, explanation + because));
            if (rule.Stop)
            {
                stop = true;
            }
        }

        // Tier benefit.
        if (tier is not null && Tiers!.Levels.FirstOrDefault(l => l.Id == tier) is { EarnMultiplier: > 1m } level)
        {
            var perLine = basePerLine.Select(b => b * (level.EarnMultiplier - 1m)).ToArray();
            plan.Add((new EarningRule { Id = "tier:" + level.Id, Kind = EarningRuleKind.Multiplier, Multiplier = level.EarnMultiplier }, Primary, perLine,
                string.Create(CultureInfo.InvariantCulture, $"{level.Name ?? level.Id} tier benefit x{level.EarnMultiplier}")));
        }

        // Round per component; allocate each component to lines by largest remainder.
        var components = new List<EarningComponent>();
        var byLine = new Dictionary<string, long>(StringComparer.Ordinal);
        var rounded = new List<(EarningComponent Component, long[] Lines)>();
        foreach (var (rule, code, perLine, explanation) in plan)
        {
            var exact = perLine.Sum();
            var points = Round(exact, currencies.TryGetValue(code, out var c) ? c.Rounding : PointRounding.Floor);
            if (points <= 0)
            {
                continue;
            }

            rounded.Add((new EarningComponent { Rule = rule.Id, RuleVersion = rule.Version, Ledger = code, Points = points, Explanation = explanation }, Allocate(points, perLine)));
        }

        // Caps: the order can only fill what is left of each cap's period; the lowest-priority components are cut first.
        long capped = 0;
        foreach (var cap in ledger.Caps)
        {
            var code = cap.Currency ?? Primary;
            var used = state is null ? 0 : UsedInPeriod(state, code, cap.Period, local, cap.IncludeManualEarns);
            var room = Math.Max(0, cap.MaxPoints - used);
            var total = rounded.Where(r => r.Component.Ledger == code).Sum(r => r.Component.Points);
            var excess = total - room;
            for (var i = rounded.Count - 1; i >= 0 && excess > 0; i--)
            {
                if (rounded[i].Component.Ledger != code)
                {
                    continue;
                }

                var cut = Math.Min(excess, rounded[i].Component.Points);
                var kept = rounded[i].Component.Points - cut;
                rounded[i] = (rounded[i].Component with
                {
                    Points = kept,
                    Explanation = rounded[i].Component.Explanation + string.Create(CultureInfo.InvariantCulture, $"; capped by {cap.MaxPoints} per {cap.Period.ToString().ToLowerInvariant()}"),
                }, Allocate(kept, rounded[i].Lines.Select(x => (decimal)x).ToArray()));
                excess -= cut;
                capped += cut;
            }
        }

        foreach (var (component, perLine) in rounded)
        {
            if (component.Points <= 0)
            {
                continue;
            }

            components.Add(component);
            if (component.Ledger == Primary)
            {
                for (var i = 0; i < lines.Count; i++)
                {
                    byLine[lines[i].Id] = byLine.GetValueOrDefault(lines[i].Id) + perLine[i];
                }
            }
        }

        return new EarningEvaluation
        {
            EligibleValue = decimal.Round(eligible, Program.BaseCurrency.MinorUnits),
            Components = components,
            PointsByLine = byLine,
            Capped = capped,
            Stopped = stopped,
        };
    }

    private static long Round(decimal exact, PointRounding rounding)
    {
        try
        {
            return rounding switch
            {
                PointRounding.Ceiling => (long)decimal.Ceiling(exact),
                PointRounding.Nearest => (long)decimal.Round(exact, MidpointRounding.AwayFromZero),
                _ => (long)decimal.Floor(exact),
            };
        }
        catch (OverflowException)
        {
            throw new LedgerOverflowException("The points earned overflow a 64-bit count.");
        }
    }

    private static long[] Allocate(long points, decimal[] weights)
    {
        var result = new long[weights.Length];
        var sum = weights.Sum();
        if (weights.Length == 0 || sum <= 0)
        {
            return result;
        }

        long given = 0;
        var remainders = new (decimal Rem, int Index)[weights.Length];
        for (var i = 0; i < weights.Length; i++)
        {
            var exact = points * weights[i] / sum;
            result[i] = (long)decimal.Floor(exact);
            given += result[i];
            remainders[i] = (exact - result[i], i);
        }

        foreach (var (_, index) in remainders.OrderByDescending(r => r.Rem).ThenBy(r => r.Index).Take((int)(points - given)))
        {
            result[index]++;
        }

        return result;
    }

    private static long UsedInPeriod(CustomerLedger state, string code, CapPeriod period, LocalDate day, bool includeManual)
    {
        var (from, to) = period switch
        {
            CapPeriod.Day => (day, day),
            CapPeriod.Week => (day.PlusDays(1 - (int)day.DayOfWeek), day.PlusDays(7 - (int)day.DayOfWeek)),
            _ => (new LocalDate(day.Year, day.Month, 1), new LocalDate(day.Year, day.Month, 1).PlusMonths(1).PlusDays(-1)),
        };
        long used = 0;
        foreach (var b in state.EarnBuckets)
        {
            if (b.Day >= from && b.Day <= to && b.Ledger == code)
            {
                used += b.Points;
            }
        }

        if (includeManual)
        {
            foreach (var b in state.ManualEarnBuckets)
            {
                if (b.Day >= from && b.Day <= to && b.Ledger == code)
                {
                    used += b.Points;
                }
            }
        }

        return used;
    }

    /// <summary>What is left of <paramref name="points"/> after the caps that include manual earns; the rest is
    /// recorded as capped on the posting.</summary>
    private long CapManualEarn(LedgerPosting posting, CustomerLedger state, string code, long points)
    {
        var granted = points;
        foreach (var cap in ledger.Caps)
        {
            if (cap.IncludeManualEarns && string.Equals(cap.Currency ?? Primary, code, StringComparison.Ordinal))
            {
                var room = Math.Max(0, cap.MaxPoints - UsedInPeriod(state, code, cap.Period, posting.BookingDate, includeManual: true));
                granted = Math.Min(granted, room);
            }
        }

        posting.Capped = points - granted;
        return granted;
    }

    private static bool OrderMatches(EarningConditions when, OrderPlaced order, LocalDate day, decimal eligible, string? tier, LocalDate? birthDate, bool firstPurchase) =>
        (when.Channels.Count == 0 || when.Channels.Contains(order.Channel))
        && (when.DaysOfWeek.Count == 0 || when.DaysOfWeek.Contains((int)day.DayOfWeek))
        && (when.From is null || day >= when.From)
        && (when.To is null || day <= when.To)
        && (!when.FirstPurchase || firstPurchase)
        && (!when.BirthdayMonth || (birthDate is { } b && b.Month == day.Month))
        && (when.Tiers.Count == 0 || (tier is not null && when.Tiers.Contains(tier)))
        && (when.MinOrderValue is null || eligible >= when.MinOrderValue);

    private static bool LineMatches(EarningConditions when, string? category, string? sku) =>
        (when.Categories.Count == 0 || (category is not null && when.Categories.Contains(category)))
        && (when.Skus.Count == 0 || (sku is not null && when.Skus.Contains(sku)));

    /// <summary>
    /// Posts an order's earnings (one lot per rule component, natural key order id + rule id) as pending or available
    /// according to the pending policy, after redeeming the points it was paid with. Returns the order's ledger record.
    /// </summary>
    public LedgerOrder PostOrder(LedgerPosting posting, CustomerLedger state, OrderPlaced order, EarningEvaluation evaluation, EventId? eventId, long pointsRedeemed)
    {
        ArgumentNullException.ThrowIfNull(posting);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(evaluation);
        var lots = new List<string>();
        var spend = evaluation.EligibleValue;
        var window = ledger.Pending;
        Instant? until = null;
        var untilCompletion = false;
        if (window.StartsAt == PendingStart.Placement && window.Days > 0)
        {
            until = order.OccurredAt + Duration.FromDays(window.Days);
            if (until <= posting.Now)
            {
                until = null;
            }
        }
        else if (window.StartsAt == PendingStart.Completion)
        {
            untilCompletion = true;
        }

        foreach (var c in evaluation.Components)
        {
            RequireCredit(state, c.Ledger, c.Points);
            var reason = new LedgerReason { CommandKey = posting.Key, Rule = c.Rule, RuleVersion = c.RuleVersion, OrderId = order.OrderId, EventId = eventId, Note = c.Explanation };
            var before = posting.Transfers.Count;
            Credit(posting, state, c.Ledger, c.Points, TransferKind.Earn, AccountKind.Issuance, reason, pendingUntil: until, pendingUntilCompletion: untilCompletion, spend: c.Ledger == Primary ? spend : 0m, suffix: c.Rule);
            if (c.Ledger == Primary)
            {
                spend = 0m;
            }

            lots.Add(posting.Transfers[before].CreditLot!);
        }

        EvaluateTier(state, posting, "ledger.order");
        RefreshDue(state);
        return new LedgerOrder
        {
            OrderId = order.OrderId,
            Customer = state.Customer,
            Ledger = Primary,
            Points = evaluation.Components.Where(c => c.Ledger == Primary).Sum(c => c.Points),
            PointsByLine = evaluation.PointsByLine,
            QuantityByLine = order.Lines.ToDictionary(l => l.LineId, l => l.Quantity, StringComparer.Ordinal),
            PointsRedeemed = pointsRedeemed,
            Spend = evaluation.EligibleValue,
            Lots = lots,
            PlacedAt = order.OccurredAt,
        };
    }

    /// <summary>Creates an empty posting for a command key at <paramref name="now"/>.</summary>
    public LedgerPosting Begin(string key, Instant now, CustomerLedger state, CustomerLedger? other = null) => new(key, now, BookingDay(now), state, other);

    /// <summary>Redeems up to <paramref name="points"/> (what is spendable) for an order paid with points; returns the
    /// points actually redeemed.</summary>
    public long RedeemForOrder(LedgerPosting posting, CustomerLedger state, string orderId, long points, EventId? eventId)
    {
        ArgumentNullException.ThrowIfNull(posting);
        ArgumentNullException.ThrowIfNull(state);
        var take = Math.Min(points, Spendable(state, Primary, posting.Now));
        if (take > 0)
        {
            Debit(posting, state, Primary, take, TransferKind.Redeem, AccountKind.Redeemed, new LedgerReason { CommandKey = posting.Key, Rule = "ledger.order_paid_with_points", OrderId = orderId, EventId = eventId });
        }

        return take;
    }

    /// <summary>Captures a checkout reservation for an order (up to <paramref name="points"/>), releasing the rest.</summary>
    public long CaptureForOrder(LedgerPosting posting, CustomerLedger state, string reservationId, long points, EventId? eventId)
    {
        ArgumentNullException.ThrowIfNull(posting);
        ArgumentNullException.ThrowIfNull(state);
        if (!state.Reservations.TryGetValue(reservationId, out var r) || r.Open == 0 || r.ExpiresAt <= posting.Now)
        {
            return 0;
        }

        var take = Math.Min(points, r.Open);
        Capture(posting, state, new CaptureCommand { IdempotencyKey = posting.Key, Customer = state.Customer, ReservationId = reservationId, Points = take }, new LedgerReason { CommandKey = posting.Key, EventId = eventId });
        return take;
    }

    /// <summary>An order was completed: its pending window starts (or, with no window, its points become available).</summary>
    public LedgerOrder CompleteOrder(LedgerPosting posting, CustomerLedger state, LedgerOrder order, EventId? eventId)
    {
        ArgumentNullException.ThrowIfNull(posting);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(order);
        if (order.CompletedAt is not null)
        {
            return order;
        }

        if (ledger.Pending.StartsAt == PendingStart.Completion)
        {
            var at = posting.Now + Duration.FromDays(ledger.Pending.Days);
            var ids = state.Lots.Where(l => l.Pending > 0 && string.Equals(l.OrderId, order.OrderId, StringComparison.Ordinal)).Select(l => l.Id).ToArray();
            foreach (var id in ids)
            {
                if (ledger.Pending.Days == 0)
                {
                    Activate(posting, state, id, new LedgerReason { CommandKey = posting.Key, Rule = ActivationRule, EventId = eventId });
                }
                else
                {
                    var lots = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(state.Lots);
                    lots[state.FindLot(id)].ActivatesAt = at;
                }
            }
        }

        RefreshDue(state);
        return order with { CompletedAt = posting.Now };
    }

    /// <summary>
    /// Applies a return or cancellation: claws back the order's points in proportion to what was returned (by line;
    /// cumulative, rounded up, so a whole return takes back exactly what was earned), cancelling pending points first,
    /// then per the return policy; gives back points the order was paid with in proportion to the value returned, as a
    /// new lot; settles shortfalls from it. Returns the updated order record.
    /// </summary>
    public LedgerOrder ApplyReturn(LedgerPosting posting, CustomerLedger state, LedgerOrder order, IReadOnlyDictionary<string, int> returnedByLine, decimal returnedValueShare, EventId? eventId, bool cancellation)
    {
        ArgumentNullException.ThrowIfNull(posting);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(returnedByLine);
        decimal target = 0;
        foreach (var (line, points) in order.PointsByLine)
        {
            var qty = order.QuantityByLine.GetValueOrDefault(line);
            if (qty > 0)
            {
                target += points * (decimal)Math.Min(returnedByLine.GetValueOrDefault(line), qty) / qty;
            }
            else if (line.StartsWith('_'))
            {
                // Shipping and tax earn with the order: taken back in proportion to the value returned.
                target += points * returnedValueShare;
            }
        }

        var cumulative = Math.Min(order.Points, (long)decimal.Ceiling(target));
        var claw = cumulative - order.ClawedBack;
        var reason = new LedgerReason
        {
            CommandKey = posting.Key, Rule = ReturnRule, RuleVersion = Program.Version, OrderId = order.OrderId, EventId = eventId,
            Note = cancellation ? "Order cancelled: points taken back." : "Goods returned: points taken back in proportion.",
        };
        var spendBack = decimal.Round(order.Spend * returnedValueShare, 2);
        if (claw > 0)
        {
            var shortBefore = posting.Shortfall;
            TakeBack(posting, state, order.Ledger, claw, null, order.OrderId, TransferKind.Clawback, reason, spendBack);
            if (ledger.Returns.Mode == ReturnMode.OnlyPending)
            {
                // What could not be cancelled stays with the customer under this policy; count it as handled.
                _ = shortBefore;
            }
        }

        var refundTarget = (long)decimal.Floor(order.PointsRedeemed * Math.Clamp(returnedValueShare, 0m, 1m));
        var refund = refundTarget - order.PointsRefunded;
        if (refund > 0)
        {
            Credit(posting, state, order.Ledger, refund, TransferKind.Refund, AccountKind.Redeemed,
                new LedgerReason { CommandKey = posting.Key, Rule = "ledger.refund_points_paid", OrderId = order.OrderId, EventId = eventId, Note = "Points paid for returned goods given back." });
        }

        EvaluateTier(state, posting, ReturnRule);
        RefreshDue(state);
        var returned = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (k, v) in returnedByLine)
        {
            returned[k] = v;
        }

        return order with
        {
            ClawedBack = Math.Max(order.ClawedBack, cumulative),
            PointsRefunded = order.PointsRefunded + Math.Max(0, refund),
            ReturnedByLine = returned,
        };
    }

    private static string Month(Instant? instant, DateTimeZone zone) =>
        instant is { } i ? i.InZone(zone).Date.ToString("yyyy-MM", CultureInfo.InvariantCulture) : "never";

    /// <summary>The expiry month (<c>yyyy-MM</c>, <c>never</c>) of an instant, in the program's zone.</summary>
    public string ExpiryMonth(Instant? expiresAt) => expiresAt is { } e ? Month(e - Duration.FromTicks(1), Zone) : "never";

    private static ValidationError Error(string path, string code, string message) => new(path, code, message);
}
