using NodaTime;

namespace Loyalty.Sdk.Ledger.Tests;

public sealed class ConcurrencyTests
{
    [Theory]
    [InlineData(1000, 30)]
    [InlineData(999, 7)]
    public async Task Parallel_redemptions_never_overdraw(long balance, long each)
    {
        await using var host = new Host();
        var ann = Programs.Ann;
        // Several lots so that redemptions span lots.
        for (var i = 0; i < 4; i++)
        {
            await host.Ledger.ExecuteAsync(Host.Tenant, new EarnCommand { IdempotencyKey = $"e{i}", Customer = ann, Points = (balance / 4) + (i == 0 ? balance % 4 : 0) });
        }

        var attempts = (int)(balance / each) + 40;
        var successes = 0;
        await Parallel.ForAsync(0, attempts, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            try
            {
                var cmd = i % 2 == 0
                    ? (LedgerCommand)new RedeemCommand { IdempotencyKey = $"r{i}", Customer = ann, Points = each }
                    : new ReserveCommand { IdempotencyKey = $"r{i}", Customer = ann, ReservationId = $"cart{i}", Points = each };
                await host.Ledger.ExecuteAsync(Host.Tenant, cmd, ct);
                if (cmd is ReserveCommand)
                {
                    await host.Ledger.ExecuteAsync(Host.Tenant, new CaptureCommand { IdempotencyKey = $"c{i}", Customer = ann, ReservationId = $"cart{i}" }, ct);
                }

                Interlocked.Increment(ref successes);
            }
            catch (InsufficientPointsException)
            {
            }
        });
        Assert.Equal(balance / each, successes);
        var b = await host.Balance(ann);
        Assert.Equal(balance % each, b.Available);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task A_redemption_racing_an_expiry_run_never_uses_a_point_twice()
    {
        for (var round = 0; round < 30; round++)
        {
            await using var host = new Host();
            var earn = await host.Ledger.ExecuteAsync(Host.Tenant, new EarnCommand { IdempotencyKey = "e", Customer = Programs.Ann, Points = 100 });
            var expiry = earn.Transfers[0].ExpiresAt!.Value;
            host.Clock.Reset(expiry - Duration.FromMilliseconds(1));
            var redeem = Task.Run(async () =>
            {
                try
                {
                    await host.Ledger.ExecuteAsync(Host.Tenant, new RedeemCommand { IdempotencyKey = "r", Customer = Programs.Ann, Points = 100 });
                    return 100L;
                }
                catch (InsufficientPointsException)
                {
                    return 0L;
                }
            });
            var due = Task.Run(async () => (await host.Ledger.RunDueWorkAsync(Host.Tenant, expiry)).PointsExpired);
            var redeemed = await redeem;
            var expired = await due;
            Assert.Equal(100, redeemed + expired);
            var liability = (await host.Ledger.GetLiabilityAsync(Host.Tenant)).Single(l => l.Ledger == "points");
            Assert.Equal((redeemed, expired, 0L), (liability.Redeemed, liability.Expired, liability.Outstanding));
            await host.AssertReconciled();
        }
    }
}
