using Loyalty.Sdk.Events;
using Loyalty.Sdk.Storage.InMemory;
using NodaTime;

namespace Loyalty.Sdk.Consent.Tests;

public sealed class CapRaceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public async Task Racing_reservations_send_exactly_the_cap(int max)
    {
        await using var host = TestHost.Create(TestHost.TestPolicy(new FrequencyCapRule { Id = "all", Max = max, Days = 7 }));
        var c = await host.GrantedCustomerAsync();
        var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 48).Select(i => Task.Run(async () =>
        {
            start.Wait();
            var journey = i % 2 == 0 ? "welcome" : "winback";
            var r = await host.Consent.TryReserveSendAsync(host.Check(c, i % 3 == 0 ? ContactChannel.Push : ContactChannel.Email, messageId: $"{journey}-{i}"));
            return r.Reserved;
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(max, results.Count(r => r));
        var history = await host.Consent.GetSaturationAsync(host.Tenant, host.Now - Duration.FromDays(1), host.Now + Duration.FromDays(1));
        Assert.Equal(max, history.Weeks.Sum(w => w.Messages));
    }

    [Fact]
    public async Task Compare_and_swap_on_the_send_log_lets_exactly_n_threads_win()
    {
        // The store primitive itself, without the tenant gate of sessions: every thread reads, decides, and CASes.
        var data = new InMemoryLoyaltyStore.ConsentData();
        var repo = new InMemoryLoyaltyStore.InMemoryConsentPart(data);
        var customer = new CustomerId("cus_race");
        const int max = 5;
        var wins = 0;
        var threads = Enumerable.Range(0, 16).Select(t => new Thread(() =>
        {
            for (var i = 0; i < 50; i++)
            {
                while (true)
                {
                    var log = repo.GetSendLogAsync(customer).AsTask().GetAwaiter().GetResult();
                    if (log.Sends.Count >= max)
                    {
                        break;
                    }

                    var send = new SendRecord { MessageId = $"t{t}-{i}", Customer = customer, Channel = ContactChannel.Email, MessageClass = "promotional", SentAt = Instant.FromUtc(2025, 1, 1, 0, 0) };
                    if (repo.TryAppendSendAsync(send, log.Version).AsTask().GetAwaiter().GetResult())
                    {
                        Interlocked.Increment(ref wins);
                        break;
                    }
                }
            }
        })).ToArray();
        foreach (var th in threads)
        {
            th.Start();
        }

        foreach (var th in threads)
        {
            th.Join();
        }

        Assert.Equal(max, wins);
        Assert.Equal(max, (await repo.GetSendLogAsync(customer)).Sends.Count);
    }
}
