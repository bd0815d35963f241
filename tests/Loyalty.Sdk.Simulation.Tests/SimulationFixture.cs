using Loyalty.Sdk.Identity.Matching.Engine;
using System.Text.Json.Nodes;
using Loyalty.Sdk;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Predictive.Engine;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Simulation;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Simulation.Tests;

/// <summary>One small simulation shared by the tests of this class.</summary>
public sealed class SimulationFixture : IAsyncLifetime
{
    public static readonly ShopSettings Settings = new() { Customers = 300, Days = 240, Seed = 7 };

    public GeneratedShop Shop { get; private set; } = null!;

    public IngestLog Log { get; private set; } = null!;

    public JsonObject Report { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Shop = ShopGenerator.Generate(Settings);
        var clock = new ManualClock(Settings.Start.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant());
        var services = new ServiceCollection().AddSingleton<IClock>(clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(DefaultPrograms.Retail()).AddConsent().AddLedger().AddSegments().AddPredictive().AddDuplicateDetection();
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();
        var predictive = provider.GetRequiredService<IPredictiveService>();
        var lastDay = Settings.Start.PlusDays(Settings.Days - 1);
        var checkpoint = new PredictiveCheckpoint(predictive, Settings.Tenant, lastDay.PlusDays(-60));
        var ledger = provider.GetRequiredService<ILedgerService>();
        var segments = new SegmentSimulation(provider.GetRequiredService<Loyalty.Sdk.Segments.ISegmentService>(), Settings.Tenant, clock, clock.Now);
        async Task DueWork(Instant now, CancellationToken ct)
        {
            await segments.AdvanceAsync(now, ct);
            while ((await ledger.RunDueWorkAsync(Settings.Tenant, now, cancellationToken: ct)).More)
            {
            }

            await checkpoint.OnNewDayAsync(now, ct);
        }

        Log = await SimulationRunner.IngestAsync(engine, clock, Shop.Events, batchSize: 100, onNewDay: DueWork);
        await segments.FinishAsync(Shop.End, default);
        Report = await ReportBuilder.BuildAsync(engine, DefaultPrograms.Retail(), Settings.Tenant, Shop.Events, Log, Shop, "test",
            new ReportInputs { Predictive = new PredictiveReportInputs(predictive, checkpoint, lastDay), Ledger = ledger, Consent = provider.GetRequiredService<Loyalty.Sdk.Consent.IConsentService>(), Segments = provider.GetRequiredService<Loyalty.Sdk.Segments.ISegmentService>(), Duplicates = provider.GetRequiredService<Loyalty.Sdk.Identity.Matching.Engine.IDuplicateDetectionService>() });
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
