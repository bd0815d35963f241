using Loyalty.Sdk.Programs;
using NodaTime;
using static Loyalty.Sdk.Ledger.Tests.Programs;

namespace Loyalty.Sdk.Ledger.Tests;

public sealed class CommandTests
{
    private static EarnCommand Earn(string key, long points, CustomerId? c = null, string? ledger = null) => new() { IdempotencyKey = key, Customer = c ?? Ann, Points = points, Ledger = ledger };

    [Fact]
    public async Task Earn_then_redeem_consumes_earliest_expiry_first_and_records_lots_used()
    {
        await using var host = new Host();
        var first = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 100));
        host.Clock.Advance(Duration.FromDays(40));
        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k2", 100));
        var redeem = await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "r1", Customer = Ann, Points = 150 });
        Assert.Equal([first.Transfers[0].CreditLot, "k2#0"], redeem.Transfers.Select(t => t.DebitLot));
        Assert.Equal([100L, 50L], redeem.Transfers.Select(t => t.Amount));
        Assert.Equal(50, (await host.Balance(Ann)).Available);
        Assert.Equal(200, (await host.Balance(Ann)).LifetimeEarned);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task A_retry_returns_the_original_result_and_a_reused_key_is_a_conflict()
    {
        await using var host = new Host();
        var a = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 100));
        var b = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 100));
        Assert.True(b.Replayed);
        Assert.Equal(a.Transfers, b.Transfers);
        Assert.Equal(100, (await host.Balance(Ann)).Available);
        var ex = await Assert.ThrowsAsync<IdempotencyConflictException>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 101)));
        Assert.Equal("idempotency_conflict", ex.Code);
        await host.AssertReconciled();
    }

    [Theory]
    [InlineData(0, "zero")]
    [InlineData(-5, "negative")]
    public async Task Zero_and_negative_amounts_are_refused_with_a_path(long points, string code)
    {
        await using var host = new Host();
        var ex = await Assert.ThrowsAsync<LedgerValidationException>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k", points)));
        Assert.Equal(("$.points", code), (ex.Errors[0].Path, ex.Errors[0].Code));
        ex = await Assert.ThrowsAsync<LedgerValidationException>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "r", Customer = Ann, Points = points }));
        Assert.Equal("$.points", ex.Errors[0].Path);
    }

    [Fact]
    public async Task Every_typed_error_path_leaves_nothing_applied()
    {
        await using var host = new Host();
        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 100));
        async Task<T> Refused<T>(LedgerCommand c)
            where T : Exception => await Assert.ThrowsAsync<T>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, c));

        Assert.Equal("insufficient_points", (await Refused<InsufficientPointsException>(new RedeemCommand { IdempotencyKey = "a", Customer = Ann, Points = 101 })).Code);
        Assert.Equal("$.ledger", (await Refused<LedgerValidationException>(Earn("b", 1, ledger: "miles"))).Errors[0].Path);
        Assert.Equal("unknown_reservation", (await Refused<UnknownLedgerEntityException>(new CaptureCommand { IdempotencyKey = "c", Customer = Ann, ReservationId = "nope" })).Code);
        Assert.Equal("unknown_lot", (await Refused<UnknownLedgerEntityException>(new ExpireLotCommand { IdempotencyKey = "d", Customer = Ann, LotId = "nope" })).Code);
        Assert.Equal("unknown_transfer", (await Refused<UnknownLedgerEntityException>(new ReverseCommand { IdempotencyKey = "e", Customer = Ann, TransferId = "nope" })).Code);
        Assert.Equal("overflow", (await Refused<LedgerOverflowException>(Earn("f", long.MaxValue))).Code);
        var adjust = await Refused<LedgerValidationException>(new AdjustCommand { IdempotencyKey = "g", Customer = Ann, Points = 5 });
        Assert.Equal(["$.actor", "$.note"], adjust.Errors.Select(e => e.Path));
        Assert.Equal("$.toLedger", (await Refused<LedgerValidationException>(new ConvertCommand { IdempotencyKey = "h", Customer = Ann, Points = 10, ToLedger = "stamps" })).Errors[0].Path);
        Assert.Equal("$.to", (await Refused<LedgerValidationException>(new TransferPointsCommand { IdempotencyKey = "i", Customer = Ann, To = Ann, Points = 1 })).Errors[0].Path);
        Assert.Equal("$.idempotencyKey", (await Refused<LedgerValidationException>(Earn("order:x", 1))).Errors[0].Path);
        Assert.Equal("no_tiers", (await Refused<LedgerException>(new TierOverrideCommand { IdempotencyKey = "j", Customer = Ann, Tier = "gold", Actor = "ops" })).Code);

        await host.Ledger.ExecuteAsync(Host.Tenant, new ReserveCommand { IdempotencyKey = "res", Customer = Ann, ReservationId = "cart-1", Points = 60 });
        Assert.Equal("capture_exceeds_reserved", (await Refused<ReservationStateException>(new CaptureCommand { IdempotencyKey = "k", Customer = Ann, ReservationId = "cart-1", Points = 61 })).Code);
        Assert.Equal("$.ledger", (await Refused<LedgerValidationException>(new CaptureCommand { IdempotencyKey = "l", Customer = Ann, ReservationId = "cart-1", Ledger = "stamps" })).Errors[0].Path);
        Assert.Equal("reservation_exists", (await Refused<ReservationStateException>(new ReserveCommand { IdempotencyKey = "m", Customer = Ann, ReservationId = "cart-1", Points = 1 })).Code);
        Assert.Equal("insufficient_points", (await Refused<InsufficientPointsException>(new RedeemCommand { IdempotencyKey = "n", Customer = Ann, Points = 41 })).Code);
        host.Clock.Advance(Duration.FromMinutes(31));
        Assert.Equal("reservation_expired", (await Refused<ReservationStateException>(new CaptureCommand { IdempotencyKey = "o", Customer = Ann, ReservationId = "cart-1" })).Code);

        var b = await host.Balance(Ann);
        Assert.Equal((40, 60, 100), (b.Available, b.Reserved, b.LifetimeEarned));
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Unknown_customers_are_refused_when_required()
    {
        await using var host = new Host(requireKnown: true);
        var ex = await Assert.ThrowsAsync<UnknownLedgerEntityException>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k", 5)));
        Assert.Equal("unknown_customer", ex.Code);
    }

    [Fact]
    public async Task Reservation_two_phase_partial_capture_release_and_timeout()
    {
        await using var host = new Host();
        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 500));
        await host.Ledger.ExecuteAsync(Host.Tenant, new ReserveCommand { IdempotencyKey = "r1", Customer = Ann, ReservationId = "cart-1", Points = 300 });
        Assert.Equal((200L, 300L), ((await host.Balance(Ann)).Available, (await host.Balance(Ann)).Reserved));
        await Assert.ThrowsAsync<InsufficientPointsException>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "x", Customer = Ann, Points = 201 }));
        var capture = await host.Ledger.ExecuteAsync(Host.Tenant, new CaptureCommand { IdempotencyKey = "c1", Customer = Ann, ReservationId = "cart-1", Points = 120 });
        Assert.Equal(120, capture.Transfers.Where(t => t.Kind == TransferKind.Capture).Sum(t => t.Amount));
        Assert.Equal(180, capture.Transfers.Where(t => t.Kind == TransferKind.Release).Sum(t => t.Amount));
        var b = await host.Balance(Ann);
        Assert.Equal((380L, 0L), (b.Available, b.Reserved));
        await Assert.ThrowsAsync<ReservationStateException>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, new ReleaseCommand { IdempotencyKey = "rel", Customer = Ann, ReservationId = "cart-1" }));

        await host.Ledger.ExecuteAsync(Host.Tenant, new ReserveCommand { IdempotencyKey = "r2", Customer = Ann, ReservationId = "cart-2", Points = 100, Timeout = Duration.FromMinutes(5) });
        await host.Ledger.ExecuteAsync(Host.Tenant, new ReleaseCommand { IdempotencyKey = "rel2", Customer = Ann, ReservationId = "cart-2" });
        await host.Ledger.ExecuteAsync(Host.Tenant, new ReserveCommand { IdempotencyKey = "r3", Customer = Ann, ReservationId = "cart-3", Points = 100, Timeout = Duration.FromMinutes(5) });
        host.Clock.Advance(Duration.FromMinutes(6));
        var due = await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now);
        Assert.Equal(100, due.PointsReleased);
        Assert.Contains(due.Signals, s => s.Kind == LedgerSignalKind.ReservationExpired);
        Assert.Equal(380, (await host.Balance(Ann)).Available);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Expiry_is_an_entry_per_lot_rounded_to_month_end_runs_once_and_warns_before()
    {
        await using var host = new Host();
        var earn = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 100));
        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k2", 50));
        // Earned 3 March 2025 (Paris): 12 months → 3 March 2026, rounded to 31 March 2026, expires at midnight Paris.
        var expected = Instant.FromUtc(2026, 3, 31, 22, 0);
        Assert.Equal(expected, earn.Transfers[0].ExpiresAt);
        var soon = await host.Ledger.RunDueWorkAsync(Host.Tenant, expected - Duration.FromDays(10));
        var notice = Assert.Single(soon.Signals, s => s.Kind == LedgerSignalKind.PointsExpiringSoon);
        Assert.Equal(150, notice.Points);
        Assert.Empty((await host.Ledger.RunDueWorkAsync(Host.Tenant, expected - Duration.FromDays(9))).Signals);
        host.Clock.Reset(expected);
        await Assert.ThrowsAsync<InsufficientPointsException>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "late", Customer = Ann, Points = 1 }));
        var run = await host.Ledger.RunDueWorkAsync(Host.Tenant, expected);
        Assert.Equal(2, run.Transfers);
        Assert.Equal(150, run.PointsExpired);
        Assert.Contains(run.Signals, s => s.Kind == LedgerSignalKind.PointsExpired && s.Points == 150);
        var again = await host.Ledger.RunDueWorkAsync(Host.Tenant, expected);
        Assert.Equal(0, again.Transfers);
        Assert.Equal(0, (await host.Balance(Ann)).Available);
        var liability = Assert.Single(await host.Ledger.GetLiabilityAsync(Host.Tenant), l => l.Ledger == "points");
        Assert.Equal((150L, 150L, 0L), (liability.Issued, liability.Expired, liability.Outstanding));
        await host.AssertReconciled();
    }

    [Fact]
    public async Task A_cap_that_includes_manual_earns_limits_earn_commands_and_orders_together()
    {
        var simple = Programs.Simple(pendingDays: 0, start: PendingStart.Placement);
        var program = simple with { Ledger = simple.Ledger! with { Caps = [new EarningCap { Period = CapPeriod.Day, MaxPoints = 100, IncludeManualEarns = true }] } };
        await using var host = new Host(program);
        var first = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("review", 80) with { Rule = "review_bonus" });
        Assert.Equal((80L, 0L), (first.Net, first.Capped));
        var second = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("referral", 50) with { Rule = "referral_bonus" });
        Assert.Equal((20L, 30L), (second.Net, second.Capped));
        var replay = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("referral", 50) with { Rule = "referral_bonus" });
        Assert.Equal((true, 30L), (replay.Replayed, replay.Capped));
        var full = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("late", 10));
        Assert.Equal((0L, 10L), (full.Net, full.Capped));
        Assert.Empty(full.Transfers);

        // Adjustments are never capped; the next day the cap starts over.
        await host.Ledger.ExecuteAsync(Host.Tenant, new AdjustCommand { IdempotencyKey = "goodwill", Customer = Ann, Points = 40, Actor = "ops", Note = "late parcel" });
        host.Clock.Advance(Duration.FromDays(1));
        Assert.Equal(10, (await host.Ledger.ExecuteAsync(Host.Tenant, Earn("next-day", 10))).Net);
        Assert.Equal(80 + 20 + 40 + 10, (await host.Balance(Ann)).Available);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Caps_without_manual_earns_leave_earn_commands_alone_and_a_reversed_manual_earn_does_not_touch_tier_qualification()
    {
        var tiers = new TierProgram { Basis = TierBasis.PointsEarned, Levels = [new TierLevel { Id = "base", Threshold = 0 }, new TierLevel { Id = "silver", Threshold = 100 }] };
        var simple = Programs.Simple(pendingDays: 0, start: PendingStart.Placement, tiers: tiers);
        var program = simple with { Ledger = simple.Ledger! with { Caps = [new EarningCap { Period = CapPeriod.Day, MaxPoints = 10 }] } };
        await using var host = new Host(program);
        var bonus = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("bonus", 500));
        Assert.Equal((500L, 0L), (bonus.Net, bonus.Capped));
        var order = await host.Ingest(host.Order("ann@example.com", "O-1", 100m));
        var customer = order.Customer!.Value;
        Assert.Equal(10, (await host.Balance(customer)).Available); // the order is capped at 10; Ann (the command's customer) is someone else
        await host.Ledger.ExecuteAsync(Host.Tenant, new ReverseCommand { IdempotencyKey = "undo", Customer = Ann, TransferId = bonus.Transfers[0].Id });
        Assert.Equal(0, (await host.Balance(Ann)).Available);
        var progress = await host.Ledger.GetTierAsync(Host.Tenant, Ann);
        Assert.Equal(0m, progress.Qualifying); // manual earns never counted for tiers, so their reversal takes nothing off
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Liability_shows_observed_breakage_and_the_value_net_of_expected_breakage()
    {
        await using var host = new Host();
        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 300));
        await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "r1", Customer = Ann, Points = 300 });
        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k2", 100));
        host.Clock.Advance(Duration.FromDays(400));
        await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now); // the 100 expire: 100 of the 400 settled points broke
        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k3", 1000));
        var liability = Assert.Single(await host.Ledger.GetLiabilityAsync(Host.Tenant), l => l.Ledger == "points");
        Assert.Equal((300L, 100L, 1000L), (liability.Redeemed, liability.Expired, liability.Outstanding));
        Assert.Equal(0.25, liability.BreakageRate);
        Assert.Equal(250, liability.ExpectedBreakage);
        Assert.Equal((10.00m, 7.50m), (liability.Value, liability.ValueNetOfBreakage)); // 0.01 EUR per point
    }

    [Theory]
    [InlineData(ExpiryKind.FixedDate, ExpiryRounding.None, 0, "2025-12-31", "2025-12-31T23:00:00Z")]
    [InlineData(ExpiryKind.EndOfPeriod, ExpiryRounding.Quarter, 1, null, "2025-06-30T22:00:00Z")]
    [InlineData(ExpiryKind.EndOfPeriod, ExpiryRounding.Year, 1, null, "2026-12-31T23:00:00Z")]
    [InlineData(ExpiryKind.AfterActivation, ExpiryRounding.Quarter, 0, null, "2026-03-31T22:00:00Z")]
    [InlineData(ExpiryKind.Never, ExpiryRounding.None, 0, null, null)]
    public void Expiry_policies(ExpiryKind kind, ExpiryRounding rounding, int periods, string? fixedDate, string? expected)
    {
        var program = Programs.Simple(expiry: new ExpiryPolicy
        {
            Kind = kind, Months = 12, RoundUpTo = rounding, Periods = periods,
            FixedDate = fixedDate is null ? null : NodaTime.Text.LocalDatePattern.Iso.Parse(fixedDate).Value,
        });
        var engine = new LedgerEngine(program);
        var at = engine.ExpiryFor("points", Host.Start);
        Assert.Equal(expected, at?.ToString());
    }

    [Fact]
    public async Task Inactivity_expires_everything_after_n_months_without_activity()
    {
        await using var host = new Host(Programs.Simple(expiry: new ExpiryPolicy { Kind = ExpiryKind.Never, InactivityMonths = 6 }));
        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 100));
        host.Clock.Advance(Duration.FromDays(100));
        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k2", 10));
        Assert.Equal(0, (await host.Ledger.RunDueWorkAsync(Host.Tenant, Host.Start + Duration.FromDays(200))).PointsExpired);
        var run = await host.Ledger.RunDueWorkAsync(Host.Tenant, Host.Start + Duration.FromDays(100 + 190));
        Assert.Equal(110, run.PointsExpired);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Reverse_adjust_transfer_convert_and_manual_expiry_keep_the_books()
    {
        await using var host = new Host();
        var earn = await host.Ledger.ExecuteAsync(Host.Tenant, Earn("k1", 100));
        var redeem = await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "r1", Customer = Ann, Points = 30 });
        await host.Ledger.ExecuteAsync(Host.Tenant, new ReverseCommand { IdempotencyKey = "rv1", Customer = Ann, TransferId = redeem.Transfers[0].Id });
        Assert.Equal(100, (await host.Balance(Ann)).Available);
        await Assert.ThrowsAsync<LedgerException>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, new ReverseCommand { IdempotencyKey = "rv2", Customer = Ann, TransferId = redeem.Transfers[0].Id }));
        await host.Ledger.ExecuteAsync(Host.Tenant, new ReverseCommand { IdempotencyKey = "rv3", Customer = Ann, TransferId = earn.Transfers[0].Id });
        Assert.Equal(0, (await host.Balance(Ann)).Available);

        var adj = await host.Ledger.ExecuteAsync(Host.Tenant, new AdjustCommand { IdempotencyKey = "a1", Customer = Ann, Points = 70, Actor = "agent-7", Note = "goodwill: late delivery" });
        Assert.Equal("agent-7", adj.Transfers[0].Reason.Actor);
        await host.Ledger.ExecuteAsync(Host.Tenant, new AdjustCommand { IdempotencyKey = "a2", Customer = Ann, Points = -20, Actor = "agent-7", Note = "correction" });
        await host.Ledger.ExecuteAsync(Host.Tenant, new TransferPointsCommand { IdempotencyKey = "t1", Customer = Ann, To = Bob, Points = 30 });
        Assert.Equal((20L, 30L), ((await host.Balance(Ann)).Available, (await host.Balance(Bob)).Available));

        await host.Ledger.ExecuteAsync(Host.Tenant, Earn("s1", 3, ledger: "stamps"));
        var convert = await host.Ledger.ExecuteAsync(Host.Tenant, new ConvertCommand { IdempotencyKey = "cv", Customer = Ann, Ledger = "stamps", ToLedger = "points", Points = 2 });
        Assert.All(convert.Transfers, t => Assert.True(t.Debit.IsCustomer != t.Credit.IsCustomer));
        Assert.Equal(120, (await host.Balance(Ann)).Available);
        Assert.Equal(1, (await host.Balance(Ann, "stamps")).Available);

        var lots = await host.Ledger.GetLotsAsync(Host.Tenant, Bob);
        await host.Ledger.ExecuteAsync(Host.Tenant, new ExpireLotCommand { IdempotencyKey = "x1", Customer = Bob, LotId = lots[0].Id });
        Assert.Equal(0, (await host.Balance(Bob)).Available);
        var statement = await host.Ledger.GetStatementAsync(Host.Tenant, Ann, 0, 100);
        Assert.All(statement, l => Assert.False(string.IsNullOrEmpty(l.Description)));
        await host.AssertReconciled();
    }
}
