using System.Globalization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Simulation;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Storage.Benchmarks;

/// <summary>The event streams of <see cref="IngestBenchmarks"/>, built once per process.</summary>
public static class EventStreams
{
    /// <summary>The customers of the synthetic shop the spread stream starts.</summary>
    public const int ShopCustomers = 20_000;

    private static readonly Dictionary<(string Shape, int Count), (LoyaltyEvent[] Events, string Description)> Built = [];

    /// <summary>
    /// <c>spread</c>: the first <paramref name="count"/> events, in time order, of the synthetic shop of the simulation
    /// (<see cref="ShopGenerator"/>, <see cref="ShopCustomers"/> customers over a year, seed 42): sign-ups, consent
    /// choices, visits, orders, completions, returns, re-sent duplicates, over many customers. Events the engine refuses
    /// (the generator makes a few on purpose) are left out, so that every batch is accepted whole.
    /// <c>hot</c>: a sign-up and then orders of one customer, one a minute.
    /// </summary>
    public static (LoyaltyEvent[] Events, string Description) Get(string shape, int count)
    {
        lock (Built)
        {
            if (!Built.TryGetValue((shape, count), out var built))
            {
                Built[(shape, count)] = built = shape switch
                {
                    "spread" => Spread(count),
                    "hot" => Hot(count),
                    _ => throw new ArgumentException($"Unknown shape '{shape}'.", nameof(shape)),
                };
            }

            return built;
        }
    }

    private static (LoyaltyEvent[], string) Spread(int count)
    {
        var shop = ShopGenerator.Generate(new ShopSettings { Customers = ShopCustomers, Days = 365, Seed = 42 });

        // Keep the events an engine accepts (checked on a memory store, in order, as the benchmark will ingest them).
        var host = StoreHost.CreateAsync(Stores.Memory, shop.Events[0].OccurredAt, StoreHost.Retail).GetAwaiter().GetResult();
        var engine = (ILoyaltyEngine)host.Services.GetService(typeof(ILoyaltyEngine))!;
        var kept = new List<LoyaltyEvent>(count);
        int refused = 0, duplicates = 0;
        foreach (var e in shop.Events)
        {
            if (kept.Count == count)
            {
                break;
            }

            host.Clock.AdvanceTo(e.OccurredAt);
            try
            {
                if (engine.IngestAsync(e).AsTask().GetAwaiter().GetResult().Outcome == IngestOutcome.Duplicate)
                {
                    duplicates++;
                }

                kept.Add(e);
            }
            catch (EventValidationException)
            {
                refused++;
            }
        }

        host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        var people = kept.Select(e => shop.PersonOfEvent[e.Id]).Distinct().Count();
        var kinds = string.Join(", ", kept.GroupBy(e => e.GetType().Name).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"));
        var description = string.Create(CultureInfo.InvariantCulture,
            $"spread: the first {kept.Count:N0} events of a {ShopCustomers:N0}-customer shop ({refused} refused ones left out), {people:N0} people, {duplicates} re-sent duplicates, {kept[0].OccurredAt:yyyy-MM-dd} to {kept[^1].OccurredAt:yyyy-MM-dd}; {kinds}");
        return ([.. kept], description);
    }

    private static (LoyaltyEvent[], string) Hot(int count)
    {
        var tenant = new TenantId("acme");
        var start = Instant.FromUtc(2025, 1, 1, 9, 0);
        Identifier[] Ids() => [new Identifier(IdentifierType.Email, "hot.customer@example.com"), new Identifier(IdentifierType.LoyaltyCard, "LC0000000042")];
        var events = new LoyaltyEvent[count];
        events[0] = new SignedUp
        {
            Id = new EventId("hot-0"), Tenant = tenant, OccurredAt = start, Channel = Channel.Web, Identifiers = Ids(),
            Profile = new ProfileData { GivenName = "Camille", FamilyName = "Martin", Locale = "fr-FR" },
        };
        for (var i = 1; i < count; i++)
        {
            OrderLine[] lines =
            [
                new() { LineId = "1", Sku = $"SKU-{i % 50:D3}", Category = "apparel", Quantity = 1, UnitPrice = 19.99m + (i % 7) },
                new() { LineId = "2", Sku = $"SKU-{100 + (i % 30):D3}", Category = "beauty", Quantity = 1 + (i % 2), UnitPrice = 9.49m },
            ];
            var channel = (i % 3) switch { 0 => Channel.Pos, 1 => Channel.Web, _ => Channel.App };
            var subtotal = lines.Sum(l => l.LineTotal);
            var shipping = channel == Channel.Pos ? 0m : 4.90m;
            events[i] = new OrderPlaced
            {
                Id = new EventId($"hot-{i}"), Tenant = tenant, OccurredAt = start + Duration.FromMinutes(i), Channel = channel, Identifiers = Ids(),
                OrderId = $"H-{i}", Currency = Currency.Eur, Lines = lines, Shipping = shipping, Total = subtotal + shipping,
                StoreId = channel == Channel.Pos ? "store-01" : null,
            };
        }

        return (events, string.Create(CultureInfo.InvariantCulture, $"hot: a sign-up and {count - 1:N0} orders of one customer, one a minute"));
    }
}
