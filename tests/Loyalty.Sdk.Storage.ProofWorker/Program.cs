using System.Globalization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Serialization;

namespace Loyalty.Sdk.Storage.Proof;

/// <summary>
/// The proof worker: ingests its share of an NDJSON event file into the store of a spec, printing <c>applied N ...</c>
/// after every unit of work, and <c>done ...</c> at the end (exit code 0). It keeps no state of its own, so it can be
/// killed at any moment and started again from the beginning of the file (what it already applied comes back as
/// duplicates).
/// </summary>
/// <remarks>
/// <para>Usage: <c>--store &lt;spec&gt; --events &lt;file.ndjson&gt; [--from N --to M] [--stride K --offset J[,J2...]]
/// [--batch B] [--shuffle SEED] [--wait-ms W] [--no-order]</c>, or
/// <c>--store &lt;spec&gt; --events &lt;file&gt; --digest &lt;out.txt&gt;</c> to print the <see cref="StateDigest"/> of the
/// store (and write its canonical text; exit code 3 when an invariant is broken).</para>
/// <para>The share is the events with index (0-based, file order) in [from, to) and index mod K in the offsets; it is
/// ingested in file order (or, with <c>--shuffle</c>, day by day in a seeded random interleaving of identity
/// components), in units of work of at most B events of one UTC day. Before an event whose predecessor in its identity
/// component (<see cref="EventOrdering"/>) belongs to another node, the worker waits until the store records that
/// predecessor as processed, and after <c>--wait-ms</c> (default 5000) ingests it (and whatever it still waits for)
/// itself; <c>--no-order</c> ingests without looking. The clock is <see cref="EventClock"/>.</para>
/// </remarks>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static async Task<int> Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return 2;
        }

        var events = await ReadEventsAsync(options.Events).ConfigureAwait(false);
        await using var host = ProofHost.Create(options.Store);
        if (options.Digest is { } digestFile)
        {
            var digest = await StateDigest.ComputeAsync(host, events).ConfigureAwait(false);
            await File.WriteAllTextAsync(digestFile, digest.Text).ConfigureAwait(false);
            Console.Out.WriteLine($"digest {digest.Sha256} processed {digest.ProcessedEvents}/{digest.DistinctEvents} customers {digest.Customers} outbox {digest.OutboxPending}");
            foreach (var p in digest.Problems)
            {
                Console.Out.WriteLine("problem " + p);
            }

            return digest.Problems.Count == 0 ? 0 : 3;
        }

        var share = new ProofShare { From = options.From, To = options.To, Stride = options.Stride, Offsets = options.Offsets, Batch = options.Batch, WaitMs = options.WaitMs, Order = options.Order, Shuffle = options.Shuffle };
        await new ProofIngestion(host, events, share, Console.Out, Console.Error).RunAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>Reads every event of an NDJSON file, in order; a malformed line is an error.</summary>
    public static async Task<IReadOnlyList<LoyaltyEvent>> ReadEventsAsync(string path)
    {
        using var reader = new StreamReader(path);
        var events = new List<LoyaltyEvent>();
        await foreach (var record in EventReader.ReadNdjsonAsync(reader).ConfigureAwait(false))
        {
            events.Add(record.Event ?? throw new InvalidDataException($"{path}:{record.Line}: {string.Join("; ", record.Errors)}"));
        }

        return events;
    }

    private sealed record Options(string Store, string Events, int? From, int? To, int Stride, int[] Offsets, int Batch, int WaitMs, bool Order, int? Shuffle, string? Digest)
    {
        public static Options Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var order = true;
            for (var i = 0; i < args.Length; i++)
            {
                if (args[i] == "--no-order")
                {
                    order = false;
                }
                else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
                {
                    values[args[i][2..]] = args[++i];
                }
                else
                {
                    throw new ArgumentException($"Unexpected argument '{args[i]}'.");
                }
            }

            int? Int(string name) => values.TryGetValue(name, out var v)
                ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new ArgumentException($"--{name} takes a non-negative integer, not '{v}'.")
                : null;

            var store = values.GetValueOrDefault("store") ?? throw new ArgumentException("--store <spec> is required.");
            var events = values.GetValueOrDefault("events") ?? throw new ArgumentException("--events <file.ndjson> is required.");
            var stride = Int("stride") ?? 1;
            var offsets = values.TryGetValue("offset", out var o)
                ? o.Split(',').Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new ArgumentException($"--offset takes integers, not '{o}'.")).ToArray()
                : [0];
            if (stride < 1 || offsets.Any(x => x >= stride))
            {
                throw new ArgumentException("--stride must be at least 1 and every --offset below it.");
            }

            var batch = Int("batch") ?? 1;
            if (batch < 1)
            {
                throw new ArgumentException("--batch must be at least 1.");
            }

            return new Options(store, events, Int("from"), Int("to"), stride, offsets, batch, Int("wait-ms") ?? 5000, order, Int("shuffle"), values.GetValueOrDefault("digest"));
        }
    }
}
