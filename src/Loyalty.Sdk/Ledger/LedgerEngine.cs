using System.Globalization;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Validation;
using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>
/// The pure ledger engine of one program: given a customer's state, a command and the instant, it decides the entries
/// and applies them to the state it was given (decide, then evolve through <see cref="CustomerLedger.Apply"/>).
/// No I/O, no clock: the same inputs give the same entries. Every check runs before the first entry, so a refused
/// command changes nothing. Thread-safe (it keeps no mutable state besides caches).
/// </summary>
public sealed partial class LedgerEngine
{
    /// <summary>Rule id of expiry entries.</summary>
    public const string ExpiryRule = "ledger.expiry";

    /// <summary>Rule id of inactivity expiry entries.</summary>
    public const string InactivityRule = "ledger.inactivity";

    /// <summary>Rule id of activations at the end of the pending window.</summary>
    public const string ActivationRule = "ledger.pending_window";

    /// <summary>Rule id of return clawbacks.</summary>
    public const string ReturnRule = "ledger.return_policy";

    /// <summary>Rule id of reservation timeouts.</summary>
    public const string ReservationTimeoutRule = "ledger.reservation_timeout";

    private readonly Dictionary<string, PointCurrency> currencies;
    private readonly LedgerProgram ledger;
    private DayCache dayCache = new(default, default, default);
    private ExpiryCache expiryCache = new(string.Empty, default, null);
    private readonly Dictionary<string, CompiledRule>? conditions;
    private readonly int slotCount;
    private readonly bool manualCaps;

    /// <summary>Creates the engine for <paramref name="program"/> (a program without a ledger section gets the
    /// defaults: one <c>points</c> currency, nothing earned from orders).</summary>
    public LedgerEngine(LoyaltyProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        Program = program;
        ledger = program.Ledger ?? new LedgerProgram();
        Zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(program.DefaultTimeZone) ?? DateTimeZone.Utc;
        currencies = ledger.Currencies.ToDictionary(c => c.Code, StringComparer.Ordinal);
        Tiers = ledger.Tiers is { Levels.Count: > 0 } t ? t : null;
        manualCaps = ledger.Caps.Any(c => c.IncludeManualEarns);
        Rules = [.. ledger.EarningRules.Select((r, i) => (r, i)).OrderByDescending(x => x.r.Priority).ThenBy(x => x.i).Select(x => x.r)];
        if (Rules.Any(r => r.When.Rule is not null))
        {
            var schema = LedgerRules.CreateSchema(program);
            conditions = Rules.Where(r => r.When.Rule is not null).ToDictionary(r => r.Id, r => RuleCompiler.Compile(r.When.Rule!, schema), StringComparer.Ordinal);
            slotCount = schema.SlotCount;
            ConditionsUseSegments = conditions.Values.Any(c => c.Inputs.Segments.Count > 0);
        }
    }

    /// <summary>Whether an earning rule's condition reads segment membership (the stage then loads it).</summary>
    public bool ConditionsUseSegments { get; }

    /// <summary>The program.</summary>
    public LoyaltyProgram Program { get; }

    /// <summary>The ledger section in force.</summary>
    public LedgerProgram Settings => ledger;

    /// <summary>The program's time zone (booking days, expiry dates, periods).</summary>
    public DateTimeZone Zone { get; }

    /// <summary>The primary currency.</summary>
    public string Primary => ledger.PrimaryCurrency;

    private TierProgram? Tiers { get; }

    private IReadOnlyList<EarningRule> Rules { get; }

    /// <summary>Runs a command against <paramref name="state"/> (and <paramref name="counterparty"/>, the recipient of a
    /// member transfer). Throws a typed <see cref="LedgerException"/> or <see cref="LedgerValidationException"/>
    /// before any change when the command cannot be applied.</summary>
    public LedgerPosting Execute(CustomerLedger state, LedgerCommand command, Instant now, CustomerLedger? counterparty = null, LedgerTransfer? reversed = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(command);
        ValidateCommon(command, state);
        var code = command.Ledger ?? Primary;
        var posting = command is TransferPointsCommand
            ? new LedgerPosting(command.IdempotencyKey, now, BookingDay(now), state, counterparty ?? throw new ArgumentNullException(nameof(counterparty)))
            : new LedgerPosting(command.IdempotencyKey, now, BookingDay(now), state);
        if (command is EarnCommand e)
        {
            // The hot path: one reason, one lot.
            RequirePositive(e.Points, "$.points");
            RequireCredit(state, code, e.Points);
            var points = e.OrderId is null && manualCaps ? CapManualEarn(posting, state, code, e.Points) : e.Points;
            if (points > 0)
            {
                var earned = new LedgerReason { CommandKey = command.IdempotencyKey, Actor = command.Actor, Note = command.Note, Rule = e.Rule, OrderId = e.OrderId };
                Credit(posting, state, code, points, TransferKind.Earn, AccountKind.Issuance, earned, pendingUntil: e.PendingUntil is { } until && until > now ? until : null);
            }

            EvaluateTier(state, posting, "ledger.earn");
            return posting;
        }

        var reason = new LedgerReason { CommandKey = command.IdempotencyKey, Actor = command.Actor, Note = command.Note };
        switch (command)
        {
            case RedeemCommand r:
                RequirePositive(r.Points, "$.points");
                Debit(posting, state, code, r.Points, TransferKind.Redeem, AccountKind.Redeemed, reason with { OrderId = r.OrderId, Rule = "ledger.redeem" });
                break;
            case ReserveCommand r:
                Reserve(posting, state, code, r, reason);
                break;
            case CaptureCommand c:
                Capture(posting, state, c, reason);
                break;
            case ReleaseCommand r:
                var reservation = RequireReservation(state, r.ReservationId, now);
                if (reservation.Open == 0)
                {
                    throw new ReservationStateException("reservation_closed", $"Reservation {r.ReservationId} holds nothing any more (captured or released).");
                }

                ReleaseAll(posting, state, reservation, reason with { Rule = "ledger.release", OrderId = reservation.OrderId });
                break;
            case ReverseCommand rv:
                Reverse(posting, state, rv, reversed ?? throw new UnknownLedgerEntityException("transfer", rv.TransferId), reason);
                break;
            case AdjustCommand a:
                if (a.Points == 0)
                {
                    throw Invalid("$.points", "zero", "An adjustment cannot be zero.");
                }

                if (a.Points > 0)
                {
                    RequireCredit(state, code, a.Points);
                    Credit(posting, state, code, a.Points, TransferKind.Adjust, AccountKind.Adjustments, reason with { Rule = "ledger.adjustment" });
                }
                else
                {
                    Debit(posting, state, code, checked(-a.Points), TransferKind.Adjust, AccountKind.Adjustments, reason with { Rule = "ledger.adjustment" });
                }

                break;
            case ExpireLotCommand x:
                var li = state.FindLot(x.LotId);
                if (li < 0 || !string.Equals(state.Lots[li].Ledger, code, StringComparison.Ordinal))
                {
                    throw new UnknownLedgerEntityException("lot", x.LotId);
                }

                ExpireLot(posting, state, li, reason with { Rule = "ledger.manual_expiry" });
                break;
            case TransferPointsCommand t:
                RequirePositive(t.Points, "$.points");
                if (t.To == state.Customer)
                {
                    throw Invalid("$.to", "same_customer", "A member cannot transfer points to themselves.");
                }

                RequireCredit(counterparty!, code, t.Points);
                MemberTransfer(posting, state, counterparty!, code, t.Points, reason with { Rule = "ledger.member_transfer" });
                break;
            case ConvertCommand cv:
                Convert(posting, state, code, cv, reason);
                break;
            case ActivateCommand act:
                ActivatePending(posting, state, lot => act.OrderId is null || string.Equals(lot.OrderId, act.OrderId, StringComparison.Ordinal), reason with { Rule = "ledger.manual_activation", OrderId = act.OrderId });
                break;
            case TierOverrideCommand o:
                SetOverride(posting, state, o);
                break;
            default:
                throw new LedgerException("unsupported_command", $"{command.GetType().Name} is not a ledger command this engine knows.");
        }

        // Credits lower the due instant as they go (NoteDue, the earn path above); anything else recomputes it.
        RefreshDue(state);
        return posting;
    }

    /// <summary>The booking day of an instant in the program's time zone.</summary>
    public LocalDate BookingDay(Instant instant)
    {
        var cache = dayCache;
        if (instant >= cache.Start && instant < cache.End)
        {
            return cache.Day;
        }

        var day = instant.InZone(Zone).Date;
        var start = day.AtStartOfDayInZone(Zone).ToInstant();
        var end = day.PlusDays(1).AtStartOfDayInZone(Zone).ToInstant();
        dayCache = new DayCache(start, end, day);
        return day;
    }

    /// <summary>When points of <paramref name="code"/> activated at <paramref name="activatedAt"/> expire (null: never).</summary>
    public Instant? ExpiryFor(string code, Instant activatedAt)
    {
        var day = BookingDay(activatedAt);
        var cache = expiryCache;
        if (cache.Day == day && ReferenceEquals(cache.Ledger, code))
        {
            return cache.ExpiresAt;
        }

        var policy = currencies.TryGetValue(code, out var c) && c.Expiry is not null ? c.Expiry : ledger.Expiry;
        LocalDate? last = policy.Kind switch
        {
            ExpiryKind.AfterActivation => RoundUp(day.PlusMonths(policy.Months).PlusDays(policy.Days), policy.RoundUpTo),
            ExpiryKind.FixedDate => policy.FixedDate,
            ExpiryKind.EndOfPeriod => EndOfPeriod(day, policy.RoundUpTo, policy.Periods),
            _ => null,
        };
        Instant? expires = last is { } d ? d.PlusDays(1).AtStartOfDayInZone(Zone).ToInstant() : null;
        expiryCache = new ExpiryCache(code, day, expires);
        return expires;
    }

    private static LocalDate RoundUp(LocalDate date, ExpiryRounding rounding) => rounding switch
    {
        ExpiryRounding.Month => new LocalDate(date.Year, date.Month, 1).PlusMonths(1).PlusDays(-1),
        ExpiryRounding.Quarter => new LocalDate(date.Year, ((date.Month - 1) / 3 * 3) + 1, 1).PlusMonths(3).PlusDays(-1),
        ExpiryRounding.Year => new LocalDate(date.Year, 12, 31),
        _ => date,
    };

    private static LocalDate EndOfPeriod(LocalDate date, ExpiryRounding period, int periods) => period switch
    {
        ExpiryRounding.Quarter => RoundUp(date.PlusMonths(3 * periods), ExpiryRounding.Quarter),
        ExpiryRounding.Year => new LocalDate(date.Year + periods, 12, 31),
        _ => RoundUp(date.PlusMonths(periods), ExpiryRounding.Month),
    };

    private void ValidateCommon(LedgerCommand command, CustomerLedger state)
    {
        List<ValidationError>? errors = null;
        void Add(string path, string code, string message) => (errors ??= []).Add(new ValidationError(path, code, message));
        if (string.IsNullOrEmpty(command.IdempotencyKey) || command.IdempotencyKey.Length > 200)
        {
            Add("$.idempotencyKey", "required", "An idempotency key of 1 to 200 characters is required.");
        }

        if (command.Customer != state.Customer)
        {
            Add("$.customer", "customer_mismatch", $"The command is for {command.Customer}, the state is {state.Customer}'s.");
        }

        if (command.Ledger is { } code && !currencies.ContainsKey(code))
        {
            Add("$.ledger", "unknown_currency", $"The program has no point currency '{code}'.");
        }

        if (command is AdjustCommand or TierOverrideCommand)
        {
            if (string.IsNullOrWhiteSpace(command.Actor))
            {
                Add("$.actor", "required", "Manual entries name their actor.");
            }

            if (command is AdjustCommand && string.IsNullOrWhiteSpace(command.Note))
            {
                Add("$.note", "required", "Manual adjustments say why.");
            }
        }

        if (errors is not null)
        {
            throw new LedgerValidationException(errors);
        }
    }

    private static void RequirePositive(long points, string path)
    {
        if (points <= 0)
        {
            throw Invalid(path, points == 0 ? "zero" : "negative", "The amount must be a positive number of points.");
        }
    }

    private static void RequireCredit(CustomerLedger state, string code, long points)
    {
        var b = state.Balance(code);
        try
        {
            _ = checked(b.Available + points + b.Pending + b.Reserved);
            _ = checked(b.LifetimeEarned + points);
        }
        catch (OverflowException)
        {
            throw new LedgerOverflowException($"Crediting {points} {code} would overflow the balance of {state.Customer}.");
        }
    }

    internal static LedgerValidationException Invalid(string path, string code, string message) => new([new ValidationError(path, code, message)]);

    private PointCurrency Currency(string code) =>
        currencies.TryGetValue(code, out var c) ? c : throw Invalid("$.ledger", "unknown_currency", $"The program has no point currency '{code}'.");

    /// <summary>Points of <paramref name="code"/> that can be spent at <paramref name="now"/> (lots not past expiry, less debt).</summary>
    public static long Spendable(CustomerLedger state, string code, Instant now)
    {
        ArgumentNullException.ThrowIfNull(state);
        long sum = 0;
        foreach (var lot in state.Lots)
        {
            if (lot.Available > 0 && string.Equals(lot.Ledger, code, StringComparison.Ordinal) && (lot.ExpiresAt is null || lot.ExpiresAt > now))
            {
                sum = checked(sum + lot.Available);
            }
        }

        return Math.Max(0, sum - state.Balance(code).Debt);
    }

    /// <summary>Lot ids in consumption order (spendable lots only).</summary>
    private List<string> ConsumptionOrder(CustomerLedger state, string code, Instant now, string? preferOrder = null) =>
        ConsumptionIndexes(state, code, now, preferOrder).ConvertAll(i => state.Lots[i].Id);

    private List<int> ConsumptionIndexes(CustomerLedger state, string code, Instant now, string? preferOrder = null)
    {
        var order = new List<int>();
        for (var i = 0; i < state.Lots.Count; i++)
        {
            var lot = state.Lots[i];
            if (lot.Available > 0 && string.Equals(lot.Ledger, code, StringComparison.Ordinal) && (lot.ExpiresAt is null || lot.ExpiresAt > now))
            {
                order.Add(i);
            }
        }

        var lots = state.Lots;
        order.Sort((a, b) =>
        {
            if (preferOrder is not null)
            {
                var pa = string.Equals(lots[a].OrderId, preferOrder, StringComparison.Ordinal);
                var pb = string.Equals(lots[b].OrderId, preferOrder, StringComparison.Ordinal);
                if (pa != pb)
                {
                    return pa ? -1 : 1;
                }
            }

            if (ledger.Consumption == Programs.ConsumptionOrder.EarliestExpiry)
            {
                var ea = lots[a].ExpiresAt ?? Instant.MaxValue;
                var eb = lots[b].ExpiresAt ?? Instant.MaxValue;
                var c = ea.CompareTo(eb);
                if (c != 0)
                {
                    return c;
                }
            }

            var t = lots[a].CreatedAt.CompareTo(lots[b].CreatedAt);
            return t != 0 ? t : a.CompareTo(b);
        });
        return order;
    }

    /// <summary>Credits a new lot (available, or pending) from a program account, then settles debts from it.</summary>
    private void Credit(LedgerPosting posting, CustomerLedger state, string code, long points, TransferKind kind, AccountKind from, LedgerReason reason, Instant? pendingUntil = null, bool pendingUntilCompletion = false, decimal spend = 0m, Instant? expiresAt = null, string? suffix = null)
    {
        var pending = pendingUntil is not null || pendingUntilCompletion;
        var id = posting.NextId(suffix);
        var transfer = posting.Post(new LedgerTransfer
        {
            Id = id,
            Ledger = code,
            Debit = LedgerAccount.Program(from),
            Credit = LedgerAccount.Of(state.Customer, pending ? AccountKind.Pending : AccountKind.Available),
            Amount = points,
            Kind = kind,
            At = posting.Now,
            BookingDate = posting.BookingDate,
            CreditLot = id,
            ActivatesAt = pendingUntil,
            ExpiresAt = pending ? null : expiresAt ?? ExpiryFor(code, posting.Now),
            Spend = spend,
            Reason = reason,
        });
        if (!pending)
        {
            Settle(posting, state, code, transfer.CreditLot!);
            state.InactivityExpiresAt = InactivityDeadline(code, posting.Now) ?? state.InactivityExpiresAt;
        }

        NoteDue(state, pending ? pendingUntil : transfer.ExpiresAt);
        if (!pending && ledger.ExpiryNoticeDays > 0 && transfer.ExpiresAt is { } e && (state.NoticedThrough is null || e > state.NoticedThrough))
        {
            NoteDue(state, e - Duration.FromDays(ledger.ExpiryNoticeDays));
        }

        NoteDue(state, state.InactivityExpiresAt);
    }

    private Instant? InactivityDeadline(string code, Instant now)
    {
        var policy = currencies.TryGetValue(code, out var c) && c.Expiry is not null ? c.Expiry : ledger.Expiry;
        return policy.InactivityMonths is { } months && months > 0 ? BookingDay(now).PlusMonths(months).PlusDays(1).AtStartOfDayInZone(Zone).ToInstant() : null;
    }

    /// <summary>Debits spendable lots in consumption order to a program account; refuses when not enough.</summary>
    private void Debit(LedgerPosting posting, CustomerLedger state, string code, long points, TransferKind kind, AccountKind to, LedgerReason reason)
    {
        var spendable = Spendable(state, code, posting.Now);
        if (spendable < points)
        {
            throw new InsufficientPointsException(code, points, spendable);
        }

        var left = points;
        foreach (var lotId in ConsumptionOrder(state, code, posting.Now))
        {
            var lot = state.Lots[state.FindLot(lotId)];
            var take = Math.Min(left, lot.Available);
            posting.Post(posting.Transfer(code, LedgerAccount.Of(state.Customer, AccountKind.Available), LedgerAccount.Program(to), take, kind, reason, debitLot: lot.Id));
            left -= take;
            if (left == 0)
            {
                break;
            }
        }

        state.InactivityExpiresAt = InactivityDeadline(code, posting.Now) ?? state.InactivityExpiresAt;
    }

    /// <summary>Pays a negative balance, then a recorded clawback shortfall, from a lot just made available.</summary>
    private static void Settle(LedgerPosting posting, CustomerLedger state, string code, string lotId)
    {
        var balance = state.Balance(code);
        if (balance.Debt <= 0 && balance.Owed <= 0)
        {
            return;
        }

        var li = state.FindLot(lotId);
        if (li < 0)
        {
            return;
        }

        var available = state.Lots[li].Available;
        if (balance.Debt > 0 && available > 0)
        {
            var pay = Math.Min(balance.Debt, available);
            posting.Post(posting.Transfer(code, LedgerAccount.Of(state.Customer, AccountKind.Available), LedgerAccount.Of(state.Customer, AccountKind.Available), pay, TransferKind.SettleDebt, new LedgerReason { CommandKey = posting.Key, Rule = ReturnRule, Note = "Negative balance settled from a new credit." }, debitLot: lotId));
            available -= pay;
        }

        if (balance.Owed > 0 && available > 0)
        {
            var pay = Math.Min(balance.Owed, available);
            posting.Post(posting.Transfer(code, LedgerAccount.Of(state.Customer, AccountKind.Available), LedgerAccount.Program(AccountKind.Issuance), pay, TransferKind.Recover, new LedgerReason { CommandKey = posting.Key, Rule = ReturnRule, Note = "Clawback shortfall recovered from a new credit." }, debitLot: lotId));
        }
    }

    private void Reserve(LedgerPosting posting, CustomerLedger state, string code, ReserveCommand r, LedgerReason reason)
    {
        RequirePositive(r.Points, "$.points");
        if (string.IsNullOrEmpty(r.ReservationId))
        {
            throw Invalid("$.reservationId", "required", "A reservation id is required.");
        }

        if (r.Timeout is { } t && t <= Duration.Zero)
        {
            throw Invalid("$.timeout", "out_of_range", "A reservation timeout must be positive.");
        }

        if (state.Reservations.ContainsKey(r.ReservationId))
        {
            throw new ReservationStateException("reservation_exists", $"Reservation {r.ReservationId} already exists.");
        }

        var spendable = Spendable(state, code, posting.Now);
        if (spendable < r.Points)
        {
            throw new InsufficientPointsException(code, r.Points, spendable);
        }

        var expires = posting.Now + (r.Timeout ?? Duration.FromMinutes(ledger.Reservations.TimeoutMinutes));
        var left = r.Points;
        foreach (var lotId in ConsumptionOrder(state, code, posting.Now))
        {
            var lot = state.Lots[state.FindLot(lotId)];
            var take = Math.Min(left, lot.Available);
            posting.Post(posting.Transfer(code, LedgerAccount.Of(state.Customer, AccountKind.Available), LedgerAccount.Of(state.Customer, AccountKind.Reserved), take, TransferKind.Reserve, reason with { OrderId = r.OrderId, Rule = "ledger.reserve" }, debitLot: lot.Id, creditLot: lot.Id, reservationId: r.ReservationId) with
            {
                ExpiresAt = expires,
            });
            left -= take;
            if (left == 0)
            {
                break;
            }
        }
    }

    private static LedgerReservation RequireReservation(CustomerLedger state, string id, Instant now)
    {
        _ = now;
        return state.Reservations.TryGetValue(id, out var r) ? r : throw new UnknownLedgerEntityException("reservation", id);
    }

    private void Capture(LedgerPosting posting, CustomerLedger state, CaptureCommand c, LedgerReason reason)
    {
        var r = RequireReservation(state, c.ReservationId, posting.Now);
        if (c.Ledger is { } code && !string.Equals(code, r.Ledger, StringComparison.Ordinal))
        {
            throw Invalid("$.ledger", "currency_mismatch", $"Reservation {r.Id} holds {r.Ledger}, not {code}.");
        }

        if (r.Open == 0)
        {
            throw new ReservationStateException("reservation_closed", $"Reservation {r.Id} holds nothing any more (captured or released).");
        }

        if (r.ExpiresAt <= posting.Now)
        {
            throw new ReservationStateException("reservation_expired", $"Reservation {r.Id} lapsed at {r.ExpiresAt}.");
        }

        var points = c.Points ?? r.Open;
        RequirePositive(points, "$.points");
        if (points > r.Open)
        {
            throw new ReservationStateException("capture_exceeds_reserved", $"Cannot capture {points}: reservation {r.Id} holds {r.Open}.");
        }

        var left = points;
        foreach (var (lotId, held) in r.Held.ToArray())
        {
            if (left == 0)
            {
                break;
            }

            var take = Math.Min(left, held);
            posting.Post(posting.Transfer(r.Ledger, LedgerAccount.Of(state.Customer, AccountKind.Reserved), LedgerAccount.Program(AccountKind.Redeemed), take, TransferKind.Capture, reason with { OrderId = r.OrderId, Rule = "ledger.capture" }, debitLot: lotId, reservationId: r.Id));
            left -= take;
        }

        if (r.Open > 0)
        {
            ReleaseAll(posting, state, r, reason with { OrderId = r.OrderId, Rule = "ledger.capture_remainder" });
        }

        state.LastActivityAt = posting.Now;
        state.InactivityExpiresAt = InactivityDeadline(r.Ledger, posting.Now) ?? state.InactivityExpiresAt;
    }

    private static void ReleaseAll(LedgerPosting posting, CustomerLedger state, LedgerReservation r, LedgerReason reason)
    {
        foreach (var (lotId, held) in r.Held.ToArray())
        {
            posting.Post(posting.Transfer(r.Ledger, LedgerAccount.Of(state.Customer, AccountKind.Reserved), LedgerAccount.Of(state.Customer, AccountKind.Available), held, TransferKind.Release, reason, debitLot: lotId, creditLot: lotId, reservationId: r.Id));
        }
    }

    private void Reverse(LedgerPosting posting, CustomerLedger state, ReverseCommand rv, LedgerTransfer original, LedgerReason reason)
    {
        var r = reason with { Rule = "ledger.reverse", OrderId = original.Reason.OrderId, Reverses = original.Id };
        switch (original.Kind)
        {
            case TransferKind.Earn or TransferKind.Refund or TransferKind.Adjust when original.Credit.Customer == state.Customer && original.CreditLot is not null:
                TakeBack(posting, state, original.Ledger, original.Amount, original.CreditLot, original.Reason.OrderId, TransferKind.Reverse, r, original.Spend);
                break;
            case TransferKind.Redeem or TransferKind.Capture or TransferKind.Adjust when original.Debit.Customer == state.Customer:
                Credit(posting, state, original.Ledger, original.Amount, TransferKind.Reverse, original.Credit.Kind, r);
                break;
            default:
                throw new LedgerException("not_reversible", $"Transfer {rv.TransferId} ({original.Kind}) of {state.Customer} cannot be reversed.");
        }
    }

    /// <summary>
    /// Takes back <paramref name="points"/> earned: from the given lot (pending, then available), then from the order's
    /// other lots, then — unless the policy only cancels pending points — from any spendable lot; what is still missing
    /// is a recorded shortfall (within balance) or a negative balance (allow negative).
    /// </summary>
    private void TakeBack(LedgerPosting posting, CustomerLedger state, string code, long points, string? lotId, string? orderId, TransferKind kind, LedgerReason reason, decimal spend, bool onlyLot = false)
    {
        var left = points;
        var spendLeft = spend;
        LedgerTransfer? last = null;

        void Take(int li, AccountKind account)
        {
            var lot = state.Lots[li];
            var have = account == AccountKind.Pending ? lot.Pending : lot.Available;
            var take = Math.Min(left, have);
            if (take <= 0)
            {
                return;
            }

            last = posting.Post(posting.Transfer(code, LedgerAccount.Of(state.Customer, account), LedgerAccount.Program(AccountKind.Issuance), take, kind, reason, debitLot: lot.Id) with
            {
                Spend = spendLeft,
            });
            spendLeft = 0m;
            left -= take;
        }

        // 1. The lot itself, then the order's other lots: pending first (the return window), then available.
        foreach (var account in new[] { AccountKind.Pending, AccountKind.Available })
        {
            if (left > 0 && lotId is not null && state.FindLot(lotId) is var own and >= 0)
            {
                Take(own, account);
            }

            if (orderId is not null)
            {
                for (var i = state.Lots.Count - 1; i >= 0 && left > 0; i--)
                {
                    if (string.Equals(state.Lots[i].OrderId, orderId, StringComparison.Ordinal) && string.Equals(state.Lots[i].Ledger, code, StringComparison.Ordinal))
                    {
                        Take(i, account);
                    }
                }
            }

            if (account == AccountKind.Pending && kind == TransferKind.Clawback && ledger.Returns.Mode == ReturnMode.OnlyPending)
            {
                // Only pending points are cancelled.
                left = 0;
            }
        }

        if (onlyLot)
        {
            left = 0;
        }

        // 2. Any spendable lot.
        if (left > 0)
        {
            foreach (var id in ConsumptionOrder(state, code, posting.Now))
            {
                Take(state.FindLot(id), AccountKind.Available);
                if (left == 0)
                {
                    break;
                }
            }
        }

        // 3. What is still missing.
        if (left > 0)
        {
            if (ledger.Returns.Mode == ReturnMode.AllowNegative)
            {
                posting.Post(posting.Transfer(code, LedgerAccount.Of(state.Customer, AccountKind.Available), LedgerAccount.Program(AccountKind.Issuance), left, kind, reason with { Note = "Clawback beyond the balance: the balance becomes negative." }) with
                {
                    Spend = spendLeft,
                });
            }
            else
            {
                // Recorded as a shortfall on a zero-amount clawback entry, recovered from later credits.
                posting.Post(posting.Transfer(code, LedgerAccount.Of(state.Customer, AccountKind.Available), LedgerAccount.Program(AccountKind.Issuance), 0, TransferKind.Clawback, reason with { Note = "Clawback shortfall: recorded, to be recovered from later credits." }) with
                {
                    Shortfall = left,
                    Spend = spendLeft,
                });
                posting.Shortfall += left;
            }
        }

        _ = last;
    }

    private void ExpireLot(LedgerPosting posting, CustomerLedger state, int li, LedgerReason reason)
    {
        var lot = state.Lots[li];
        foreach (var account in new[] { AccountKind.Pending, AccountKind.Available })
        {
            var amount = account == AccountKind.Pending ? lot.Pending : lot.Available;
            if (amount > 0)
            {
                posting.Post(posting.Transfer(lot.Ledger, LedgerAccount.Of(state.Customer, account), LedgerAccount.Program(AccountKind.Expired), amount, TransferKind.Expire, reason with { OrderId = lot.OrderId }, debitLot: lot.Id));
            }
        }
    }

    private void MemberTransfer(LedgerPosting posting, CustomerLedger from, CustomerLedger to, string code, long points, LedgerReason reason)
    {
        var spendable = Spendable(from, code, posting.Now);
        if (spendable < points)
        {
            throw new InsufficientPointsException(code, points, spendable);
        }

        var left = points;
        var credited = new List<string>();
        foreach (var lotId in ConsumptionOrder(from, code, posting.Now))
        {
            var lot = from.Lots[from.FindLot(lotId)];
            var take = Math.Min(left, lot.Available);
            var id = posting.NextId();
            posting.Post(new LedgerTransfer
            {
                Id = id,
                Ledger = code,
                Debit = LedgerAccount.Of(from.Customer, AccountKind.Available),
                Credit = LedgerAccount.Of(to.Customer, AccountKind.Available),
                Amount = take,
                Kind = TransferKind.MemberTransfer,
                At = posting.Now,
                BookingDate = posting.BookingDate,
                DebitLot = lot.Id,
                CreditLot = id,
                ExpiresAt = lot.ExpiresAt,
                Reason = reason,
            });
            credited.Add(id);
            left -= take;
            if (left == 0)
            {
                break;
            }
        }

        foreach (var id in credited)
        {
            Settle(posting, to, code, id);
        }

        RefreshDue(to);
    }

    private void Convert(LedgerPosting posting, CustomerLedger state, string code, ConvertCommand cv, LedgerReason reason)
    {
        RequirePositive(cv.Points, "$.points");
        _ = Currency(code);
        if (!currencies.ContainsKey(cv.ToLedger))
        {
            throw Invalid("$.toLedger", "unknown_currency", $"The program has no point currency '{cv.ToLedger}'.");
        }

        var rule = ledger.Conversions.FirstOrDefault(c => c.From == code && c.To == cv.ToLedger)
            ?? throw Invalid("$.toLedger", "currency_mismatch", $"The program has no conversion from {code} to {cv.ToLedger}.");
        var converted = (long)decimal.Floor(cv.Points * rule.Rate);
        if (converted <= 0)
        {
            throw Invalid("$.points", "too_small", $"{cv.Points} {code} convert to less than one {cv.ToLedger}.");
        }

        RequireCredit(state, cv.ToLedger, converted);
        var r = reason with { Rule = $"ledger.convert.{code}.{cv.ToLedger}" };
        Debit(posting, state, code, cv.Points, TransferKind.Convert, AccountKind.Conversion, r);
        Credit(posting, state, cv.ToLedger, converted, TransferKind.Convert, AccountKind.Conversion, r);
    }

    private void ActivatePending(LedgerPosting posting, CustomerLedger state, Func<LedgerLot, bool> which, LedgerReason reason)
    {
        var ids = state.Lots.Where(l => l.Pending > 0 && which(l)).Select(l => l.Id).ToArray();
        foreach (var id in ids)
        {
            Activate(posting, state, id, reason);
        }
    }

    private long Activate(LedgerPosting posting, CustomerLedger state, string lotId, LedgerReason reason)
    {
        var lot = state.Lots[state.FindLot(lotId)];
        posting.Post(posting.Transfer(lot.Ledger, LedgerAccount.Of(state.Customer, AccountKind.Pending), LedgerAccount.Of(state.Customer, AccountKind.Available), lot.Pending, TransferKind.Activate, reason with { OrderId = lot.OrderId }, debitLot: lot.Id, creditLot: lot.Id) with
        {
            ExpiresAt = ExpiryFor(lot.Ledger, posting.Now),
        });
        Settle(posting, state, lot.Ledger, lot.Id);
        state.InactivityExpiresAt = InactivityDeadline(lot.Ledger, posting.Now) ?? state.InactivityExpiresAt;
        return lot.Pending;
    }

    /// <summary>Lowers <see cref="CustomerLedger.NextDueAt"/> to <paramref name="due"/> (cheap, for credits).</summary>
    private static void NoteDue(CustomerLedger state, Instant? due)
    {
        if (due is { } d && (state.NextDueAt is null || d < state.NextDueAt))
        {
            state.NextDueAt = d;
        }
    }

    /// <summary>Recomputes when the state next needs due work.</summary>
    public void RefreshDue(CustomerLedger state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Instant? due = null;
        void Min(Instant? x)
        {
            if (x is { } v && (due is null || v < due))
            {
                due = v;
            }
        }

        var notice = Duration.FromDays(ledger.ExpiryNoticeDays);
        var anyAvailable = false;
        foreach (ref readonly var lot in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(state.Lots))
        {
            if (lot.Pending > 0)
            {
                Min(lot.ActivatesAt);
            }

            if (lot.Available > 0)
            {
                anyAvailable = true;
                Min(lot.ExpiresAt);
                if (ledger.ExpiryNoticeDays > 0 && lot.ExpiresAt is { } e && (state.NoticedThrough is null || e > state.NoticedThrough))
                {
                    Min(e - notice);
                }
            }
        }

        foreach (var r in state.Reservations.Values)
        {
            if (r.Open > 0)
            {
                Min(r.ExpiresAt);
            }
        }

        if (anyAvailable)
        {
            Min(state.InactivityExpiresAt);
        }

        Min(state.Tier.GraceUntil ?? state.Tier.ReviewAt);
        Min(state.Tier.Override?.Until);
        state.NextDueAt = due;
    }

    private static string Format(Instant instant) => instant.ToString("uuuu-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private sealed record DayCache(Instant Start, Instant End, LocalDate Day);

    private sealed record ExpiryCache(string Ledger, LocalDate Day, Instant? ExpiresAt);
}
