using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Ledger.Tests;

public sealed class TierTests
{
    private static readonly TierProgram Tiers = new()
    {
        GraceDays = 30, ReviewMonths = 12, WindowMonths = 12,
        Levels =
        [
            new TierLevel { Id = "bronze", Threshold = 0 },
            new TierLevel { Id = "silver", Threshold = 500, EarnMultiplier = 1.5m },
            new TierLevel { Id = "gold", Threshold = 1000, EarnMultiplier = 2m },
        ],
    };

    [Fact]
    public async Task Upgrade_on_points_earned_not_balance_then_downgrade_one_tier_after_review_and_grace()
    {
        await using var host = new Host(Programs.Simple(pendingDays: 0, start: PendingStart.Placement, tiers: Tiers));
        var placed = await host.Ingest(host.Order("t@example.com", "O-1", 1200m));
        var c = placed.Customer!.Value;
        var tier = await host.Ledger.GetTierAsync(Host.Tenant, c);
        Assert.Equal("gold", tier.Status.Tier);
        Assert.Equal(["tier.upgrade"], tier.History.Select(h => h.Rule));

        // Spending the balance does not change the tier.
        await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "spend", Customer = c, Points = 1200 });
        Assert.Equal("gold", (await host.Ledger.GetTierAsync(Host.Tenant, c)).Status.Tier);

        // A gold customer earns the tier benefit.
        host.Clock.Advance(Duration.FromDays(10));
        var second = await host.Ingest(host.Order("t@example.com", "O-2", 100m));
        Assert.Contains(second.Decisions, d => d.Rule == "tier:gold" && d.Inputs["points"] == "100");

        // At the review a year later nothing was earned in the window: grace, then one tier down.
        var review = tier.Status.ReviewAt!.Value;
        var atReview = await host.Ledger.RunDueWorkAsync(Host.Tenant, review);
        Assert.Contains(atReview.Signals, s => s.Kind == LedgerSignalKind.TierChanged && s.Tier == "gold");
        host.Clock.Reset(review + Duration.FromDays(1));
        var progress = await host.Ledger.GetTierAsync(Host.Tenant, c);
        Assert.Equal("gold", progress.Status.Tier);
        Assert.True(progress.ToKeepCurrent > 0);
        await host.Ledger.RunDueWorkAsync(Host.Tenant, review + Duration.FromDays(30));
        host.Clock.Reset(review + Duration.FromDays(31));
        progress = await host.Ledger.GetTierAsync(Host.Tenant, c);
        Assert.Equal("silver", progress.Status.Tier);
        Assert.Equal(["tier.upgrade", "tier.grace", "tier.downgrade"], progress.History.Select(h => h.Rule));
        Assert.Equal("gold", progress.NextTier);

        // A fixed override wins until it ends.
        await host.Ledger.ExecuteAsync(Host.Tenant, new TierOverrideCommand { IdempotencyKey = "vip", Customer = c, Tier = "bronze", Mode = TierOverrideMode.Fixed, Actor = "ops", Until = host.Now + Duration.FromDays(5) });
        Assert.Equal("bronze", (await host.Ledger.GetTierAsync(Host.Tenant, c)).Status.Tier);
        await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now + Duration.FromDays(6));
        host.Clock.Advance(Duration.FromDays(6));
        Assert.Equal("silver", (await host.Ledger.GetTierAsync(Host.Tenant, c)).Status.Tier);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Returns_reduce_qualifying_points()
    {
        await using var host = new Host(Programs.Simple(pendingDays: 0, start: PendingStart.Placement, tiers: Tiers));
        var placed = await host.Ingest(host.Order("t@example.com", "O-1", 400m));
        await host.Ingest(host.Returned("t@example.com", "O-1", "R"));
        var progress = await host.Ledger.GetTierAsync(Host.Tenant, placed.Customer!.Value);
        Assert.Equal(0m, progress.Qualifying);
        Assert.Equal(500m, progress.ToReachNext);
    }
}
