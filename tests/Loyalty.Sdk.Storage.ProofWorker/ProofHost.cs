using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Journeys;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Segments;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Storage.Proof;

/// <summary>
/// The engine of the proofs, built like the CLI's (<c>EngineHost</c>): the default program, consent, ledger, segments
/// and a welcome journey (so that ingestion writes outbox messages), on the store of a spec, with an
/// <see cref="EventClock"/>. No due work is ever run, so the final state is a function of the events alone.
/// </summary>
public sealed class ProofHost : IAsyncDisposable
{
    private readonly ServiceProvider provider;

    private ProofHost(ServiceProvider provider, EventClock clock)
    {
        this.provider = provider;
        Clock = clock;
    }

    /// <summary>The clock the engine reads.</summary>
    public EventClock Clock { get; }

    /// <summary>The services.</summary>
    public IServiceProvider Services => provider;

    /// <summary>The engine.</summary>
    public ILoyaltyEngine Engine => provider.GetRequiredService<ILoyaltyEngine>();

    /// <summary>The store.</summary>
    public ILoyaltyStore Store => provider.GetRequiredService<ILoyaltyStore>();

    /// <summary>The ledger service.</summary>
    public ILedgerService Ledger => provider.GetRequiredService<ILedgerService>();

    /// <summary>The consent service.</summary>
    public IConsentService Consent => provider.GetRequiredService<IConsentService>();

    /// <summary>The segment service.</summary>
    public ISegmentService Segments => provider.GetRequiredService<ISegmentService>();

    /// <summary>Builds the engine on the store named by <paramref name="storeSpec"/>.</summary>
    public static ProofHost Create(string storeSpec)
    {
        var clock = new EventClock();
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(clock);
        services.AddLoyalty()
            .UseDefaultProgram(DefaultPrograms.Retail())
            .AddConsent()
            .AddLedger()
            .AddSegments()
            .AddJourneys(o => o.Journeys.Add(JourneyTemplates.WelcomeSeries))
            .UseStore(storeSpec);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new ProofHost(provider, clock);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => provider.DisposeAsync();
}

/// <summary>
/// The engine clock of the proofs: a pure function of the events being ingested, never of the process or the wall
/// clock. An event is ingested "at the end of its UTC day" (<see cref="IngestionInstant"/>), and units of work never
/// span two UTC days, so every time-dependent result (pending points, recency rules, journey timers) is the same
/// however the events are split into batches, processes and restarts. It may go back (a node that helps with an
/// earlier event sets it back for that unit of work).
/// </summary>
public sealed class EventClock : IClock
{
    private long ticks;

    /// <summary>Sets the instant the clock reads.</summary>
    public void Set(Instant instant) => Interlocked.Exchange(ref ticks, instant.ToUnixTimeTicks());

    /// <inheritdoc />
    public Instant GetCurrentInstant() => Instant.FromUnixTimeTicks(Interlocked.Read(ref ticks));

    /// <summary>The UTC day an event belongs to (units of work never cross it).</summary>
    public static LocalDate Day(LoyaltyEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.OccurredAt.InUtc().Date;
    }

    /// <summary>When <paramref name="e"/> is ingested: midnight UTC after the day it occurred.</summary>
    public static Instant IngestionInstant(LoyaltyEvent e) => Day(e).PlusDays(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
}
