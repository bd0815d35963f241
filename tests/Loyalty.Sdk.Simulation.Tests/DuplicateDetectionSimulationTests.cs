using Loyalty.Sdk.Identity.Matching.Engine;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Xunit.Abstractions;

namespace Loyalty.Sdk.Simulation.Tests;

/// <summary>Probabilistic duplicate detection on the engine's own customers, after deterministic resolution, scored
/// against the generator's truth.</summary>
public sealed class DuplicateDetectionSimulationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_model_trained_on_simulated_customers_is_not_degenerate_and_its_suggestions_are_precise()
    {
        var settings = new ShopSettings { Customers = 2000, Days = 365, Seed = 42 };
        var shop = ShopGenerator.Generate(settings);
        var clock = new ManualClock(settings.Start.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant());
        var services = new ServiceCollection().AddSingleton<IClock>(clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(DefaultPrograms.Retail()).AddDuplicateDetection();
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();
        var log = await SimulationRunner.IngestAsync(engine, clock, shop.Events, batchSize: 100);

        // The true person of every final customer: the person behind most of its events.
        var votes = new Dictionary<CustomerId, Dictionary<int, int>>();
        foreach (var r in log.Results.Where(r => r.Outcome == IngestOutcome.Applied && r.Customer is not null))
        {
            var customer = (await engine.GetCustomerAsync(settings.Tenant, r.Customer!.Value))!.Identity.Customer;
            var tally = votes.TryGetValue(customer, out var t) ? t : votes[customer] = [];
            tally[shop.PersonOfEvent[r.EventId]] = tally.GetValueOrDefault(shop.PersonOfEvent[r.EventId]) + 1;
        }

        var person = votes.ToDictionary(kv => kv.Key, kv => kv.Value.OrderByDescending(v => v.Value).ThenBy(v => v.Key).First().Key);
        var found = await provider.GetRequiredService<IDuplicateDetectionService>().FindAsync(settings.Tenant);

        var model = Assert.IsType<Loyalty.Sdk.Identity.Matching.Model.FellegiSunterModel>(found.Model);
        var correct = found.Candidates.Count(c => person[c.Left] == person[c.Right]);
        var precision = found.Candidates.Count == 0 ? 0 : correct / (double)found.Candidates.Count;
        output.WriteLine($"compared {found.CustomersCompared}, candidate pairs {model.TrainingPairs}, λ {model.Prior:0.#####}, suggestions {found.Candidates.Count}, precision {precision:0.###} ({correct})");
        foreach (var f in model.Fields)
        {
            output.WriteLine($"  {f.Field}: " + string.Join("; ", f.Levels.Select(l => $"{l.Name} m={l.M:0.####} u={l.U:0.######} w={l.Weight:0.0}")));
        }

        foreach (var c in found.Candidates.Where(c => person[c.Left] != person[c.Right]).Take(8))
        {
            output.WriteLine($"  wrong {c.Probability:0.000}: " + string.Join(" | ", c.Fields.Select(f => $"{f.Field} {f.LevelName} {f.LeftValue}/{f.RightValue} {f.PartialWeight:0.0}")));
        }

        Assert.Null(found.ModelRejected);
        // Neither "everything matches" nor "nothing does" (λ pinned at EM's floor).
        Assert.InRange(model.Prior, 1e-4, 0.2);
        // A mistyped address is the evidence left after deterministic resolution: EM must learn it is a match signal.
        var email = model.Fields.Single(f => f.Field == "email").Levels.Single(l => l.Name == "one character edit");
        Assert.True(email.Weight > 10, $"one-edit e-mail weight {email.Weight:0.0} bits");
        var birth = model.Fields.Single(f => f.Field == "birth_date").Levels[^1];
        Assert.True(birth.Weight < -3, $"birth dates that disagree weigh {birth.Weight:0.0} bits");
        Assert.True(found.Candidates.Count >= 20, $"only {found.Candidates.Count} suggestions");
        Assert.True(precision >= 0.9, $"precision {precision:0.###}");
    }
}
