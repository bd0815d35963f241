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
/// 80% interactions (JOURNEY_BENCH_MIX=orders|carts|visits for one kind only) goes through the journey stage, committing every 1,000 events.
/// </summary>
public sealed class JourneyStageBenchmark
{
    private const int Customers = 10_000;
    private readonly InMemoryLoyaltyStore store = new();
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

    public async Task SetupAsync()
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
        var mix = Environment.GetEnvironmentVariable("JOURNEY_BENCH_MIX");
        events = Enumerable.Range(0, 200_000).Select(i => Event(i, mix == "orders" ? 0 : mix == "visits" ? 9 : mix == "carts" ? 1 : rnd.Next(10))).ToArray();

        // Warm state: every customer enters the journeys of one order, one cart and one interaction.
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
}
