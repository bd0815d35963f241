using System.Diagnostics;
using System.Globalization;
using Loyalty.Sdk.Events;

namespace Loyalty.Sdk.Benchmarks;

/// <summary>
/// <c>memory [--customers N] [--orders K] [--batch B] [--core] [--no-breakdown]</c>: ingests a sign-up and K orders
/// (default 1) for N customers into the in-memory store and reports the managed heap it retains per customer
/// (<see cref="GC.GetTotalMemory(bool)"/> after a full collection, before and after, divided by N). <c>--core</c>
/// registers identity and profile only. The breakdown then empties the store's tables one by one and reports what each
/// held.
/// </summary>
public static class MemoryPerCustomer
{
    private const string Usage = "usage: memory [--customers N] [--orders K] [--batch B] [--core] [--no-breakdown]   (defaults: 1000000, 1, 1000)";

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var customers = 1_000_000;
        var orders = 1;
        var batchSize = 1_000;
        var breakdown = true;
        var coreOnly = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--customers" or "-n" when i + 1 < args.Length && TryParseCount(args[i + 1], out customers):
                case "--orders" when i + 1 < args.Length && TryParseCount(args[i + 1], out orders):
                case "--batch" when i + 1 < args.Length && TryParseCount(args[i + 1], out batchSize):
                    i++;
                    break;
                case "--no-breakdown":
                    breakdown = false;
                    break;
                case "--core":
                    coreOnly = true;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"Unexpected argument '{args[i]}'.\n{Usage}").ConfigureAwait(false);
                    return 2;
            }
        }

        if (customers > OrderWorkload.MaxCustomers)
        {
            await Console.Error.WriteLineAsync($"At most {OrderWorkload.MaxCustomers:N0} customers.").ConfigureAwait(false);
            return 2;
        }

        using var host = new LoyaltyHost(coreOnly);
        var workload = new OrderWorkload();

        // Warm-up (JIT, phone metadata, the program): customer 0 is in the store on both sides of the measurement.
        await host.SeedCustomersAsync(workload, 0, 1).ConfigureAwait(false);

        var before = Heap();
        var started = Stopwatch.GetTimestamp();
        var batch = new List<LoyaltyEvent>(batchSize);
        for (var c = 1; c <= customers; c++)
        {
            batch.Add(workload.SignUp(c));
            for (var k = 0; k < orders; k++)
            {
                batch.Add(workload.WebOrder(c));
            }
            if (batch.Count >= batchSize || c == customers)
            {
                await host.Engine.IngestBatchAsync(batch).ConfigureAwait(false);
                batch.Clear();
            }

            if (c % 250_000 == 0)
            {
                Console.WriteLine(FormattableString.Invariant($"  {c:N0} customers, {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s"));
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        batch = null;
        var after = Heap();
        var perCustomer = (double)(after - before) / customers;

        var data = host.Store.Data(OrderWorkload.Tenant);
        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"Customers:             {customers:N0} (a sign-up and {orders} order(s) each, batches of {batchSize:N0} events)"));
        Console.WriteLine(FormattableString.Invariant($"Stages:                {string.Join(" → ", host.Stages)}"));
        Console.WriteLine(FormattableString.Invariant($"Ingest:                {elapsed.TotalSeconds:F1} s, {(1.0 + orders) * customers / elapsed.TotalSeconds:N0} events/s"));
        Console.WriteLine(FormattableString.Invariant($"Heap before / after:   {before / 1048576.0:N1} MiB / {after / 1048576.0:N1} MiB"));
        Console.WriteLine(FormattableString.Invariant($"Retained per customer: {perCustomer:N0} bytes ({perCustomer / 1024:N2} KiB; target ≤ 4 KiB)"));
        Console.WriteLine(FormattableString.Invariant($"Rows per customer:     events {Per(data.Events.Count)}, identifiers {Per(data.IdentifierIndex.Count)}, identities {Per(data.Identities.Count)}, profiles {Per(data.Profiles.Count)}, orders {Per(data.Orders.Count)}, decisions {Per(data.Decisions.Values.Sum(l => l.Count))}"));

        if (breakdown)
        {
            Console.WriteLine();
            Console.WriteLine("Breakdown (heap released when each table is emptied, per customer):");
            var last = after;
            void Release(string what, Action clear)
            {
                clear();
                var now = Heap();
                var released = Math.Round((double)(last - now) / customers) + 0.0; // + 0.0: no "-0"
                Console.WriteLine(FormattableString.Invariant($"  {what,-36} {released,8:N0} bytes"));
                last = now;
            }

            Release("decision trail", () => Empty(data.Decisions));
            Release("processed event ids (idempotency)", () => Empty(data.Events));
            Release("orders (for returns by line)", () => Empty(data.Orders));
            Release("profiles and traits", () => Empty(data.Profiles));
            Release("identifier index", () => Empty(data.IdentifierIndex));
            Release("identities (links, provenance)", () => Empty(data.Identities));
            foreach (var (type, tables) in data.Extensions.OrderBy(kv => kv.Key.Name, StringComparer.Ordinal).ToArray())
            {
                Release(type.Name.Replace("Data", " tables", StringComparison.Ordinal), () => EmptyAll(tables));
            }

            Console.WriteLine(FormattableString.Invariant($"  {"rest (unaccounted)",-36} {(double)(last - before) / customers,8:N0} bytes"));
        }

        GC.KeepAlive(host);
        return 0;

        string Per(int rows) => ((double)rows / (customers + 1)).ToString("0.##", CultureInfo.InvariantCulture);
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static void Empty<TKey, TValue>(Dictionary<TKey, TValue> table)
        where TKey : notnull
    {
        table.Clear();
        table.TrimExcess();
    }

    // A capability's in-memory data is an object whose properties are collections: empty each of them.
    private static void Empty<TValue>(Loyalty.Sdk.Identity.IdentifierIndex<TValue> index)
    {
        index.Clear();
        index.TrimExcess();
    }

    private static void EmptyAll(object tables)
    {
        foreach (var property in tables.GetType().GetProperties())
        {
            var collection = property.GetValue(tables);
            collection?.GetType().GetMethod("Clear", Type.EmptyTypes)?.Invoke(collection, null);
            collection?.GetType().GetMethod("TrimExcess", Type.EmptyTypes)?.Invoke(collection, null);
        }
    }

    private static bool TryParseCount(string text, out int value) =>
        int.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out value) && value > 0;
}
