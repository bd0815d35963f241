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
    /// <summary>Ingests <paramref name="events"/> (in time order) in batches of at most <paramref name="batchSize"/>.
    /// When <paramref name="onNewDay"/> is given, batches never cross a UTC day boundary and it is called at the start
    /// of every day (with the clock moved there) before that day's events — the place for due work such as expiry,
    /// time-based segment changes, timers or refits. A batch that the engine refuses is retried event by event so
    /// that one bad event costs only itself.</summary>
    public static async Task<IngestLog> IngestAsync(
        ILoyaltyEngine engine,
        ManualClock clock,
        IReadOnlyList<LoyaltyEvent> events,
        IProgress<int>? progress = null,
        int batchSize = 500,
        Func<Instant, CancellationToken, Task>? onNewDay = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var log = new IngestLog();
        var watch = Stopwatch.StartNew();
        LocalDate? day = null;
        var i = 0;
        while (i < events.Count)
        {
            var today = events[i].OccurredAt.InUtc().Date;
            if (onNewDay is not null && day != today)
            {
                for (var d = day?.PlusDays(1) ?? today; d <= today; d = d.PlusDays(1))
                {
                    var startOfDay = d.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
                    clock.AdvanceTo(startOfDay);
                    await onNewDay(startOfDay, cancellationToken).ConfigureAwait(false);
                }

                day = today;
            }

            var j = i;
            while (j < events.Count && j - i < batchSize && (onNewDay is null || events[j].OccurredAt.InUtc().Date == today))
            {
                j++;
            }

            var batch = new LoyaltyEvent[j - i];
            for (var k = i; k < j; k++)
            {
                batch[k - i] = events[k];
            }

            clock.AdvanceTo(batch[^1].OccurredAt);
            await IngestBatchAsync(engine, batch, log, cancellationToken).ConfigureAwait(false);
            i = j;
            progress?.Report(i);
        }

        log.Elapsed = watch.Elapsed;
        return log;
    }

    private static async Task IngestBatchAsync(ILoyaltyEngine engine, LoyaltyEvent[] batch, IngestLog log, CancellationToken cancellationToken)
    {
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
    }
}
