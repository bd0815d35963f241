using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Ledger.Tests;

public sealed class PipelineTests
{
    private const string Email = "ann@example.com";

    [Fact]
    public async Task Order_is_pending_until_the_window_after_completion_then_available_and_explained()
    {
        await using var host = new Host();
        var placed = await host.Ingest(host.Order(Email, "O-1", 42.50m, quantity: 2));
        var customer = placed.Customer!.Value;
        Assert.Equal(85, placed.PointsPosted);
        var decision = Assert.Single(placed.Decisions, d => d.Action == LedgerStage.PointsPosted);
        Assert.Equal(("ledger", "base", "85", "pending"), (decision.Capability, decision.Rule, decision.Inputs["points"], decision.Inputs["state"]));
        Assert.Equal((0L, 85L), ((await host.Balance(customer)).Available, (await host.Balance(customer)).Pending));

        host.Clock.Advance(Duration.FromDays(3));
        await host.Ingest(host.Completed(Email, "O-1"));
        Assert.Equal(0, (await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now + Duration.FromDays(29))).PointsActivated);
        var due = await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now + Duration.FromDays(30));
        Assert.Equal(85, due.PointsActivated);
        Assert.Equal((85L, 0L), ((await host.Balance(customer)).Available, (await host.Balance(customer)).Pending));
        var lot = Assert.Single(await host.Ledger.GetLotsAsync(Host.Tenant, customer));
        Assert.Equal(host.Now + Duration.FromDays(30), lot.ActivatedAt);
        Assert.NotNull(lot.ExpiresAt);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Duplicate_events_and_reused_order_ids_change_nothing()
    {
        await using var host = new Host();
        var order = host.Order(Email, "O-1", 100m);
        var first = await host.Ingest(order);
        var again = await host.Ingest(order);
        Assert.Equal(IngestOutcome.Duplicate, again.Outcome);
        var sameOrderNewId = await host.Ingest(host.Order(Email, "O-1", 100m));
        Assert.Equal(0, sameOrderNewId.PointsPosted);
        Assert.Equal(100, (await host.Balance(first.Customer!.Value)).Pending);
        var ret = host.Returned(Email, "O-1", "R-1");
        await host.Ingest(ret);
        await host.Ingest(ret with { Id = new EventId("retry-of-return") });
        Assert.Equal(0, (await host.Balance(first.Customer!.Value)).Pending);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Return_within_the_window_cancels_pending_points_by_line()
    {
        await using var host = new Host();
        var placed = await host.Ingest(host.Order(Email, "O-1", 0m, lines:
        [
            new OrderLine { LineId = "a", Sku = "A", Category = "shoes", Quantity = 2, UnitPrice = 30m },
            new OrderLine { LineId = "b", Sku = "B", Category = "bags", Quantity = 1, UnitPrice = 40m },
            new OrderLine { LineId = "g", Sku = "GC", Quantity = 1, UnitPrice = 50m, LineKind = OrderLineKind.GiftCard },
        ]));
        var customer = placed.Customer!.Value;
        Assert.Equal(100, placed.PointsPosted); // gift card excluded
        var r = await host.Ingest(host.Returned(Email, "O-1", "R-1", new OrderLineQuantity { LineId = "a", Quantity = 1 }));
        Assert.Contains(r.Decisions, d => d.Action == "points_clawed_back" && d.Inputs["clawedBack"] == "30");
        Assert.Equal(70, (await host.Balance(customer)).Pending);
        await host.Ingest(host.Returned(Email, "O-1", "R-2", new OrderLineQuantity { LineId = "a", Quantity = 1 }, new OrderLineQuantity { LineId = "b", Quantity = 1 }));
        Assert.Equal(0, (await host.Balance(customer)).Pending);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Return_after_the_window_claws_back_in_proportion_within_balance()
    {
        await using var host = new Host();
        var placed = await host.Ingest(host.Order(Email, "O-1", 50m, quantity: 2));
        var customer = placed.Customer!.Value;
        await host.Ingest(host.Completed(Email, "O-1"));
        host.Clock.Advance(Duration.FromDays(31));
        await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now);
        await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "spend", Customer = customer, Points = 80 });
        var r = await host.Ingest(host.Returned(Email, "O-1", "R-1", new OrderLineQuantity { LineId = "1", Quantity = 1 }));
        Assert.Contains(r.Decisions, d => d.Inputs.GetValueOrDefault("clawedBack") == "20" && d.Inputs["shortfall"] == "30");
        var b = await host.Balance(customer);
        Assert.Equal((0L, 30L), (b.Available, b.Owed));
        // The shortfall is recovered from the next points that become available.
        await host.Ledger.ExecuteAsync(Host.Tenant, new EarnCommand { IdempotencyKey = "survey", Customer = customer, Points = 40, Rule = "survey" });
        b = await host.Balance(customer);
        Assert.Equal((10L, 0L), (b.Available, b.Owed));
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Allow_negative_policy_lets_the_balance_go_below_zero_and_settles_it_later()
    {
        await using var host = new Host(Programs.Simple(ReturnMode.AllowNegative, pendingDays: 0, start: PendingStart.Placement));
        var placed = await host.Ingest(host.Order(Email, "O-1", 100m));
        var customer = placed.Customer!.Value;
        await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "spend", Customer = customer, Points = 100 });
        await host.Ingest(host.Returned(Email, "O-1", "R-1"));
        Assert.Equal(-100, (await host.Balance(customer)).Available);
        await Assert.ThrowsAsync<InsufficientPointsException>(async () => await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "again", Customer = customer, Points = 1 }));
        await host.Ingest(host.Order(Email, "O-2", 150m));
        Assert.Equal(50, (await host.Balance(customer)).Available);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Only_pending_policy_keeps_available_points_after_the_window()
    {
        await using var host = new Host(Programs.Simple(ReturnMode.OnlyPending, pendingDays: 0, start: PendingStart.Placement));
        var placed = await host.Ingest(host.Order(Email, "O-1", 100m));
        await host.Ingest(host.Returned(Email, "O-1", "R-1"));
        Assert.Equal(100, (await host.Balance(placed.Customer!.Value)).Available);
        await host.AssertReconciled();
    }

    [Theory]
    [InlineData(ReturnMode.WithinBalance)]
    [InlineData(ReturnMode.AllowNegative)]
    public async Task Refund_exploit_earn_spend_on_another_order_return_both_leaves_no_points(ReturnMode mode)
    {
        await using var host = new Host(Programs.Simple(mode, pendingDays: 0, start: PendingStart.Placement));
        var a = await host.Ingest(host.Order(Email, "A", 100m));
        var customer = a.Customer!.Value;
        var b = await host.Ingest(host.Order(Email, "B", 10m, pointsRedeemed: 100)); // paid with A's points
        Assert.Contains(b.Decisions, d => d.Action == "points_redeemed" && d.Inputs["redeemed"] == "100");
        await host.Ingest(host.Returned(Email, "A", "RA"));
        await host.Ingest(host.Returned(Email, "B", "RB"));
        var balance = await host.Balance(customer);
        // Everything returned: the customer holds nothing and owes nothing.
        Assert.Equal((0L, 0L, 0L, 0L), (balance.Available, balance.Pending, balance.Debt, balance.Owed));
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Refund_exploit_return_during_window_after_paying_with_points()
    {
        await using var host = new Host();
        var earn = await host.Ledger.ExecuteAsync(Host.Tenant, new EarnCommand { IdempotencyKey = "gift", Customer = new CustomerId("seed"), Points = 1 });
        _ = earn;
        var a = await host.Ingest(host.Order(Email, "A", 200m));
        var customer = a.Customer!.Value;
        // Pending points cannot pay for anything.
        var b = await host.Ingest(host.Order(Email, "B", 10m, pointsRedeemed: 200));
        Assert.Contains(b.Decisions, d => d.Action == "points_redeemed" && d.Inputs["redeemed"] == "0");
        await host.Ingest(host.Returned(Email, "A", "RA"));
        await host.Ingest(host.Returned(Email, "B", "RB"));
        var balance = await host.Balance(customer);
        Assert.Equal((0L, 0L), (balance.Available, balance.Pending));
        await host.AssertReconciled();
    }

    [Fact]
    public async Task A_checkout_reservation_named_after_the_order_is_captured_and_a_cancellation_releases_nothing_twice()
    {
        await using var host = new Host(Programs.Simple(pendingDays: 0, start: PendingStart.Placement));
        var first = await host.Ingest(host.Order(Email, "O-0", 300m));
        var customer = first.Customer!.Value;
        await host.Ledger.ExecuteAsync(Host.Tenant, new ReserveCommand { IdempotencyKey = "chk-1", Customer = customer, ReservationId = "O-1", Points = 250 });
        var placed = await host.Ingest(host.Order(Email, "O-1", 20m, pointsRedeemed: 200));
        Assert.Contains(placed.Decisions, d => d.Action == "points_redeemed" && d.Inputs["redeemed"] == "200");
        var b = await host.Balance(customer);
        Assert.Equal((118L, 0L), (b.Available, b.Reserved)); // 300 − 200 + 18 earned (2 EUR paid with points do not earn)
        await host.AssertReconciled();
    }

    [Fact]
    public async Task A_merge_moves_lots_to_the_survivor_once_with_the_merge_id()
    {
        await using var host = new Host(Programs.Simple(pendingDays: 0, start: PendingStart.Placement));
        var a = await host.Ingest(host.Order("a@example.com", "O-A", 100m));
        var b = await host.Ingest(host.Order("b@example.com", "O-B", 50m));
        host.Clock.Advance(Duration.FromDays(1));
        var link = new OrderPlaced
        {
            Id = new EventId("link"), Tenant = Host.Tenant, OccurredAt = host.Now,
            Identifiers = [new Identifier(IdentifierType.Email, "a@example.com"), new Identifier(IdentifierType.Email, "b@example.com")],
            OrderId = "O-C", Currency = Currency.Eur, Lines = [new OrderLine { LineId = "1", Sku = "S", Quantity = 1, UnitPrice = 10m }], Total = 10m,
        };
        var merged = await host.Ingest(link);
        Assert.NotEmpty(merged.Merged);
        var survivor = merged.Customer!.Value;
        var absorbed = survivor == a.Customer ? b.Customer!.Value : a.Customer!.Value;
        Assert.Equal(160, (await host.Balance(survivor)).Available);
        var moved = (await host.Ledger.GetStatementAsync(Host.Tenant, survivor, 0, 100)).Where(l => l.Transfer.Kind == TransferKind.Merge && l.Transfer.Amount > 0).ToList();
        Assert.Single(moved);
        Assert.All(moved, l => Assert.Equal($"{absorbed}>{survivor}", l.Transfer.Reason.MergeId));
        var engine = new LedgerEngine(Programs.Simple());
        // Running the merge again moves nothing.
        Assert.Empty(engine.Merge(new CustomerLedger(absorbed), new CustomerLedger(survivor), "again", host.Now).Transfers);
        // Returns of the absorbed customer's order claw back from the survivor.
        await host.Ingest(host.Returned("a@example.com", survivor == a.Customer ? "O-B" : "O-A", "R"));
        Assert.True((await host.Balance(survivor)).Available < 160);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Dry_run_shows_rules_without_writing()
    {
        await using var host = new Host(DefaultPrograms.Retail());
        var order = host.Order(Email, "O-1", 80m, category: "shoes") with
        {
            Lines = [new OrderLine { LineId = "1", Sku = "S", Category = "shoes", Quantity = 1, UnitPrice = 80m }, new OrderLine { LineId = "2", Sku = "GC", Quantity = 1, UnitPrice = 25m, LineKind = OrderLineKind.GiftCard }],
            Total = 105m, Shipping = 5m,
        };
        var eval = await host.Ledger.EvaluateOrderAsync(Host.Tenant, order);
        Assert.Equal(80m, eval.EligibleValue);
        Assert.Equal(["base-1-per-eur", "shoes-x2", "first-purchase-bonus"], eval.Components.Select(c => c.Rule));
        Assert.Equal(80 + 80 + 200, eval.Total);
        Assert.Empty(await host.Ledger.GetBalancesAsync(Host.Tenant, new CustomerId("anyone")));
        var reconcile = await host.Ledger.ReconcileAsync(Host.Tenant);
        Assert.Equal(0, reconcile.Transfers);
    }
}
