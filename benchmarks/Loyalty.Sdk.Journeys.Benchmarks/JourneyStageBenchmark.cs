using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage.InMemory;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Benchmarks;

/// <summary>
/// Journey evaluation in memory: 20 active journeys (event, filter, condition, wait, wait-for-event, goal and exit
/// criteria), 10,000 customers each already running several of them; a stream of 10% orders, 10% cart abandonments and
/// 80% interactions (<see cref="Mix"/> <c>mixed</c>; <c>orders</c>, <c>carts</c> or <c>visits</c> for one kind only)
/// goes through the journey stage, committing every 1,000 events. Each iteration starts from the same warm state (a
/// fresh store, then the warm-up entries) and sends <see cref="Events"/> events; the events/s column is computed from
/// the median time per event.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 9, invocationCount: 1)]
[Config(typeof(Columns))]
public class JourneyStageBenchmark
{
    public const int Events = 200_000;
    private const int Customers = 10_000;
    private InMemoryLoyaltyStore store = new();
    private int round;
    private readonly LoyaltyProgram program = DefaultPrograms.Retail();
    private readonly TenantId tenant = new("bench");
    private JourneyStage stage = null!;
    private LoyaltyEvent[] events = [];
    private CustomerId[] customers = [];
    private CustomerProfile[] profiles = [];
    private readonly Instant now = Instant.FromUtc(2025, 6, 2, 10, 0);

    public static IReadOnlyList<JourneyDefinition> Journeys()
    {
        var list = new List<JourneyDefinition>();
        for (var i = 0; i < 20; i++)
        {
            var kind = (i % 4) switch { 0 => EventKinds.OrderPlaced, 1 => EventKinds.CartAbandoned, 2 => EventKinds.Interaction, _ => EventKinds.OrderPlaced };
            list.Add(new JourneyDefinition
            {
                Id = $"j{i:00}",
                ReEntry = JourneyReEntry.Always,
                HoldoutPercent = 10,
                Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = kind, Filter = i % 2 == 0 ? "orders >= 0" : null },
                Goal = new JourneyGoal { EventKind = EventKinds.OrderPlaced, Window = Duration.FromDays(14), ExitOnGoal = i % 3 == 0 },
                ExitOn = i % 5 == 0 ? [EventKinds.OrderReturned] : [],
                Steps =
                [
                    new JourneyStep { Id = "check", Kind = JourneyStepKind.Condition, Condition = "net_spend >= 0 EUR", Next = "wait", Else = "wait" },
                    new JourneyStep { Id = "wait", Kind = i % 2 == 0 ? JourneyStepKind.Wait : JourneyStepKind.WaitForEvent, EventKind = EventKinds.OrderPlaced, Duration = Duration.FromDays(30), Next = "send", Else = "send" },
                    new JourneyStep { Id = "send", Kind = JourneyStepKind.Action, Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = "t" } },
                ],
            });
        }

        return list;
    }

    /// <summary>The workload: <c>mixed</c> (10% orders, 10% carts, 80% interactions), or one kind only.</summary>
    [ParamsSource(nameof(Mixes))]
    public string Mix { get; set; } = "mixed";

    /// <summary>Every mix, or only those listed in <c>JOURNEY_BENCH_MIX</c> (comma-separated, e.g. <c>mixed,orders</c>).</summary>
    public static IEnumerable<string> Mixes() =>
        Environment.GetEnvironmentVariable("JOURNEY_BENCH_MIX") is { Length: > 0 } only
            ? only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["mixed", "visits", "carts", "orders"];

    [GlobalSetup]
    public void GlobalSetup() => SetupAsync().GetAwaiter().GetResult();

    [IterationSetup]
    public void IterationSetup() => WarmAsync().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = Events)]
    public double Journey_evaluation() => RunAsync(seed: ++round).GetAwaiter().GetResult();

    public Task SetupAsync()
    {
        var options = new JourneyOptions();
        foreach (var j in Journeys())
        {
            options.Journeys.Add(j);
        }

        stage = new JourneyStage(new JourneyRegistry(options), new JourneyRunner(options));
        customers = Enumerable.Range(0, Customers).Select(i => new CustomerId($"cus_{i:00000}")).ToArray();
        profiles = customers.Select(c => new CustomerProfile { Customer = c, FirstSeen = now, LastSeen = now, Traits = new CustomerTraits { Orders = 1, GrossSpend = 50 } }).ToArray();
        var rnd = new Random(7);
        var mix = Mix;
        events = Enumerable.Range(0, Events).Select(i => Event(i, mix == "orders" ? 0 : mix == "visits" ? 9 : mix == "carts" ? 1 : rnd.Next(10))).ToArray();
        return Task.CompletedTask;
    }

    /// <summary>A fresh store in the warm state: every customer enters the journeys of one order, one cart and one interaction.</summary>
    public async Task WarmAsync()
    {
        store = new InMemoryLoyaltyStore();
        for (var k = 0; k < 3; k++)
        {
            await RunAsync(Enumerable.Range(0, Customers).Select(i => Event(1_000_000 + (k * Customers) + i, k == 0 ? 0 : k == 1 ? 1 : 9)).ToArray(), 0);
        }
    }

    private LoyaltyEvent Event(int i, int pick)
    {
        var id = new EventId($"e{i}");
        var at = now;
        return pick switch
        {
            < 1 => new OrderPlaced { Id = id, Tenant = tenant, OccurredAt = at, OrderId = $"o{i}", Currency = Currency.Eur, Total = 40 },
            < 2 => new CartAbandoned { Id = id, Tenant = tenant, OccurredAt = at, CartId = $"c{i}", Currency = Currency.Eur, Value = 30 },
            _ => new Interaction { Id = id, Tenant = tenant, OccurredAt = at, InteractionKind = InteractionKind.SiteVisit },
        };
    }

    /// <summary>Runs the events through the stage; returns events per second.</summary>
    public async Task<double> RunAsync(LoyaltyEvent[]? batch = null, int seed = 1)
    {
        batch ??= events;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var start = 0; start < batch.Length; start += 1000)
        {
            var session = await store.OpenSessionAsync(tenant).ConfigureAwait(false);
            await using (session.ConfigureAwait(false))
            {
                for (var i = start; i < Math.Min(start + 1000, batch.Length); i++)
                {
                    var c = (i * 7919 + seed) % Customers;
                    var context = new IngestContext(batch[i], program, session, now) { Customer = customers[c], Profile = profiles[c] };
                    await stage.ProcessAsync(context, CancellationToken.None).ConfigureAwait(false);
                }

                await session.CommitAsync().ConfigureAwait(false);
            }
        }

        return batch.Length / watch.Elapsed.TotalSeconds;
    }

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(new EventsPerSecondColumn());
    }

    /// <summary>Events per second from the median time per event.</summary>
    private sealed class EventsPerSecondColumn : IColumn
    {
        public string Id => "EventsPerSecond";

        public string ColumnName => "events/s (median)";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Events per second, 1 s / median time per event";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            summary[benchmarkCase]?.ResultStatistics is { } s ? (1e9 / s.Median).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "-";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }
}
