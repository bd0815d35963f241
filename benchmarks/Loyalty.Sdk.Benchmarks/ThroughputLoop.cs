using System.Diagnostics;
using Loyalty.Sdk.Events;

namespace Loyalty.Sdk.Benchmarks;

/// <summary>
/// <c>loop [--events N] [--seed-customers S] [--batch B] [--core]</c>: seeds S customers, then ingests N orders of the
/// <see cref="IngestBenchmarks"/> workload (one call per event, or batches of B) and prints events per second and the
/// bytes allocated per event. Plain and long-running, for a profiler: <c>DOTNET_PerfMapEnabled=1 perf record -g ...</c>.
/// </summary>
public static class ThroughputLoop
{
    private const string Usage = "usage: loop [--events N] [--seed-customers S] [--batch B] [--core]   (defaults: 200000, 100000, 1 = IngestAsync, every capability)";

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int events = 200_000, seeded = 100_000, batchSize = 1;
        var coreOnly = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--events" when i + 1 < args.Length && int.TryParse(args[i + 1], out events) && events > 0:
                case "--seed-customers" when i + 1 < args.Length && int.TryParse(args[i + 1], out seeded) && seeded >= 0:
                case "--batch" when i + 1 < args.Length && int.TryParse(args[i + 1], out batchSize) && batchSize > 0:
                    i++;
                    break;
                case "--core":
                    coreOnly = true;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"Unexpected argument '{args[i]}'.\n{Usage}").ConfigureAwait(false);
                    return 2;
            }
        }

        using var host = new LoyaltyHost(coreOnly);
        var workload = new OrderWorkload();
        await host.SeedCustomersAsync(workload, 0, seeded).ConfigureAwait(false);

        // Generated up front so that the loop measures the engine only.
        var orders = new LoyaltyEvent[events];
        for (var i = 0; i < orders.Length; i++)
        {
            orders[i] = workload.NextOrder();
        }

        var batches = orders.Chunk(batchSize).ToArray();
        GC.Collect();
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        var paused = GC.GetTotalPauseDuration();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        foreach (var batch in batches)
        {
            if (batchSize == 1)
            {
                await host.Engine.IngestAsync(batch[0]).ConfigureAwait(false);
            }
            else
            {
                await host.Engine.IngestBatchAsync(batch).ConfigureAwait(false);
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        paused = GC.GetTotalPauseDuration() - paused;
        Console.WriteLine(FormattableString.Invariant(
            $"{events:N0} orders, stages {string.Join(" → ", host.Stages)} ({(batchSize == 1 ? "IngestAsync" : $"IngestBatchAsync × {batchSize}")}) after {seeded:N0} seeded customers: {elapsed.TotalSeconds:F2} s, {events / elapsed.TotalSeconds:N0} events/s, {elapsed.TotalMicroseconds / events:F2} µs/event (CPU {cpu.TotalMicroseconds / events:F2} µs/event, all threads), {(double)allocated / events:N0} bytes allocated/event; GC: {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2} gen0/1/2 collections, paused {paused.TotalSeconds:F2} s ({paused / elapsed:P0} of the time)"));
        return 0;
    }
}
