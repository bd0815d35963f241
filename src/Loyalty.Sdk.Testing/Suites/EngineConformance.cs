using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Storage.InMemory;
using Loyalty.Sdk.Testing.Engine;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Xunit;

namespace Loyalty.Sdk.Testing;

/// <summary>
/// The engine over the adapter gives the same results as over the reference in-memory store. Both run the engine
/// with the default program and every capability of Loyalty.Sdk (consent, ledger, segments, journeys) on a small
/// deterministic history (a few hundred events over 90 days, nine people: orders, cancellations, returns, merges,
/// consent changes, re-sent events, batches, nightly due work), and every result is compared: each ingest and due-work
/// result, customers, decision trails, balances, statements, lots, tiers, consent, exports, liability, segment sizes,
/// journey reports, blocked values, the journal and the outbox.
/// </summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class EngineConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private EngineHarness Adapter() => EngineHarness.Create(services => Fixture.AddStore(services, Store));

    private static EngineHarness Reference() => EngineHarness.Create(services => services.AddSingleton(new InMemoryLoyaltyStore()), builder => builder.UseInMemoryStorage());

    private static HashSet<CustomerId> CustomersOf(IEnumerable<object> transcript) =>
    [
        .. transcript.OfType<IngestResult>().SelectMany(r => r.Merged.Append(r.Customer ?? default)).Where(c => c.Value is not null),
    ];

    /// <summary>The scenario gives the same results over the adapter as over the reference store, step by step and in
    /// the end, and the adapter's ledger reconciles.</summary>
    [Fact]
    public virtual async Task The_scenario_gives_the_same_results_as_the_reference_store()
    {
        var steps = EngineScenario.Build(Tenant);
        await using var reference = Reference();
        await using var adapter = Adapter();

        var expected = await reference.RunAsync(Tenant, steps);
        var actual = await adapter.RunAsync(Tenant, steps);

        AssertScenarioIsMeaningful(expected);
        Deep.Equal(expected, actual, "transcript");
        var customers = CustomersOf(expected);
        Deep.Equal(await reference.SnapshotAsync(Tenant, customers), await adapter.SnapshotAsync(Tenant, customers), "snapshot");
        var expectedOutbox = await reference.DrainOutboxAsync();
        Assert.NotEmpty(expectedOutbox);
        Deep.Equal(expectedOutbox, await adapter.DrainOutboxAsync(), "outbox");
    }

    /// <summary>Ingesting the whole history again (one by one, and part of it as a batch) changes nothing: every event
    /// is a duplicate (with a customer when it had one), and every result reads the same.</summary>
    [Fact]
    public virtual async Task Ingesting_the_history_again_changes_nothing()
    {
        var steps = EngineScenario.Build(Tenant);
        await using var adapter = Adapter();
        var first = await adapter.RunAsync(Tenant, steps);
        var customers = CustomersOf(first);
        var end = EngineScenario.Start + Duration.FromDays(EngineScenario.Days + 1);
        adapter.Clock.Reset(end);
        var before = await adapter.SnapshotAsync(Tenant, customers);

        var events = steps.OfType<IngestStep>().SelectMany(s => s.Events).ToArray();
        var again = new List<IngestResult>();
        foreach (var e in events)
        {
            again.Add(await adapter.Engine.IngestAsync(e));
        }

        again.AddRange(await adapter.Engine.IngestBatchAsync(events.Take(40).ToArray()));

        Assert.All(again, r => Assert.Equal(IngestOutcome.Duplicate, r.Outcome));
        var resolved = new Dictionary<EventId, CustomerId?>();
        foreach (var r in first.OfType<IngestResult>().Where(r => r.Outcome == IngestOutcome.Applied))
        {
            resolved[r.EventId] = r.Customer;
        }

        foreach (var r in again.Where(r => resolved.ContainsKey(r.EventId) && resolved[r.EventId] is not null))
        {
            Assert.NotNull(r.Customer);
        }

        adapter.Clock.Reset(end);
        Deep.Equal(before, await adapter.SnapshotAsync(Tenant, customers), "snapshot after re-ingestion");
    }

    /// <summary>Staff identity operations (unmerge, protect) and a GDPR erasure after the history give the same results
    /// over the adapter as over the reference store, and leave the adapter's ledger reconciled.</summary>
    [Fact]
    public virtual async Task Identity_operations_and_erasure_give_the_same_results_as_the_reference_store()
    {
        var steps = EngineScenario.Build(Tenant);
        await using var reference = Reference();
        await using var adapter = Adapter();
        var transcript = await reference.RunAsync(Tenant, steps);
        await adapter.RunAsync(Tenant, steps);
        var customers = CustomersOf(transcript);
        var end = EngineScenario.Start + Duration.FromDays(EngineScenario.Days + 1);

        var results = new List<object?>();
        foreach (var harness in new[] { reference, adapter })
        {
            harness.Clock.Reset(end);
            var outcome = new List<object?>();
            var merged = await harness.Engine.ResolveAsync(Tenant, EngineScenario.Pos6);
            var survivor = await harness.Engine.ResolveAsync(Tenant, EngineScenario.Email(7));
            var absorbed = (await harness.Engine.GetCustomerAsync(Tenant, survivor!.Value))!.Identity.Merges.Single().Absorbed;
            Assert.Equal(survivor, merged);
            outcome.Add(await harness.Identity.UnmergeAsync(Tenant, survivor.Value, absorbed, "staff-1", "two people"));

            // The split left a "do not link again" rule: an event carrying both identifiers is refused, not re-merged.
            outcome.Add(await harness.Engine.IngestAsync(new OrderPlaced
            {
                Id = new EventId("after-unmerge"), Tenant = Tenant, OccurredAt = end - Duration.FromMinutes(5), Channel = Channel.Pos,
                Identifiers = [EngineScenario.Phone(6), EngineScenario.Email(7)], OrderId = "O-after-unmerge", Currency = Currency.Eur,
                Lines = [new OrderLine { LineId = "l1", Sku = "SKU-1", Quantity = 1, UnitPrice = 30m }], Total = 30m,
            }));
            outcome.Add(await harness.Identity.ProtectAsync(Tenant, survivor.Value, "staff-1", "VIP"));

            // Customer 1 (who absorbed the anonymous visitor) is erased; a retry of their sign-up is still a duplicate.
            var erased = (await harness.Engine.ResolveAsync(Tenant, EngineScenario.Email(1)))!.Value;
            outcome.Add(await harness.PersonalData.EraseAsync(Tenant, erased, "dpo"));
            outcome.Add(await harness.Engine.ResolveAsync(Tenant, EngineScenario.Email(1)));
            outcome.Add(await harness.Engine.IngestAsync(steps.OfType<IngestStep>().SelectMany(s => s.Events).First(e => e.Id == new EventId("signup-1"))));
            outcome.Add(await harness.SnapshotAsync(Tenant, customers.Append(absorbed)));
            results.Add(outcome);
        }

        Deep.Equal(results[0], results[1], "after identity operations and erasure");
    }

    private static void AssertScenarioIsMeaningful(IReadOnlyList<object> transcript)
    {
        var results = transcript.OfType<IngestResult>().ToArray();
        Assert.InRange(results.Length, 200, 1000);
        Assert.Contains(results, r => r.Outcome == IngestOutcome.Duplicate);
        Assert.Contains(results, r => r.Merged.Count > 0);
        Assert.Contains(results, r => r.PointsPosted > 0);
        Assert.Contains(results, r => r.Segments.Count > 0);
        Assert.Contains(results, r => r.Decisions.Any(d => d.Action == "identifier_auto_blocked"));
        Assert.True(results.Select(r => r.Customer).Distinct().Count() >= 8);
    }
}
