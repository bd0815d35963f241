using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Predictive.Engine;
using Loyalty.Sdk.Programs;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.Predictive.Tests;

public sealed class EngineIntegrationTests
{
    private static readonly TenantId Tenant = new("acme");
    private static readonly Instant Start = Instant.FromUtc(2025, 1, 1, 10, 0);

    private static (ILoyaltyEngine Engine, IPredictiveService Predictive, FakeClock Clock, ServiceProvider Provider) Build()
    {
        var clock = new FakeClock(Start + Duration.FromDays(400));
        var services = new ServiceCollection().AddSingleton<IClock>(clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(DefaultPrograms.Retail()).AddPredictive(o => o.MinimumCustomers = 20);
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<ILoyaltyEngine>(), provider.GetRequiredService<IPredictiveService>(), clock, provider);
    }

    private static OrderPlaced Order(string id, string email, Instant at, decimal amount, string currency = "EUR") => new()
    {
        Id = new EventId(id), Tenant = Tenant, OccurredAt = at, Channel = Channel.Web,
        Identifiers = [new Identifier(IdentifierType.Email, email)],
        OrderId = "O-" + id, Currency = new Currency(currency), Total = amount,
        Lines = [new OrderLine { LineId = "1", Sku = "SKU", Quantity = 1, UnitPrice = amount }],
    };

    [Fact]
    public async Task Order_events_maintain_purchase_histories_with_same_day_orders_merged()
    {
        var (engine, predictive, _, provider) = Build();
        await using var _ = provider;
        await engine.IngestAsync(Order("1", "ann@example.com", Start, 10m));
        await engine.IngestAsync(Order("2", "ann@example.com", Start + Duration.FromHours(3), 5m));
        await engine.IngestAsync(Order("3", "ann@example.com", Start + Duration.FromDays(14), 30m));
        await engine.IngestAsync(Order("3", "ann@example.com", Start + Duration.FromDays(14), 30m)); // duplicate event: no change
        await engine.IngestAsync(Order("4", "ann@example.com", Start + Duration.FromDays(28), 20m, "USD"));

        var asOf = (Start + Duration.FromDays(35)).InUtc().Date;
        var summary = Assert.Single(await predictive.GetSummariesAsync(Tenant, asOf));
        Assert.Equal(2, summary.Summary.Frequency);
        Assert.Equal(4, summary.Summary.Recency, 6);
        Assert.Equal(5, summary.Summary.T, 6);
        Assert.Equal((30 + (20 * 0.92)) / 2, summary.Summary.MonetaryValue, 6);
    }

    [Fact]
    public async Task Merging_two_customers_combines_their_histories()
    {
        var (engine, predictive, _, provider) = Build();
        await using var _ = provider;
        await engine.IngestAsync(Order("a1", "ann@example.com", Start, 10m));
        await engine.IngestAsync(new OrderPlaced
        {
            Id = new EventId("b1"), Tenant = Tenant, OccurredAt = Start + Duration.FromDays(7), Channel = Channel.Pos,
            Identifiers = [new Identifier(IdentifierType.LoyaltyCard, "LC1")], OrderId = "O-b1", Currency = Currency.Eur, Total = 20m,
            Lines = [new OrderLine { LineId = "1", Sku = "SKU", Quantity = 1, UnitPrice = 20m }],
        });
        var merge = await engine.IngestAsync(new Interaction
        {
            Id = new EventId("link"), Tenant = Tenant, OccurredAt = Start + Duration.FromDays(8), Channel = Channel.App, InteractionKind = InteractionKind.AppVisit,
            Identifiers = [new Identifier(IdentifierType.Email, "ann@example.com"), new Identifier(IdentifierType.LoyaltyCard, "LC1")],
        });
        Assert.Single(merge.Merged);

        var all = await predictive.GetSummariesAsync(Tenant, (Start + Duration.FromDays(9)).InUtc().Date);
        var only = Assert.Single(all);
        Assert.Equal(merge.Customer, only.Customer);
        Assert.Equal(2, only.PurchaseDays);
        Assert.Equal(1, only.Summary.Frequency);
    }

    [Fact]
    public async Task Refit_scores_customers_and_due_work_refits_only_when_stale()
    {
        var (engine, predictive, clock, provider) = Build();
        await using var _ = provider;
        var shop = PredictiveSimulation.SimulateBgNbd(new BgNbdModel(0.8, 4, 0.6, 2.5), null, 200, 52, 52, seed: 11, timeResolution: 1.0 / 7);
        var events = new List<OrderPlaced>();
        foreach (var customer in shop)
        {
            var t = 0.0;
            events.Add(Order($"{customer.Id}-0", $"c{customer.Id}@example.com", Start, 10m));
            if (customer.Frequency > 0)
            {
                for (var k = 1; k <= customer.Frequency; k++)
                {
                    t = customer.Recency * k / customer.Frequency;
                    events.Add(Order($"{customer.Id}-{k}", $"c{customer.Id}@example.com", Start + Duration.FromDays(Math.Round(t * 7)), 10m + k));
                }
            }
        }

        foreach (var e in events.OrderBy(e => e.OccurredAt))
        {
            await engine.IngestAsync(e);
        }

        var asOf = (Start + Duration.FromDays(365)).InUtc().Date;
        var model = await predictive.RefitAsync(Tenant, asOf);
        Assert.NotNull(model);
        Assert.InRange(model!.R, 0.01, 20);
        Assert.Equal(101, model.ClvPercentiles.Count);

        var customerId = await engine.ResolveAsync(Tenant, new Identifier(IdentifierType.Email, "c1@example.com"));
        var traits = await predictive.ScoreAsync(Tenant, customerId!.Value, asOf);
        Assert.NotNull(traits);
        Assert.InRange(traits!.ProbabilityAlive, 0, 1);
        Assert.True(traits.ExpectedPurchases >= 0);
        Assert.InRange(traits.ClvPercentile!.Value, 0, 100);

        var same = await predictive.RunDueWorkAsync(Tenant, clock.GetCurrentInstant());
        Assert.Equal(model.FittedAt, same!.FittedAt);
        clock.Advance(Duration.FromDays(8));
        var refreshed = await predictive.RunDueWorkAsync(Tenant, clock.GetCurrentInstant());
        Assert.True(refreshed!.FittedAt > model.FittedAt);
    }

    [Fact]
    public async Task Too_few_customers_fit_no_model()
    {
        var (engine, predictive, _, provider) = Build();
        await using var _ = provider;
        await engine.IngestAsync(Order("1", "ann@example.com", Start, 10m));
        Assert.Null(await predictive.RefitAsync(Tenant, (Start + Duration.FromDays(1)).InUtc().Date));
        Assert.Null(await predictive.ScoreAsync(Tenant, (await engine.ResolveAsync(Tenant, new Identifier(IdentifierType.Email, "ann@example.com")))!.Value, Start.InUtc().Date));
    }
}

public sealed class PredictiveTraitTests
{
    private static readonly TenantId Tenant = new("acme");
    private static readonly Instant Start = Instant.FromUtc(2025, 1, 1, 10, 0);

    [Fact]
    public async Task Segment_rules_can_use_predictive_scores_once_a_model_is_fitted()
    {
        var end = Start + Duration.FromDays(130);
        var clock = new FakeClock(end);
        var program = DefaultPrograms.Retail() with
        {
            Segments =
            [
                new Loyalty.Sdk.Segments.SegmentDefinition { Id = "slipping_valuable", Name = "Valuable, slipping away", Rule = "clv_percentile >= 50 and p_alive < 0.9" },
                new Loyalty.Sdk.Segments.SegmentDefinition { Id = "scored", Name = "Scored", Rule = "p_alive >= 0" },
            ],
        };
        var services = new ServiceCollection().AddSingleton<IClock>(clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program).AddSegments().AddPredictive(o => o.MinimumCustomers = 20);
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();
        var predictive = provider.GetRequiredService<IPredictiveService>();
        var segments = provider.GetRequiredService<Loyalty.Sdk.Segments.ISegmentService>();

        // 60 customers: some buy every 2 weeks and keep going, some bought often and then stopped.
        var n = 0;
        for (var c = 0; c < 60; c++)
        {
            var stops = c % 3 == 0;
            for (var k = 0; k < 8; k++)
            {
                var at = Start + Duration.FromDays((k * 14) + (c % 7));
                if (stops && k > 3)
                {
                    break;
                }

                await engine.IngestAsync(new OrderPlaced
                {
                    Id = new EventId($"o{n++}"), Tenant = Tenant, OccurredAt = at, Channel = Channel.Web,
                    Identifiers = [new Identifier(IdentifierType.Email, $"c{c}@example.com")], OrderId = $"O{n}", Currency = Currency.Eur,
                    Total = 40m + c, Lines = [new OrderLine { LineId = "1", Sku = "S", Quantity = 1, UnitPrice = 40m + c }],
                });
            }
        }

        Assert.Empty(await segments.GetExactMembersAsync(Tenant, "scored", end));   // no model yet: scores are null
        Assert.NotNull(await predictive.RefitAsync(Tenant, end.InUtc().Date));

        // Re-evaluate every customer with a fresh event each (an app visit).
        for (var c = 0; c < 60; c++)
        {
            await engine.IngestAsync(new Interaction
            {
                Id = new EventId($"v{c}"), Tenant = Tenant, OccurredAt = end, Channel = Channel.App, InteractionKind = InteractionKind.AppVisit,
                Identifiers = [new Identifier(IdentifierType.Email, $"c{c}@example.com")],
            });
        }

        Assert.Equal(60, (await segments.GetExactMembersAsync(Tenant, "scored", end)).Count);
        var slipping = await segments.GetExactMembersAsync(Tenant, "slipping_valuable", end);
        Assert.NotEmpty(slipping);
        foreach (var customer in slipping)
        {
            var traits = await predictive.ScoreAsync(Tenant, customer, end.InUtc().Date);
            Assert.True(traits!.ProbabilityAlive < 0.9);
        }
    }
}
