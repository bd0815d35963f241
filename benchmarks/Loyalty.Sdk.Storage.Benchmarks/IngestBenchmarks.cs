using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Loyalty.Sdk.Storage.Benchmarks;

/// <summary>
/// The same event stream ingested end to end through the in-memory, SQLite and PostgreSQL stores, one event per
/// <see cref="ILoyaltyEngine.IngestAsync"/> call or <see cref="BatchSize"/> per <see cref="ILoyaltyEngine.IngestBatchAsync"/>
/// call. Every invocation ingests <see cref="EventsPerInvoke"/> events into a fresh, empty store (created by
/// <see cref="IterationSetup"/>, outside the measurement), so the figures are per event. The engine clock follows the
/// events (moved to each event's time, or to the last event's of a batch, as the simulation runner does).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[OperationsPerSecond]
public class IngestBenchmarks
{
    /// <summary>Events ingested by one invocation.</summary>
    public const int EventsPerInvoke = 1_000;

    private BackendCounts counts = new();
    private LoyaltyEvent[] events = [];
    private LoyaltyEvent[][] batches = [];
    private StoreHost? host;
    private ILoyaltyEngine engine = null!;
    private TimeSpan measured;
    private int invocations;

    /// <summary>The store: memory, sqlite or postgres (and postgres-noreset, an extra measurement: see
    /// <see cref="Stores.PostgresNoReset"/>).</summary>
    [Params(Stores.Memory, Stores.Sqlite, Stores.Postgres, Stores.PostgresNoReset)]
    public string Store { get; set; } = Stores.Memory;

    /// <summary>spread: a shop's events over many customers; hot: orders of one customer.</summary>
    [Params("spread", "hot")]
    public string Shape { get; set; } = "spread";

    /// <summary>Events per call: 1 (<see cref="ILoyaltyEngine.IngestAsync"/>) or 100 (<see cref="ILoyaltyEngine.IngestBatchAsync"/>).</summary>
    [Params(1, 100)]
    public int BatchSize { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        (events, var description) = EventStreams.Get(Shape, EventsPerInvoke);
        if (events.Length != EventsPerInvoke)
        {
            throw new InvalidOperationException($"The {Shape} stream has {events.Length} events, not {EventsPerInvoke}.");
        }

        batches = [.. events.Chunk(BatchSize)];
        counts = new BackendCounts();
        measured = TimeSpan.Zero;
        invocations = 0;
        Console.WriteLine($"// Stream {description}");
    }

    [IterationSetup]
    public void IterationSetup()
    {
        host = StoreHost.CreateAsync(Store, events[0].OccurredAt, StoreHost.Retail).GetAwaiter().GetResult();
        engine = host.Services.GetRequiredService<ILoyaltyEngine>();
    }

    [IterationCleanup]
    public void IterationCleanup()
    {
        if (host?.Backend?.Counts is { } c)
        {
            counts.Add(c);
        }

        host?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        host = null;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (invocations > 0 && Store != Stores.Memory)
        {
            Console.WriteLine($"// Backend Store={Store} Shape={Shape} BatchSize={BatchSize}, {invocations} invocations: {counts.Describe((long)invocations * EventsPerInvoke, measured, "event")}");
        }
    }

    /// <summary>Ingests the stream into the fresh store.</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public async Task<int> Ingest()
    {
        var clock = host!.Clock;
        var applied = 0;
        var started = Stopwatch.GetTimestamp();
        if (BatchSize == 1)
        {
            foreach (var e in events)
            {
                clock.AdvanceTo(e.OccurredAt);
                applied += Applied(await engine.IngestAsync(e).ConfigureAwait(false));
            }
        }
        else
        {
            foreach (var batch in batches)
            {
                clock.AdvanceTo(batch[^1].OccurredAt);
                var results = await engine.IngestBatchAsync(batch).ConfigureAwait(false);
                for (var i = 0; i < results.Count; i++)
                {
                    applied += Applied(results[i]);
                }
            }
        }

        measured += Stopwatch.GetElapsedTime(started);
        invocations++;
        return applied;
    }

    private static int Applied(IngestResult result) => result.Outcome == IngestOutcome.Applied ? 1 : 0;
}
