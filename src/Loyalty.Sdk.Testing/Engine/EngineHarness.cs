using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Journeys;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Segments;
using Loyalty.Sdk.Storage;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using Xunit;

namespace Loyalty.Sdk.Testing.Engine;

/// <summary>
/// The engine with every capability of Loyalty.Sdk the CLI wires (consent, ledger, segments) plus journeys (so that
/// the outbox fills), the default program, and a fake clock, over one store. It runs the scenario and takes a
/// snapshot of everything the engine's services report, for comparison with the reference in-memory store.
/// </summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private readonly ServiceProvider provider;

    private EngineHarness(ServiceProvider provider, FakeClock clock)
    {
        this.provider = provider;
        Clock = clock;
        Store = provider.GetRequiredService<ILoyaltyStore>();
        Engine = provider.GetRequiredService<ILoyaltyEngine>();
        Ledger = provider.GetRequiredService<ILedgerService>();
        Segments = provider.GetRequiredService<ISegmentService>();
        Journeys = provider.GetRequiredService<IJourneyService>();
        Consent = provider.GetRequiredService<IConsentService>();
        PersonalData = provider.GetRequiredService<IPersonalDataService>();
        Identity = provider.GetRequiredService<IIdentityService>();
    }

    public FakeClock Clock { get; }

    public ILoyaltyStore Store { get; }

    public ILoyaltyEngine Engine { get; }

    public ILedgerService Ledger { get; }

    public ISegmentService Segments { get; }

    public IJourneyService Journeys { get; }

    public IConsentService Consent { get; }

    public IPersonalDataService PersonalData { get; }

    public IIdentityService Identity { get; }

    /// <summary>Builds the engine; <paramref name="addStore"/> registers the store (before <c>AddLoyalty</c>) and
    /// <paramref name="configure"/> may add to the builder (e.g. <c>UseInMemoryStorage()</c>).</summary>
    public static EngineHarness Create(Action<IServiceCollection> addStore, Action<ILoyaltyBuilder>? configure = null)
    {
        var clock = new FakeClock(EngineScenario.Start);
        var services = new ServiceCollection();
        addStore(services);
        services.AddSingleton<IClock>(clock);
        var builder = services.AddLoyalty()
            .UseDefaultProgram(DefaultPrograms.Retail())
            .AddConsent()
            .AddLedger()
            .AddSegments()
            .AddJourneys(o =>
            {
                o.Journeys.Add(JourneyTemplates.WelcomeSeries);
                o.Journeys.Add(JourneyTemplates.PostPurchaseThankYou);
            });
        configure?.Invoke(builder);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new EngineHarness(provider, clock);
    }

    /// <summary>Runs the steps; returns a transcript of every result (ingest results, due work results).</summary>
    public async Task<List<object>> RunAsync(TenantId tenant, IEnumerable<ScenarioStep> steps)
    {
        var transcript = new List<object>();
        foreach (var step in steps)
        {
            Clock.Reset(step.At);
            switch (step)
            {
                case IngestStep { Batch: true } batch:
                    transcript.AddRange(await Engine.IngestBatchAsync(batch.Events));
                    break;
                case IngestStep single:
                    foreach (var e in single.Events)
                    {
                        transcript.Add(await Engine.IngestAsync(e));
                    }

                    break;
                case DueWorkStep:
                    DueWorkResult ledger;
                    do
                    {
                        ledger = await Ledger.RunDueWorkAsync(tenant, step.At);
                        transcript.Add(ledger);
                    }
                    while (ledger.More);

                    transcript.Add(await Segments.RunDueWorkAsync(tenant, step.At));
                    transcript.Add(await Journeys.AdvanceAsync(tenant, step.At));
                    break;
            }
        }

        return transcript;
    }

    /// <summary>Everything the engine's services report about the tenant and the given customers, by name.</summary>
    public async Task<SortedDictionary<string, object?>> SnapshotAsync(TenantId tenant, IEnumerable<CustomerId> customers)
    {
        var now = Clock.GetCurrentInstant();
        var snapshot = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var identifier in EngineScenario.Identifiers)
        {
            snapshot[$"resolve {identifier}"] = await TryAsync(() => Engine.ResolveAsync(tenant, identifier));
        }

        foreach (var customer in customers.Distinct().OrderBy(c => c.Value, StringComparer.Ordinal))
        {
            var c = customer.Value;
            snapshot[$"{c} view"] = await TryAsync(() => Engine.GetCustomerAsync(tenant, customer));
            snapshot[$"{c} trail"] = await TryAsync(() => Engine.GetDecisionTrailAsync(tenant, customer, 0, 100_000));
            snapshot[$"{c} balances"] = await TryAsync(() => Ledger.GetBalancesAsync(tenant, customer));
            snapshot[$"{c} statement"] = await TryAsync(() => Ledger.GetStatementAsync(tenant, customer, 0, 100_000));
            snapshot[$"{c} lots"] = await TryAsync(() => Ledger.GetLotsAsync(tenant, customer));
            snapshot[$"{c} tier"] = await TryAsync(() => Ledger.GetTierAsync(tenant, customer));
            snapshot[$"{c} consent history"] = await TryAsync(() => Consent.GetHistoryAsync(tenant, customer));
            snapshot[$"{c} consent states"] = await TryAsync(() => Consent.GetStatesAsync(tenant, customer, now));
            snapshot[$"{c} export"] = await TryAsync(() => PersonalData.ExportAsync(tenant, customer));
        }

        snapshot["ledger liability"] = await TryAsync(() => Ledger.GetLiabilityAsync(tenant));
        var reconciliation = await Ledger.ReconcileAsync(tenant);
        Assert.True(reconciliation.Balanced, $"The ledger does not reconcile: {string.Join("; ", reconciliation.Problems)}");
        snapshot["ledger reconciliation"] = reconciliation;
        snapshot["segment sizes"] = await TryAsync(() => Segments.GetSizesAsync(tenant));
        snapshot["journey reports"] = await TryAsync(() => Journeys.GetReportAsync(tenant));
        snapshot["blocked values"] = await TryAsync(() => Identity.ListBlockedValuesAsync(tenant));
        snapshot["outbox pending"] = await Store.Outbox.CountPendingAsync(tenant);

        var session = await Store.OpenSessionAsync(tenant);
        await using (session)
        {
            snapshot["journal"] = await session.Ledger.ListTransfersAsync(null, 0, 100_000);
            snapshot["ledger customers"] = (await session.Ledger.ListCustomersAsync(0, 100_000)).Select(c => c.Value).Order(StringComparer.Ordinal).ToArray();
            snapshot["segment states"] = await session.Segments.CountAsync();
            snapshot["review queue"] = await session.IdentityControls.ListReviewsAsync();
            snapshot["active customers"] = (await session.IdentityControls.ListCustomersAsync(0, 100_000)).Select(i => i.Customer.Value).Order(StringComparer.Ordinal).ToArray();
            snapshot["journey stats"] = (await session.Journeys.GetStatsAsync()).OrderBy(j => j.Journey, StringComparer.Ordinal).ToArray();
            snapshot["predictive histories"] = await session.Predictive.ListAsync(0, 100_000);
        }

        return snapshot;
    }

    /// <summary>Claims every message in the outbox (far in the future) and lists them by key.</summary>
    public async Task<IReadOnlyList<OutboxMessage>> DrainOutboxAsync()
    {
        var all = new List<OutboxMessage>();
        while (true)
        {
            var claims = await Store.Outbox.ClaimDueAsync(EngineScenario.Start + Duration.FromDays(3650), 100, Duration.FromDays(1), "conformance");
            if (claims.Count == 0)
            {
                return [.. all.OrderBy(m => m.Key, StringComparer.Ordinal)];
            }

            all.AddRange(claims.Select(c => c.Message));
        }
    }

    public ValueTask DisposeAsync() => provider.DisposeAsync();

    /// <summary>The value, or the type of the exception it threw (which must be the same for both stores).</summary>
    private static async Task<object?> TryAsync<T>(Func<ValueTask<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            return $"throws {ex.GetType().Name}";
        }
    }
}
