using Loyalty.Sdk.Storage.InMemory;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

/// <summary>The in-memory store's journey timers under churn: what is listed is always what a sorted scan of the
/// stored instances gives (earliest first, then customer and journey), whatever was changed, removed or re-added.</summary>
public sealed class TimerIndexTests
{
    [Fact]
    public async Task Due_listing_matches_a_sorted_scan_after_many_changes()
    {
        var store = new InMemoryLoyaltyStore();
        var tenant = new TenantId("t");
        var rnd = new Random(11);
        var t0 = Instant.FromUtc(2025, 1, 1, 0, 0);
        var model = new Dictionary<(string, string), Instant?>();
        for (var round = 0; round < 40; round++)
        {
            await using (var s = await store.OpenSessionAsync(tenant))
            {
                for (var n = 0; n < 200; n++)
                {
                    var customer = new CustomerId($"c{rnd.Next(60):00}");
                    var journey = $"j{rnd.Next(4)}";
                    var existing = await s.Journeys.GetAsync(customer, journey);
                    // Few distinct times, so that many timers share one, and some timers are cleared.
                    Instant? wake = rnd.Next(5) == 0 ? null : t0 + Duration.FromHours(rnd.Next(8));
                    await s.Journeys.SaveAsync(new JourneyInstance { Customer = customer, Journey = journey, Status = JourneyStatus.Active, WakeAt = wake }, existing?.Version ?? 0);
                    model[(customer.Value, journey)] = wake;
                }

                if (round % 7 == 3)
                {
                    var gone = new CustomerId($"c{rnd.Next(60):00}");
                    await s.Journeys.DeleteCustomerAsync(gone);
                    foreach (var key in model.Keys.Where(k => k.Item1 == gone.Value).ToArray())
                    {
                        model.Remove(key);
                    }
                }

                await s.CommitAsync();
            }

            foreach (var (limit, max) in new[] { (3, 10), (7, 1000), (8, 5) })
            {
                var expected = model.Where(kv => kv.Value is { } w && w <= t0 + Duration.FromHours(limit))
                    .OrderBy(kv => kv.Value).ThenBy(kv => kv.Key.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal)
                    .Take(max).Select(kv => (new CustomerId(kv.Key.Item1), kv.Key.Item2)).ToArray();
                await using var r = await store.OpenSessionAsync(tenant);
                Assert.Equal(expected, await r.Journeys.ListDueAsync(t0 + Duration.FromHours(limit), max));
            }
        }
    }
}
