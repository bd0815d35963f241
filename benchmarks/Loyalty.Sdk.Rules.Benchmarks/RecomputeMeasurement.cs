using System.Diagnostics;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Segments;
using Loyalty.Sdk.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Rules.Benchmarks;

/// <summary>Full recompute of N customers × 20 segments through <see cref="ISegmentService.RecomputeAllAsync"/>
/// (fill every trait from stored state, evaluate every segment, diff memberships), timed with a stopwatch because one
/// run takes seconds.</summary>
internal static class RecomputeMeasurement
{
    private static readonly string[] Extra =
    [
        "rfm_score >= 12",
        "tier in [\"gold\", \"platinum\"]",
        "orders.sum(within: 365d) >= 500 EUR",
        "reachable(sms) and orders >= 2",
        "lifecycle_stage == \"active\"",
        "aov >= 80 EUR and orders.count(within: 90d) >= 1",
        "top_category == \"shoes\"",
        "preferred_channel == \"pos\" and days_since(last_order) <= 90",
    ];

    public static async Task RunAsync(int customers)
    {
        var tenant = new TenantId("acme");
        var now = Instant.FromUtc(2025, 12, 31, 0, 0);
        var retail = DefaultPrograms.Retail();
        var segments = retail.Segments.Concat(Extra.Select((r, i) => new SegmentDefinition { Id = $"extra_{i}", Name = $"Extra {i}", Rule = r })).ToArray();
        var program = retail with { Segments = segments };
        var services = new ServiceCollection().AddSingleton<IClock>(new NodaTime.Testing.FakeClock(now));
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program).AddSegments();
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<InMemoryLoyaltyStore>();
        var service = provider.GetRequiredService<ISegmentService>();
        Console.WriteLine($"{segments.Length} segments; generating {customers:N0} customers…");
        Populate(store, tenant, customers, now);
        if (Environment.GetEnvironmentVariable("PROBE") is not null)
        {
            var registry = provider.GetRequiredService<SegmentRegistry>();
            var catalog = registry.Get(tenant, program);
            var data = store.Data(tenant);
            var list = data.Extension<InMemoryLoyaltyStore.SegmentData>().States.Values.ToArray();
            var subject = new RuleSubject(catalog.Schema.SlotCount);
            var windows = new SeriesWindows();
            var dirty = new bool[catalog.Segments.Length];
            var w = Stopwatch.StartNew();
            var contexts = list.Select(st => new CustomerTraitContext(st.Customer, data.Profiles.GetValueOrDefault(st.Customer), null, st, program, now)).ToArray();
            Console.WriteLine($"contexts {w.Elapsed.TotalSeconds:0.000}");
            w.Restart();
            foreach (var c in contexts)
            {
                catalog.Fill(c, subject, windows);
            }

            Console.WriteLine($"fill {w.Elapsed.TotalSeconds:0.000} ({catalog.Schema.SlotCount} slots)");
            w.Restart();
            var ms = now.ToUnixTimeMilliseconds();
            foreach (var seg in catalog.Segments)
            {
                var sw = Stopwatch.StartNew();
                for (var k = 0; k < 100_000; k++)
                {
                    seg.Rule.Evaluate(subject, ms);
                }

                Console.WriteLine($"  {seg.Id}: {sw.Elapsed.TotalMilliseconds * 10:0} ns/eval");
            }

            Console.WriteLine($"eval {w.Elapsed.TotalSeconds:0.000}");
        }

        var times = new List<double>();
        for (var run = 1; run <= 5; run++)
        {
            GC.Collect();
            var watch = Stopwatch.StartNew();
            var result = await service.RecomputeAllAsync(tenant, now + Duration.FromMinutes(run)).ConfigureAwait(false);
            watch.Stop();
            times.Add(watch.Elapsed.TotalSeconds);
            Console.WriteLine($"run {run}: {result.Customers:N0} customers × {segments.Length} segments = {result.Evaluations:N0} evaluations in {watch.Elapsed.TotalSeconds:0.000} s ({result.Evaluations / watch.Elapsed.TotalSeconds:N0}/s); entered {result.Entered:N0}, exited {result.Exited:N0}");
        }

        var sorted = times.Order().ToArray();
        Console.WriteLine($"median {sorted[sorted.Length / 2]:0.000} s over {times.Count} runs on {Environment.ProcessorCount} cores");
    }

    private static void Populate(InMemoryLoyaltyStore store, TenantId tenant, int customers, Instant now)
    {
        var data = store.Data(tenant);
        var states = data.Extension<InMemoryLoyaltyStore.SegmentData>().States;
        var random = new Random(42);
        string[] categories = ["shoes", "electronics", "home", "beauty", "sports"];
        var day = Duration.FromDays(1).TotalMilliseconds;
        for (var i = 0; i < customers; i++)
        {
            var id = new CustomerId($"c-{i:D7}");
            var orders = random.Next(0, 12);
            var last = now - Duration.FromDays(random.Next(1, 400));
            var first = last - Duration.FromDays(random.Next(0, 700));
            var spend = orders * random.Next(20, 200);
            data.Profiles[id] = new CustomerProfile
            {
                Customer = id, FirstSeen = first, LastSeen = last,
                SignedUpAt = random.NextDouble() < 0.6 ? first : null,
                BirthDate = new LocalDate(1960 + random.Next(45), random.Next(1, 13), random.Next(1, 29)),
                Traits = new CustomerTraits { Orders = orders, GrossSpend = spend, FirstOrderAt = orders > 0 ? first : null, LastOrderAt = orders > 0 ? last : null },
                Version = 1,
            };
            var state = new CustomerSegmentState { Customer = id, Version = 1 };
            var t = state.Traits;
            if (orders > 0)
            {
                t.Orders = orders;
                t.Monetary = spend;
                t.FirstOrderMs = first.ToUnixTimeMilliseconds();
                t.LastOrderMs = last.ToUnixTimeMilliseconds();
                t.Intervals = orders - 1;
                t.MeanIntervalDays = random.Next(7, 90);
                t.RecentIntervalDays = t.MeanIntervalDays * (0.5 + random.NextDouble() * 2);
                t.WeekendOrders = random.Next(0, orders + 1);
                t.OrdersByChannel[random.Next(3)] = orders;
                t.CategorySpend[categories[random.Next(categories.Length)]] = spend * 0.7;
                t.CategorySpend[categories[random.Next(categories.Length)]] = spend * 0.3;
                var buckets = new WindowSeriesState();
                for (var k = 0; k < Math.Min(orders, 6); k++)
                {
                    var start = (long)(Math.Floor((now.ToUnixTimeMilliseconds() - (random.Next(0, 365) * day)) / day) * day);
                    buckets.Buckets.Add(new WindowBucket { Start = start, Count = 1, Sum = spend / (double)orders, Min = 10, Max = 200 });
                }

                buckets.Buckets.Sort((a, b) => a.Start.CompareTo(b.Start));
                state.Series["orders|1d"] = buckets;
            }

            if (random.NextDouble() < 0.3)
            {
                state.Series["interactions|channel=email|1d"] = new WindowSeriesState { Buckets = [new WindowBucket { Start = (long)(Math.Floor((now.ToUnixTimeMilliseconds() - (random.Next(0, 120) * day)) / day) * day), Count = 1 }] };
            }

            states[id] = state;
        }
    }
}
