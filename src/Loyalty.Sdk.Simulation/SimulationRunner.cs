using System.Diagnostics;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Simulation;

/// <summary>What streaming a history through the engine produced.</summary>
public sealed class IngestLog
{
    /// <summary>Results of applied and duplicate events, in order.</summary>
    public List<IngestResult> Results { get; } = [];

    /// <summary>Events the engine refused, with the problems.</summary>
    public List<(LoyaltyEvent Event, IReadOnlyList<ValidationError> Errors)> Rejected { get; } = [];

    /// <summary>Wall-clock time spent ingesting.</summary>
    public TimeSpan Elapsed { get; set; }
}

/// <summary>Streams events through an engine in time order, moving the engine's clock along with them.</summary>
public static class SimulationRunner
{
    /// <summary>Ingests <paramref name="events"/> in batches of <paramref name="batchSize"/>. A batch that the engine
    /// refuses is retried event by event so that one bad event costs only itself.</summary>
    public static async Task<IngestLog> IngestAsync(
        ILoyaltyEngine engine, ManualClock clock, IReadOnlyList<LoyaltyEvent> events, IProgress<int>? progress = null, int batchSize = 500, CancellationToken cancellationToken = default) =>
        await IngestAsync(engine, clock, events, onClock: null, progress, batchSize, cancellationToken).ConfigureAwait(false);

    /// <summary>Ingests like <see cref="IngestAsync(ILoyaltyEngine, ManualClock, IReadOnlyList{LoyaltyEvent}, IProgress{int}?, int, CancellationToken)"/>,
    /// calling <paramref name="onClock"/> before each batch with the instant the clock moves to (e.g. to run the
    /// segments' due work as time passes).</summary>
    public static async Task<IngestLog> IngestAsync(
        ILoyaltyEngine engine, ManualClock clock, IReadOnlyList<LoyaltyEvent> events, Func<Instant, CancellationToken, Task>? onClock, IProgress<int>? progress = null, int batchSize = 500, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(events);
        var log = new IngestLog();
        var watch = Stopwatch.StartNew();
        for (var offset = 0; offset < events.Count; offset += batchSize)
        {
            var batch = events.Skip(offset).Take(batchSize).ToArray();
            var to = batch.Max(e => e.OccurredAt);
            if (onClock is not null)
            {
                await onClock(to, cancellationToken).ConfigureAwait(false);
            }

            clock.AdvanceTo(to);
            try
            {
                log.Results.AddRange(await engine.IngestBatchAsync(batch, cancellationToken).ConfigureAwait(false));
            }
            catch (EventValidationException)
            {
                foreach (var e in batch)
                {
                    try
                    {
                        log.Results.Add(await engine.IngestAsync(e, cancellationToken).ConfigureAwait(false));
                    }
                    catch (EventValidationException ex)
                    {
                        log.Rejected.Add((e, ex.Errors));
                    }
                }
            }

            progress?.Report(Math.Min(events.Count, offset + batchSize));
        }

        log.Elapsed = watch.Elapsed;
        return log;
    }
}
