using System.Diagnostics;
using System.Diagnostics.Metrics;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Storage.Proof;

/// <summary>Which events a node ingests and how (see <see cref="Program"/> for the command-line form).</summary>
public sealed record ProofShare
{
    /// <summary>First index (0-based, file order) of the share; default 0.</summary>
    public int? From { get; init; }

    /// <summary>End of the share (exclusive); default the end of the file.</summary>
    public int? To { get; init; }

    /// <summary>With <see cref="Offsets"/>: only indices whose remainder modulo this is an offset.</summary>
    public int Stride { get; init; } = 1;

    /// <summary>The remainders taken.</summary>
    public IReadOnlyList<int> Offsets { get; init; } = [0];

    /// <summary>Events per unit of work at most (one UTC day at most).</summary>
    public int Batch { get; init; } = 1;

    /// <summary>How long to wait for a predecessor owned by another node before ingesting it here.</summary>
    public int WaitMs { get; init; } = 5000;

    /// <summary>Whether to keep the order of identity components (<see cref="EventOrdering"/>).</summary>
    public bool Order { get; init; } = true;

    /// <summary>When set, the share is visited day by day, and within a day in a random order drawn with this seed that
    /// keeps each identity component's events in file order (another node's order, same result).</summary>
    public int? Shuffle { get; init; }
}

/// <summary>
/// Ingests a share of the events into a store, as one node: in file order, in units of work of at most
/// <see cref="ProofShare.Batch"/> events of one UTC day, the clock set by <see cref="EventClock"/>. Prints
/// <c>applied A duplicate D at I</c> after every unit of work and <c>done ...</c> at the end.
/// </summary>
public sealed class ProofIngestion(ProofHost host, IReadOnlyList<LoyaltyEvent> events, ProofShare options, TextWriter output, TextWriter errors)
{
    private readonly bool[] done = new bool[events.Count];
    private readonly EventOrdering ordering = EventOrdering.Compute(events, DefaultPrograms.Retail().DefaultRegion);
    private long applied;
    private long duplicates;
    private long rejected;
    private long helped;
    private long gaveUp;
    private long waitedMs;

    /// <summary>Ingests the share; returns what happened.</summary>
    public async Task<ProofIngestionSummary> RunAsync()
    {
        var from = Math.Min(options.From ?? 0, events.Count);
        var to = Math.Clamp(options.To ?? events.Count, from, events.Count);
        var share = Enumerable.Range(from, to - from).Where(i => options.Offsets.Contains(i % options.Stride)).ToArray();
        if (options.Shuffle is { } seed)
        {
            share = Shuffle(share, new Random(seed));
        }

        var inShare = new bool[events.Count];
        foreach (var i in share)
        {
            inShare[i] = true;
        }

        output.WriteLine($"start pid {Environment.ProcessId} events {events.Count} components {ordering.ComponentCount} share {share.Length}");
        output.Flush();
        var watch = Stopwatch.StartNew();
        long retries = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Loyalty.Sdk" && instrument.Name == "loyalty.ingest.conflict_retries")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref retries, value));
        listener.Start();
        var pos = 0;
        var components = new HashSet<int>();
        while (pos < share.Length)
        {
            // A unit of work: events of one UTC day, and no event whose predecessor is another node's while an earlier
            // event of its component is in the unit (that node would wait for this unit, and this unit for it).
            var day = EventClock.Day(events[share[pos]]);
            components.Clear();
            components.Add(ordering.Component[share[pos]]);
            var end = pos + 1;
            while (end < share.Length && end - pos < options.Batch && EventClock.Day(events[share[end]]) == day)
            {
                var j = share[end];
                if (options.Order && ordering.Predecessor[j] is var p and >= 0 && !inShare[p] && components.Contains(ordering.Component[j]))
                {
                    break;
                }

                components.Add(ordering.Component[j]);
                end++;
            }

            var batch = share[pos..end];
            if (options.Order)
            {
                foreach (var i in batch)
                {
                    if (ordering.Predecessor[i] is var p and >= 0 && !inShare[p])
                    {
                        await EnsureProcessedAsync(p).ConfigureAwait(false);
                    }
                }
            }

            await IngestAsync(batch).ConfigureAwait(false);
            output.WriteLine($"applied {applied} duplicate {duplicates} at {batch[^1]}");
            output.Flush();
            pos = end;
        }

        var summary = new ProofIngestionSummary(applied, duplicates, rejected, helped, Interlocked.Read(ref retries), gaveUp, waitedMs, watch.ElapsedMilliseconds);
        output.WriteLine(summary.ToString());
        output.Flush();
        return summary;
    }

    /// <summary>Day by day (file order), a random interleaving of each identity component's events.</summary>
    private int[] Shuffle(int[] share, Random random)
    {
        var result = new List<int>(share.Length);
        foreach (var day in share.GroupBy(i => EventClock.Day(events[i])))
        {
            var chains = day.GroupBy(i => ordering.Component[i]).Select(g => new Queue<int>(g)).ToList();
            var left = chains.Sum(c => c.Count);
            while (left > 0)
            {
                // Pick the next event's chain with probability proportional to what it has left (a uniform merge).
                var k = random.Next(left);
                var chain = chains.First(c => (k -= c.Count) < 0);
                result.Add(chain.Dequeue());
                left--;
            }
        }

        return [.. result];
    }

    /// <summary>Waits until event <paramref name="index"/> is processed by some node, then helps if it takes too long.</summary>
    private async Task EnsureProcessedAsync(int index)
    {
        if (done[index])
        {
            return;
        }

        var watch = Stopwatch.StartNew();
        var delay = 1;
        while (true)
        {
            if (await IsProcessedAsync(index).ConfigureAwait(false))
            {
                done[index] = true;
                waitedMs += watch.ElapsedMilliseconds;
                return;
            }

            if (watch.ElapsedMilliseconds >= options.WaitMs)
            {
                break;
            }

            await Task.Delay(delay).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 16);
        }

        waitedMs += watch.ElapsedMilliseconds;

        // Nobody did it (yet, or it is rejected, which the store does not record): ingest it and whatever of its
        // component before it is still missing, oldest first.
        var chain = new Stack<int>();
        for (var q = index; q >= 0 && !done[q]; q = ordering.Predecessor[q])
        {
            if (await IsProcessedAsync(q).ConfigureAwait(false))
            {
                done[q] = true;
                break;
            }

            chain.Push(q);
        }

        while (chain.TryPop(out var q))
        {
            helped++;
            await IngestAsync([q]).ConfigureAwait(false);
        }
    }

    private async Task<bool> IsProcessedAsync(int index)
    {
        var e = events[index];
        var session = await host.Store.OpenSessionAsync(e.Tenant).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        return await session.Events.FindAsync(e.Id).ConfigureAwait(false) is not null;
    }

    private async Task IngestAsync(int[] batch)
    {
        host.Clock.Set(EventClock.IngestionInstant(events[batch[0]]));
        var list = batch.Select(i => events[i]).ToArray();
        try
        {
            Count(await RetryAsync(() => host.Engine.IngestBatchAsync(list)).ConfigureAwait(false));
        }
        catch (EventValidationException)
        {
            // One bad event costs only itself.
            foreach (var e in list)
            {
                try
                {
                    Count([await RetryAsync(() => host.Engine.IngestAsync(e)).ConfigureAwait(false)]);
                }
                catch (EventValidationException ex)
                {
                    rejected++;
                    await errors.WriteLineAsync($"rejected {e.Id}: {string.Join("; ", ex.Errors)}").ConfigureAwait(false);
                }
            }
        }

        foreach (var i in batch)
        {
            done[i] = true;
        }
    }

    /// <summary>The engine retries a lost race itself (<see cref="LoyaltyOptions.MaxConflictRetries"/>); under heavy
    /// contention it may still give up, and then the worker starts again.</summary>
    private async Task<T> RetryAsync<T>(Func<ValueTask<T>> ingest)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await ingest().ConfigureAwait(false);
            }
            catch (ConcurrencyConflictException) when (attempt < 100)
            {
                gaveUp++;
                await Task.Delay(Random.Shared.Next(1, 20)).ConfigureAwait(false);
            }
        }
    }

    private void Count(IReadOnlyList<IngestResult> results)
    {
        foreach (var r in results)
        {
            if (r.Outcome == IngestOutcome.Applied)
            {
                applied++;
            }
            else
            {
                duplicates++;
            }
        }
    }
}

/// <summary>What a node did.</summary>
/// <param name="Applied">Events it applied.</param>
/// <param name="Duplicates">Events it found already applied.</param>
/// <param name="Rejected">Events the engine refused.</param>
/// <param name="Helped">Events outside its share it ingested because their successor waited too long.</param>
/// <param name="Retries">Units of work the engine ran again because their commit lost a race (a concurrency conflict).</param>
/// <param name="GaveUp">Ingestions the engine gave up after losing races too often (then retried here).</param>
/// <param name="WaitedMs">Time spent waiting for other nodes.</param>
/// <param name="ElapsedMs">Time spent in all.</param>
public sealed record ProofIngestionSummary(long Applied, long Duplicates, long Rejected, long Helped, long Retries, long GaveUp, long WaitedMs, long ElapsedMs)
{
    /// <summary>The <c>done ...</c> line.</summary>
    public override string ToString() =>
        FormattableString.Invariant($"done applied {Applied} duplicate {Duplicates} rejected {Rejected} helped {Helped} retries {Retries} gave_up {GaveUp} waited_ms {WaitedMs} elapsed_ms {ElapsedMs}");

    /// <summary>Parses a <c>done ...</c> line (null if it is not one).</summary>
    public static ProofIngestionSummary? TryParse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var parts = line.Split(' ');
        if (parts.Length != 17 || parts[0] != "done")
        {
            return null;
        }

        long At(int i) => long.Parse(parts[i], System.Globalization.CultureInfo.InvariantCulture);
        return new ProofIngestionSummary(At(2), At(4), At(6), At(8), At(10), At(12), At(14), At(16));
    }
}
