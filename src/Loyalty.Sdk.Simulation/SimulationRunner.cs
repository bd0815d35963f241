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
    /// refuses is retried event by event so that one bad event costs only itself. <paramref name="onNewDay"/>, when
    /// given, runs at the start of every UTC day the history crosses (e.g. the ledger's due work).</summary>
    public static async Task<IngestLog> IngestAsync(
        ILoyaltyEngine engine, ManualClock clock, IReadOnlyList<LoyaltyEvent> events, IProgress<int>? progress = null, int batchSize = 500,
        Func<Instant, CancellationToken, Task>? onNewDay = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(events);
        var log = new IngestLog();
        var watch = Stopwatch.StartNew();
        LocalDate? day = null;
        for (var offset = 0; offset < events.Count; offset += batchSize)
        {
            var batch = events.Skip(offset).Take(batchSize).ToArray();
            var until = batch.Max(e => e.OccurredAt);
            if (onNewDay is not null)
            {
                var today = until.InUtc().Date;
                day ??= batch.Min(e => e.OccurredAt).InUtc().Date;
                while (day < today)
                {
                    day = day.Value.PlusDays(1);
                    var midnight = day.Value.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
                    clock.AdvanceTo(midnight);
                    await onNewDay(midnight, cancellationToken).ConfigureAwait(false);
                }
            }

            clock.AdvanceTo(until);
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
