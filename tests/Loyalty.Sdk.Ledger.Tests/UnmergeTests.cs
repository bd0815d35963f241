using CsCheck;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Ledger.Tests;

/// <summary>A merge marked wrong gives the absorbed customer back what the merge moved, and the journal still folds.</summary>
public sealed class UnmergeTests
{
    private static readonly TierProgram Tiers = new()
    {
        GraceDays = 30, ReviewMonths = 12, WindowMonths = 12,
        Levels =
        [
            new TierLevel { Id = "bronze", Threshold = 0 },
            new TierLevel { Id = "silver", Threshold = 150 },
            new TierLevel { Id = "gold", Threshold = 1000 },
        ],
    };

    private static OrderPlaced Link(Host host, string orderId) => new()
    {
        Id = new EventId("link-" + orderId), Tenant = Host.Tenant, OccurredAt = host.Now,
        Identifiers = [new Identifier(IdentifierType.Email, "a@example.com"), new Identifier(IdentifierType.Email, "b@example.com")],
        OrderId = orderId, Currency = Currency.Eur, Lines = [new OrderLine { LineId = "1", Sku = "S", Quantity = 1, UnitPrice = 10m }], Total = 10m,
    };

    /// <summary>Ann (survivor, 100 points) and Bob (absorbed, <paramref name="bobSpend"/> EUR → points) merged.</summary>
    private static async Task<(CustomerId Survivor, CustomerId Absorbed)> MergeAsync(Host host, decimal bobSpend = 120m)
    {
        var a = await host.Ingest(host.Order("a@example.com", "O-A", 100m));
        host.Clock.Advance(Duration.FromHours(1));
        var b = await host.Ingest(host.Order("b@example.com", "O-B", bobSpend));
        host.Clock.Advance(Duration.FromDays(1));
        var merged = await host.Ingest(Link(host, "O-C"));
        Assert.NotEmpty(merged.Merged);
        Assert.Equal(a.Customer, merged.Customer);
        return (a.Customer!.Value, b.Customer!.Value);
    }

    [Fact]
    public async Task Lifetime_earned_follows_the_points_to_the_survivor()
    {
        await using var host = new Host(Programs.Simple(pendingDays: 0, start: PendingStart.Placement));
        var (survivor, _) = await MergeAsync(host);
        var s = await host.Balance(survivor);
        Assert.Equal(230, s.Available);
        Assert.Equal(230, s.LifetimeEarned);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task An_unmerge_gives_back_every_lot_with_its_expiry_and_lifetime_and_is_idempotent()
    {
        await using var host = new Host(Programs.Simple(pendingDays: 0, start: PendingStart.Placement));
        var (survivor, absorbed) = await MergeAsync(host);
        var lotsBefore = await host.Ledger.GetLotsAsync(Host.Tenant, survivor);
        var bobsLot = Assert.Single(lotsBefore, l => l.OrderId == "O-B");
        host.Clock.Advance(Duration.FromDays(2));

        await host.Identity.UnmergeAsync(Host.Tenant, survivor, absorbed, "staff:eve", "Two different people");

        var (s, b) = (await host.Balance(survivor), await host.Balance(absorbed));
        Assert.Equal((110L, 110L), (s.Available, s.LifetimeEarned)); // O-A 100 + O-C 10
        Assert.Equal((120L, 120L), (b.Available, b.LifetimeEarned));
        var back = Assert.Single(await host.Ledger.GetLotsAsync(Host.Tenant, absorbed));
        Assert.Equal((bobsLot.ExpiresAt, "O-B", 120L), (back.ExpiresAt, back.OrderId, back.Available));
        var entries = (await host.Ledger.GetStatementAsync(Host.Tenant, absorbed, 0, 100)).Select(l => l.Transfer).Where(t => t.Reason.Rule == LedgerEngine.UnmergeRule).ToList();
        Assert.NotEmpty(entries);
        Assert.All(entries, t => Assert.Equal(("staff:eve", $"{absorbed}>{survivor}"), (t.Reason.Actor, t.Reason.MergeId)));
        await host.AssertReconciled();

        // Unmerging again is refused by identity (no such merge any more) and the ledger writes nothing twice.
        await Assert.ThrowsAnyAsync<Validation.LoyaltyException>(async () => await host.Identity.UnmergeAsync(Host.Tenant, survivor, absorbed, "staff:eve", "again"));
        Assert.Equal(120, (await host.Balance(absorbed)).Available);

        // Bob's return claws back from Bob again, not from Ann.
        await host.Ingest(host.Returned("b@example.com", "O-B", "R-B"));
        Assert.Equal(0, (await host.Balance(absorbed)).Available);
        Assert.Equal(110, (await host.Balance(survivor)).Available);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Points_the_survivor_spent_come_back_from_its_balance_and_the_program_covers_the_rest()
    {
        await using var host = new Host(Programs.Simple(pendingDays: 0, start: PendingStart.Placement));
        var (survivor, absorbed) = await MergeAsync(host);
        // Ann spends 200 of the merged 230: her own 100 (earlier lot), then 100 of Bob's 120 (expiry order ties → creation).
        await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "spend", Customer = survivor, Points = 200 });
        Assert.Equal(30, (await host.Balance(survivor)).Available);

        await host.Identity.UnmergeAsync(Host.Tenant, survivor, absorbed, "staff:eve", "Wrong merge");

        var (s, b) = (await host.Balance(survivor), await host.Balance(absorbed));
        Assert.Equal(120, b.Available);                 // Bob is made whole
        Assert.Equal((0L, 0L), (s.Available, s.Debt));  // Ann pays what she can, never below zero
        var statement = (await host.Ledger.GetStatementAsync(Host.Tenant, absorbed, 0, 100)).Select(l => l.Transfer).ToList();
        Assert.Contains(statement, t => t.Kind == TransferKind.Adjust && t.Reason.Rule == LedgerEngine.UnmergeRule + ".program_compensation");
        Assert.Equal(120, statement.Where(t => t.Credit.Customer == absorbed && t.Reason.CommandKey.StartsWith("unmerge:", StringComparison.Ordinal)).Sum(t => t.Amount));
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Expired_points_stay_expired_and_a_tier_reached_only_through_the_merge_is_undone()
    {
        var program = Programs.Simple(pendingDays: 0, start: PendingStart.Placement, tiers: Tiers, expiry: new ExpiryPolicy { Kind = ExpiryKind.AfterActivation, Months = 1 });
        await using var host = new Host(program);
        var (survivor, absorbed) = await MergeAsync(host, bobSpend: 60m);
        var tier = await host.Ledger.GetTierAsync(Host.Tenant, survivor);
        Assert.Equal("silver", tier.Status.Tier); // 100 + 60 + 10 earned together ≥ 150

        host.Clock.Advance(Duration.FromDays(40));
        await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now); // every lot expired
        Assert.Equal(0, (await host.Balance(survivor)).Available);

        await host.Identity.UnmergeAsync(Host.Tenant, survivor, absorbed, "staff:eve", "Wrong merge");
        Assert.Equal(0, (await host.Balance(absorbed)).Available); // nothing to give back: Bob's points would have expired too
        Assert.Equal("bronze", (await host.Ledger.GetTierAsync(Host.Tenant, survivor)).Status.Tier);
        Assert.Equal("bronze", (await host.Ledger.GetTierAsync(Host.Tenant, absorbed)).Status.Tier);
        Assert.Equal(60, (await host.Balance(absorbed)).LifetimeEarned);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Pending_points_go_back_pending_and_activate_for_their_owner()
    {
        await using var host = new Host(Programs.Simple(pendingDays: 30, start: PendingStart.Placement));
        var (survivor, absorbed) = await MergeAsync(host);
        Assert.Equal(230, (await host.Balance(survivor)).Pending);

        await host.Identity.UnmergeAsync(Host.Tenant, survivor, absorbed, "staff:eve", "Wrong merge");
        Assert.Equal((0L, 120L), ((await host.Balance(absorbed)).Available, (await host.Balance(absorbed)).Pending));
        Assert.Equal(110, (await host.Balance(survivor)).Pending);

        host.Clock.Advance(Duration.FromDays(31));
        await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now);
        Assert.Equal(120, (await host.Balance(absorbed)).Available);
        Assert.Equal(110, (await host.Balance(survivor)).Available);
        await host.AssertReconciled();
    }
}

/// <summary>Random histories around a merge and its reversal keep the ledger's invariants.</summary>
public sealed class UnmergePropertyTests
{
    private static readonly Gen<(int Op, bool OnAbsorbed, long Amount)> Step = Gen.Select(Gen.Int[0, 5], Gen.Bool, Gen.Long[1, 300]);

    [Fact]
    public void Merge_then_unmerge_makes_the_absorbed_customer_whole_never_overdraws_and_folds_from_the_journal()
    {
        Gen.Select(Step.Array[0, 12], Step.Array[0, 12]).Sample((before, after) => Run(before, after), iter: 300, threads: 1);
    }

    /// <summary>A history the property once found: the unmerge only compensated the absorbed customer from the program
    /// (no entry on the survivor's side), and running it again compensated a second time.</summary>
    [Fact]
    public void An_unmerge_that_only_compensates_the_absorbed_customer_runs_once()
    {
        Gen.Select(Step.Array[0, 12], Step.Array[0, 12]).Sample((before, after) => Run(before, after), seed: "7jSwCXuzd8H1", iter: 1, threads: 1);
    }

    private static void Run((int Op, bool OnAbsorbed, long Amount)[] before, (int Op, bool OnAbsorbed, long Amount)[] after)
    {
        var engine = new LedgerEngine(Programs.Simple(pendingDays: 5, start: PendingStart.Placement));
        var (s, a) = (new CustomerLedger(Programs.Ann), new CustomerLedger(Programs.Bob));
        var journal = new List<LedgerTransfer>();
        var now = Host.Start;
        var n = 0;

        void Apply((int Op, bool OnAbsorbed, long Amount) step, bool merged)
        {
            var state = step.OnAbsorbed && !merged ? a : s;
            var key = $"k{n++}";
            LedgerCommand command = step.Op switch
            {
                0 => new EarnCommand { IdempotencyKey = key, Customer = state.Customer, Points = step.Amount },
                1 => new EarnCommand { IdempotencyKey = key, Customer = state.Customer, Points = step.Amount, PendingUntil = now + Duration.FromDays(3) },
                2 => new RedeemCommand { IdempotencyKey = key, Customer = state.Customer, Points = step.Amount },
                3 => new ReserveCommand { IdempotencyKey = key, Customer = state.Customer, ReservationId = key, Points = step.Amount },
                4 => new AdjustCommand { IdempotencyKey = key, Customer = state.Customer, Points = -step.Amount, Actor = "ops", Note = "test" },
                _ => new AdjustCommand { IdempotencyKey = key, Customer = state.Customer, Points = step.Amount, Actor = "ops", Note = "test" },
            };
            try
            {
                journal.AddRange(engine.Execute(state, command, now).Transfers);
            }
            catch (LedgerException)
            {
            }
            catch (LedgerValidationException)
            {
            }

            now += Duration.FromHours(1);
        }

        foreach (var step in before)
        {
            Apply(step, merged: false);
        }

        var owned = a.Balance("points");
        var mergedAt = now;
        journal.AddRange(engine.Merge(a, s, "bob>ann", mergedAt).Transfers);
        now += Duration.FromHours(1);
        foreach (var step in after)
        {
            Apply(step, merged: true);
        }

        var survivorBefore = s.Balance("points");
        Journal Of(CustomerId c) => new(journal.Where(t => t.Debit.Customer == c || t.Credit.Customer == c).ToList());
        var posting = engine.Unmerge(s, a, "bob>ann", mergedAt, Of(s.Customer).Entries, Of(a.Customer).Entries, now, "staff", "test");
        journal.AddRange(posting.Transfers);

        // Running it again writes nothing.
        Assert.Empty(engine.Unmerge(s, a, "bob>ann", mergedAt, Of(s.Customer).Entries, Of(a.Customer).Entries, now, "staff", "test").Transfers);

        // The absorbed customer is whole: what it held at the merge (released reservations included), nothing more.
        var back = a.Balance("points");
        Assert.Equal(owned.Available + owned.Pending + owned.Reserved - owned.Debt, back.Available + back.Pending);
        Assert.Equal(owned.LifetimeEarned, back.LifetimeEarned);

        // The survivor is never pushed into debt by the unmerge, and keeps the reservations it holds.
        var survivor = s.Balance("points");
        Assert.True(survivor.Debt <= survivorBefore.Debt, $"debt {survivorBefore.Debt} → {survivor.Debt}");
        Assert.Equal(survivorBefore.Reserved, survivor.Reserved);

        // Both states fold from the journal; lots and balances agree.
        foreach (var state in new[] { s, a })
        {
            var fold = new CustomerLedger(state.Customer);
            foreach (var t in journal)
            {
                fold.Apply(t);
            }

            var (h, f) = (state.Balance("points"), fold.Balance("points"));
            Assert.Equal((h.Available, h.Pending, h.Reserved, h.Debt, h.LifetimeEarned), (f.Available, f.Pending, f.Reserved, f.Debt, f.LifetimeEarned));
            Assert.Equal(state.Lots.Select(l => (l.Id, l.Available, l.Pending, l.Reserved)).OrderBy(x => x.Id), fold.Lots.Select(l => (l.Id, l.Available, l.Pending, l.Reserved)).OrderBy(x => x.Id));
            Assert.Equal(h.Available, state.Lots.Sum(l => l.Available) - h.Debt);
        }

        Assert.Equal(journal.Count, journal.Select(t => t.Id).Distinct().Count());
    }

    private sealed record Journal(IReadOnlyList<LedgerTransfer> Entries);
}

/// <summary>A split of identifiers: the points of the orders that follow the identifiers move with them.</summary>
public sealed class SplitTests
{
    private static readonly Identifier Email = new(IdentifierType.Email, "ann@example.com");
    private static readonly Identifier Card = new(IdentifierType.LoyaltyCard, "LC-778899");

    private static OrderPlaced Order(Host host, string orderId, decimal total, params Identifier[] identifiers) => new()
    {
        Id = new EventId("evt-" + orderId), Tenant = Host.Tenant, OccurredAt = host.Now, Channel = Channel.Pos, Identifiers = identifiers,
        OrderId = orderId, Currency = Currency.Eur, Lines = [new OrderLine { LineId = "1", Sku = "S", Quantity = 1, UnitPrice = total }], Total = total,
    };

    [Fact]
    public async Task Orders_placed_only_with_the_removed_identifier_take_their_points_lifetime_and_returns_along()
    {
        await using var host = new Host(Programs.Simple(pendingDays: 0, start: PendingStart.Placement));
        var first = await host.Ingest(Order(host, "O-1", 100m, Email, Card));   // ties the e-mail and the card
        host.Clock.Advance(Duration.FromHours(1));
        await host.Ingest(Order(host, "O-2", 50m, Card));                        // placed with the card only
        host.Clock.Advance(Duration.FromHours(1));
        await host.Ingest(Order(host, "O-3", 30m, Email));                       // placed with the e-mail only
        var ann = first.Customer!.Value;
        Assert.Equal(180, (await host.Balance(ann)).Available);

        host.Clock.Advance(Duration.FromDays(1));
        var split = await host.Identity.SplitAsync(Host.Tenant, ann, Card, "staff:eve", "the card belongs to her brother");
        var brother = Assert.Single(split.SplitOff);

        var (a, b) = (await host.Balance(ann), await host.Balance(brother));
        Assert.Equal((130L, 130L), (a.Available, a.LifetimeEarned));
        Assert.Equal((50L, 50L), (b.Available, b.LifetimeEarned));
        var moved = Assert.Single(await host.Ledger.GetLotsAsync(Host.Tenant, brother));
        Assert.Equal("O-2", moved.OrderId);
        Assert.All(
            (await host.Ledger.GetStatementAsync(Host.Tenant, brother, 0, 100)).Select(l => l.Transfer).Where(t => t.Kind == TransferKind.Merge),
            t => Assert.Equal((LedgerEngine.SplitRule, "staff:eve"), (t.Reason.Rule, t.Reason.Actor)));
        await host.AssertReconciled();

        // The brother's return claws back from the brother; a repeated split changes nothing.
        await host.Ingest(host.Returned("ann@example.com", "O-2", "R-2") with { Identifiers = [Card] });
        Assert.Equal(0, (await host.Balance(brother)).Available);
        Assert.Equal(130, (await host.Balance(ann)).Available);
        await host.Identity.SplitAsync(Host.Tenant, ann, Card, "staff:eve", "the card belongs to her brother");
        Assert.Equal(130, (await host.Balance(ann)).Available);
        await host.AssertReconciled();
    }
}
