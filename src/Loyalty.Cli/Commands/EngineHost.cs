using Loyalty.Sdk;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Identity.Matching.Engine;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Predictive.Engine;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Simulation;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Cli.Commands;

/// <summary>Builds an engine for the CLI: the chosen store, the program, and a clock that follows the history.</summary>
internal sealed class EngineHost : IAsyncDisposable
{
    private readonly ServiceProvider provider;

    private EngineHost(ServiceProvider provider, ManualClock clock)
    {
        this.provider = provider;
        Clock = clock;
        Engine = provider.GetRequiredService<ILoyaltyEngine>();
        Predictive = provider.GetRequiredService<IPredictiveService>();
        Duplicates = provider.GetRequiredService<IDuplicateDetectionService>();
        Ledger = provider.GetRequiredService<ILedgerService>();
    }

    public ILedgerService Ledger { get; }

    /// <summary>The due work of every capability at the start of a day of the history: segments' time-based changes
    /// and weekly sizes, the ledger's (expiry,
    /// activation, reservation timeouts, tier reviews) and the predictive refits and calibration checkpoint.</summary>
    public async Task RunDueWorkAsync(TenantId tenant, Instant now, PredictiveCheckpoint checkpoint, SegmentSimulation segments, CancellationToken cancellationToken)
    {
        await segments.AdvanceAsync(now, cancellationToken).ConfigureAwait(false);
        while ((await Ledger.RunDueWorkAsync(tenant, now, cancellationToken: cancellationToken).ConfigureAwait(false)).More)
        {
        }

        await checkpoint.OnNewDayAsync(now, cancellationToken).ConfigureAwait(false);
    }

    public IDuplicateDetectionService Duplicates { get; }

    public IPredictiveService Predictive { get; }

    public ILoyaltyEngine Engine { get; }

    public IServiceProvider Services => provider;

    public ManualClock Clock { get; }

    public Loyalty.Sdk.Segments.ISegmentService Segments => provider.GetRequiredService<Loyalty.Sdk.Segments.ISegmentService>();

    /// <summary>Builds the engine on <paramref name="store"/>: <c>sqlite</c> (a file, <paramref name="defaultFile"/>
    /// unless <paramref name="connection"/> names another; <paramref name="fresh"/> starts it empty), <c>postgres</c>
    /// (<paramref name="connection"/> required) or <c>memory</c>.</summary>
    public static EngineHost Create(string store, string? connection, LoyaltyProgram program, Instant start, string defaultFile = ".loyalty/loyalty.db", bool fresh = false)
    {
        var clock = new ManualClock(start);
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(clock);
        var builder = services.AddLoyalty().UseDefaultProgram(program).AddConsent().AddLedger().AddSegments().AddPredictive().AddDuplicateDetection();
        switch (store)
        {
            case "memory":
                if (connection is not null)
                {
                    throw new CliException("--connection is not used with --store memory.");
                }

                builder.UseInMemoryStorage();
                break;
            case "sqlite":
                if (connection is null && fresh)
                {
                    foreach (var file in new[] { defaultFile, defaultFile + "-wal", defaultFile + "-shm" })
                    {
                        if (File.Exists(file))
                        {
                            File.Delete(file);
                        }
                    }
                }

                builder.UseSqliteStorage(connection ?? $"Data Source={defaultFile}");
                break;
            case "postgres":
                if (connection is null)
                {
                    throw new CliException("--store postgres needs --connection \"Host=...;Database=...;Username=...\".");
                }

                builder.UsePostgreSqlStorage(connection, o => o.MigrateOnStart = true);
                break;
            default:
                throw new CliException($"Unknown store '{store}': use sqlite, postgres or memory.");
        }

        return new EngineHost(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }), clock);
    }

    /// <summary>The predictive checkpoint for a history from <paramref name="first"/> to <paramref name="last"/>: the
    /// last 13 weeks are the holdout when the history is at least 26 weeks long, else its second half.</summary>
    public PredictiveCheckpoint Checkpoint(TenantId tenant, LocalDate first, LocalDate last)
    {
        var days = Period.Between(first, last, PeriodUnits.Days).Days;
        var holdout = days >= 182 ? 91 : Math.Max(1, days / 2);
        return new PredictiveCheckpoint(Predictive, tenant, last.PlusDays(-holdout));
    }

    /// <summary>What the report reads from the registered capabilities.</summary>
    public ReportInputs ReportInputs(PredictiveCheckpoint checkpoint, LocalDate lastDay) => new()
    {
        Predictive = new PredictiveReportInputs(Predictive, checkpoint, lastDay),
        Ledger = Ledger,
        Consent = provider.GetService<Loyalty.Sdk.Consent.IConsentService>(),
        Segments = Segments,
        Duplicates = Duplicates,
    };

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}

/// <summary>A usage error with a message for the user (exit code 2).</summary>
internal sealed class CliException(string message) : Exception(message);
