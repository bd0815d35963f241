using CsCheck;
using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Ledger.Tests;

public sealed class PropertyTests
{
    private static readonly CustomerId[] Customers = [new("c0"), new("c1"), new("c2")];

    private static readonly Gen<(int Op, int Customer, int Other, long Amount, int Pick)> Step =
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Long[-5, 400], Gen.Int[0, 50]);

    [Theory]
    [InlineData(ReturnMode.WithinBalance)]
    [InlineData(ReturnMode.AllowNegative)]
    public void Random_command_sequences_keep_every_invariant(ReturnMode mode)
    {
        Step.Array[1, 40].Sample(steps => Run(steps, mode).AsTask().GetAwaiter().GetResult(), iter: 60, threads: 1);
    }

    private static async ValueTask Run((int Op, int Customer, int Other, long Amount, int Pick)[] steps, ReturnMode mode)
    {
        await using var host = new Host(Programs.Simple(mode, pendingDays: 5, start: PendingStart.Placement));
        var done = new List<(LedgerCommand Command, LedgerResult Result)>();
        var reservations = new List<(CustomerId Customer, string Id)>();
        for (var i = 0; i < steps.Length; i++)
        {
            var (op, ci, oi, amount, pick) = steps[i];
            var c = Customers[ci];
            var key = $"k{i}";
            LedgerCommand? command = op switch
            {
                0 or 1 => new EarnCommand { IdempotencyKey = key, Customer = c, Points = amount, PendingUntil = pick % 3 == 0 ? host.Now + Duration.FromDays(2) : null },
                2 => new RedeemCommand { IdempotencyKey = key, Customer = c, Points = amount },
                3 => new ReserveCommand { IdempotencyKey = key, Customer = c, ReservationId = $"res{i}", Points = amount },
                4 when reservations.Count > 0 => new CaptureCommand { IdempotencyKey = key, Customer = reservations[pick % reservations.Count].Customer, ReservationId = reservations[pick % reservations.Count].Id, Points = pick % 2 == 0 ? null : Math.Abs(amount) % 100 },
                5 when reservations.Count > 0 => new ReleaseCommand { IdempotencyKey = key, Customer = reservations[pick % reservations.Count].Customer, ReservationId = reservations[pick % reservations.Count].Id },
                6 => new AdjustCommand { IdempotencyKey = key, Customer = c, Points = amount - 100, Actor = "ops", Note = "test" },
                7 => new TransferPointsCommand { IdempotencyKey = key, Customer = c, To = Customers[oi], Points = amount },
                8 when done.Count > 0 => done[pick % done.Count].Command,
                _ => null,
            };
            if (command is null)
            {
                host.Clock.Advance(Duration.FromDays(pick * 10));
                await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now);
                continue;
            }

            try
            {
                var result = await host.Ledger.ExecuteAsync(Host.Tenant, command);
                if (op == 8)
                {
                    var original = done[pick % done.Count];
                    Assert.True(result.Replayed);
                    Assert.Equal(original.Result.Transfers, result.Transfers);
                }
                else
                {
                    done.Add((command, result));
                    if (command is ReserveCommand r)
                    {
                        reservations.Add((r.Customer, r.ReservationId));
                    }
                }
            }
            catch (LedgerException)
            {
            }
            catch (LedgerValidationException)
            {
            }
        }

        // Run the due work at the end of time once more: then check every invariant.
        host.Clock.Advance(Duration.FromDays(800));
        await host.Ledger.RunDueWorkAsync(Host.Tenant, host.Now);
        await host.AssertReconciled();
        foreach (var c in Customers)
        {
            foreach (var b in await host.Ledger.GetBalancesAsync(Host.Tenant, c))
            {
                Assert.True(b.Pending >= 0 && b.Reserved >= 0 && b.Owed >= 0 && b.Debt >= 0);
                Assert.True(mode == ReturnMode.AllowNegative || b.Available >= 0, $"{c}: available {b.Available}");
                Assert.Equal(0, b.Reserved); // every reservation lapsed
            }

            Assert.All(await host.Ledger.GetLotsAsync(Host.Tenant, c), l => Assert.True(l.Available >= 0 && l.Pending >= 0 && l.Reserved >= 0 && l.Remaining <= l.Amount));
        }
    }
}
