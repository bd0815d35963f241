using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Loyalty.Sdk.Storage.Proof.Tests;

/// <summary>
/// The storage proofs, for any backend the worker can open from a spec string: a subclass names a fresh, empty store
/// per call of <see cref="CreateStoreSpec"/> (SQLite: <see cref="SqliteStorageProofs"/>). Every proof compares the
/// final state with the reference digest D0 of one clean in-process run (<see cref="ProofEvents"/>) and checks the
/// invariants (<see cref="StateDigest"/>). Randomness is seeded (the seed is in the test output) so that a failure
/// reproduces: set <c>LOYALTY_PROOF_SEED</c> to replay one.
/// </summary>
public abstract class StorageProofs(ProofEvents source, ITestOutputHelper output) : IClassFixture<ProofEvents>
{
    /// <summary>Generous: a worker that makes no progress for this long is stuck.</summary>
    private static readonly TimeSpan Stuck = TimeSpan.FromSeconds(60);

    /// <summary>A spec (<c>kind:value</c>) of a fresh, empty store that no other test uses.</summary>
    protected abstract string CreateStoreSpec();

    /// <summary>The source file and its reference.</summary>
    protected ProofEvents Source => source;

    [SkippableFact]
    public async Task Two_clean_single_process_runs_give_the_reference_digest()
    {
        Report("reference (in-process, in-memory store)", source.Reference, source.Elapsed);
        Assert.Empty(source.Reference.Problems);
        Assert.Equal(source.DistinctEvents, source.Reference.ProcessedEvents);
        Assert.Equal(source.Reference.OutboxPending, source.ReferenceOutboxKeys.Distinct(StringComparer.Ordinal).Count());
        Assert.True(source.Reference.OutboxPending > 0, "the reference queued no outbox message: the outbox is not exercised");

        // Two separate processes, one event per unit of work and up to 32: the clock follows the events, so batching
        // must not change the outcome.
        var digests = new List<string>();
        foreach (var batch in new[] { 1, 32 })
        {
            var spec = CreateStoreSpec();
            var watch = Stopwatch.StartNew();
            using var worker = StartWorker($"serial-b{batch}", spec, "--batch", batch.ToString(CultureInfo.InvariantCulture));
            var summary = await worker.WaitForCompletionAsync(Stuck);
            var (digest, outbox) = await ReferenceRun.ReadAsync(spec, source.Events);
            Report($"serial batch {batch}: {summary}", digest, watch.Elapsed);
            AssertSound(digest, outbox);
            Assert.Equal(source.DistinctEvents, summary.Applied + summary.Rejected);
            digests.Add(digest.Sha256);
        }

        Assert.Equal(digests[0], digests[1]);
        Assert.Equal(source.Reference.Sha256, digests[0]);
    }

    [SkippableFact]
    public async Task Four_nodes_ingesting_overlapping_shares_at_once_give_the_reference_digest()
    {
        var seed = Seed();
        var random = new Random(seed);
        var spec = CreateStoreSpec();
        var n = source.Events.Count;
        string S(int x) => x.ToString(CultureInfo.InvariantCulture);

        // Every node takes a different order and unit size; every event is in the share of three nodes, and the
        // nodes start together on an empty store (they also race to create and migrate it).
        string[][] shares =
        [
            ["--shuffle", S(random.Next()), "--batch", "1"],                                        // everything, own order
            ["--shuffle", S(random.Next()), "--batch", "16"],                                       // everything, another order, big units
            ["--to", S(n * 6 / 10), "--batch", "4"],                                                // first 60%, file order
            ["--from", S(n * 4 / 10), "--shuffle", S(random.Next()), "--batch", "1", "--wait-ms", "500"], // last 60%: waits for (or helps with) what precedes
        ];
        output.WriteLine($"seed {seed}; {n} events ({source.DistinctEvents} distinct) on {spec}");
        var watch = Stopwatch.StartNew();
        var workers = shares.Select((args, i) => StartWorker($"node{i}", spec, args)).ToArray();
        try
        {
            var summaries = await Task.WhenAll(workers.Select(w => w.WaitForCompletionAsync(Stuck)));
            for (var i = 0; i < workers.Length; i++)
            {
                output.WriteLine($"{workers[i].Name} [{string.Join(' ', shares[i])}]: {summaries[i]}");
                foreach (var line in workers[i].Errors)
                {
                    output.WriteLine($"  {workers[i].Name} stderr: {line}");
                }
            }

            var (digest, outbox) = await ReferenceRun.ReadAsync(spec, source.Events);
            Report("four nodes", digest, watch.Elapsed);
            AssertSound(digest, outbox);

            // Every event applied exactly once, by exactly one node (the source has no event the engine refuses).
            Assert.Equal(source.DistinctEvents, digest.ProcessedEvents);
            Assert.All(summaries, s => Assert.Equal(0, s.Rejected));
            Assert.Equal(source.DistinctEvents, summaries.Sum(s => s.Applied));
            output.WriteLine($"races: {summaries.Sum(s => s.Retries)} units of work run again after losing a commit race, {summaries.Sum(s => s.Duplicates)} duplicates");
            Assert.Equal(source.Reference.Sha256, digest.Sha256);
        }
        finally
        {
            foreach (var w in workers)
            {
                w.Dispose();
            }
        }
    }

    [SkippableFact]
    public async Task Four_nodes_ignoring_every_order_still_apply_each_event_once_and_keep_the_invariants()
    {
        // No ordering at all: an order's completion may reach the store before the order, a customer's events race
        // each other in different nodes. The outcome is then legitimately different from the reference (the engine
        // refuses what it cannot apply yet, merges happen in another order), but nothing may be applied twice, the
        // books must balance and every index must agree with the data.
        var seed = Seed();
        var random = new Random(seed);
        var spec = CreateStoreSpec();
        var n = source.Events.Count;
        string S(int x) => x.ToString(CultureInfo.InvariantCulture);
        string[][] shares =
        [
            ["--no-order", "--shuffle", S(random.Next()), "--batch", "2"],
            ["--no-order", "--shuffle", S(random.Next()), "--batch", "32"],
            ["--no-order", "--from", S(n / 4), "--batch", "8"],
            ["--no-order", "--from", S(n / 2), "--shuffle", S(random.Next())],
        ];
        output.WriteLine($"seed {seed}; {n} events ({source.DistinctEvents} distinct) on {spec}");
        var watch = Stopwatch.StartNew();
        var workers = shares.Select((args, i) => StartWorker($"node{i}", spec, args)).ToArray();
        try
        {
            var summaries = await Task.WhenAll(workers.Select(w => w.WaitForCompletionAsync(Stuck)));
            for (var i = 0; i < workers.Length; i++)
            {
                output.WriteLine($"{workers[i].Name} [{string.Join(' ', shares[i])}]: {summaries[i]}");
            }

            var (digest, outbox) = await ReferenceRun.ReadAsync(spec, source.Events);
            Report("four unordered nodes", digest, watch.Elapsed, expectReference: false);
            Assert.Empty(digest.Problems);
            Assert.Equal(outbox.Count, outbox.Distinct(StringComparer.Ordinal).Count());
            Assert.Equal(digest.OutboxPending, outbox.Count);

            // Nodes 0 and 1 see every event after its component's earlier ones (in their own order), so every event is
            // eventually applied, and by exactly one node.
            Assert.Equal(source.DistinctEvents, digest.ProcessedEvents);
            Assert.Equal(digest.ProcessedEvents, summaries.Sum(s => s.Applied));
        }
        finally
        {
            foreach (var w in workers)
            {
                w.Dispose();
            }
        }
    }

    [SkippableFact]
    public async Task A_node_killed_again_and_again_and_restarted_from_the_start_gives_the_reference_digest()
    {
        const int Kills = 12;
        var seed = Seed();
        var random = new Random(seed);
        var spec = CreateStoreSpec();
        output.WriteLine($"seed {seed}; {source.Events.Count} events ({source.DistinctEvents} distinct) on {spec}");
        var watch = Stopwatch.StartNew();
        long appliedBefore = 0;
        var kills = 0;
        for (var round = 0; round < Kills; round++)
        {
            // Aim the kill at new ground: a random part of what is left per remaining round (what earlier rounds
            // applied after their last report is not counted, so leave room), then a random delay so that it lands
            // anywhere in a unit of work (reading, committing, printing).
            var left = Math.Max(1, source.DistinctEvents - appliedBefore);
            var target = random.Next(1, (int)Math.Max(2, left / (Kills - round + 1)));
            var delay = random.Next(0, 25);
            var batch = new[] { 1, 1, 4, 16 }[random.Next(4)];
            using var worker = StartWorker($"crash{round}", spec, "--batch", batch.ToString(CultureInfo.InvariantCulture));
            var reached = await worker.ReadUntilAsync(w => w.Applied >= target, Stuck);
            if (reached)
            {
                await Task.Delay(delay);
                await worker.KillAsync();
                kills++;
            }

            output.WriteLine($"round {round}: batch {batch}, kill after {target} new applied + {delay} ms -> {(reached ? $"killed (pid {worker.Id}) having reported {worker.Applied} applied" : "finished first")}");
            appliedBefore += worker.Applied;
        }

        using (var last = StartWorker("final", spec, "--batch", "8"))
        {
            var summary = await last.WaitForCompletionAsync(Stuck);
            output.WriteLine($"final run: {summary}");
        }

        var (digest, outbox) = await ReferenceRun.ReadAsync(spec, source.Events);
        Report($"{kills} kills and a final run", digest, watch.Elapsed);
        Assert.True(kills >= 10, $"only {kills} kills landed");
        AssertSound(digest, outbox);
        Assert.Equal(source.DistinctEvents, digest.ProcessedEvents);
        Assert.Equal(source.Reference.Sha256, digest.Sha256);
    }

    /// <summary>The invariants of any final state, and the outbox against the reference.</summary>
    private void AssertSound(StateDigestResult digest, IReadOnlyList<string> outboxKeys)
    {
        Assert.Empty(digest.Problems);
        Assert.Equal(outboxKeys.Count, outboxKeys.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(digest.OutboxPending, outboxKeys.Count);
        Assert.Equal(source.ReferenceOutboxKeys.Order(StringComparer.Ordinal), outboxKeys.Order(StringComparer.Ordinal));
    }

    private WorkerProcess StartWorker(string name, string spec, params string[] args) =>
        WorkerProcess.Start(name, ["--store", spec, "--events", source.File, .. args]);

    private void Report(string what, StateDigestResult digest, TimeSpan elapsed, bool expectReference = true)
    {
        output.WriteLine($"{what}: digest {digest.Sha256}, {digest.ProcessedEvents}/{digest.DistinctEvents} events, {digest.Customers} customers, outbox {digest.OutboxPending}, {elapsed.TotalSeconds:F1} s");
        foreach (var p in digest.Problems.Take(20))
        {
            output.WriteLine("  problem: " + p);
        }

        if (expectReference && digest.Sha256 != source.Reference.Sha256)
        {
            var file = Path.Combine(Path.GetTempPath(), $"loyalty-proof-{what.Split(' ')[0]}-{digest.Sha256[..8]}.txt");
            File.WriteAllText(file, digest.Text);
            File.WriteAllText(Path.Combine(Path.GetTempPath(), $"loyalty-proof-reference-{source.Reference.Sha256[..8]}.txt"), source.Reference.Text);
            output.WriteLine($"  differs from the reference; canonical text in {file}; first difference: {FirstDifference(source.Reference.Text, digest.Text)}");
        }
    }

    private static string FirstDifference(string a, string b)
    {
        var la = a.Split('\n');
        var lb = b.Split('\n');
        for (var i = 0; i < Math.Max(la.Length, lb.Length); i++)
        {
            var x = i < la.Length ? la[i] : "<end>";
            var y = i < lb.Length ? lb[i] : "<end>";
            if (x != y)
            {
                return $"line {i + 1}:\n  reference: {Trim(x)}\n  this run:  {Trim(y)}";
            }
        }

        return "none";
    }

    private static string Trim(string s) => s.Length > 600 ? s[..600] + "..." : s;

    private static int Seed() =>
        Environment.GetEnvironmentVariable("LOYALTY_PROOF_SEED") is { } s && int.TryParse(s, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : Random.Shared.Next();
}
