using System.Diagnostics;
using System.Globalization;
using Loyalty.Sdk.Storage.Documents;
using Xunit.Abstractions;
using static Loyalty.Sdk.PostgreSql.Backend.Tests.Kit;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

/// <summary>Rough figures (not a benchmark): sequential single-document commits and reads over loopback. Set
/// <c>LOYALTY_PG_THROUGHPUT</c> to the number of operations (default 1,000) to measure more.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ThroughputTests(PostgresServer server, ITestOutputHelper output)
{
    [Fact]
    public async Task Single_document_commits_and_reads()
    {
        var n = int.TryParse(Environment.GetEnvironmentVariable("LOYALTY_PG_THROUGHPUT"), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 1_000;
        await using var db = await server.NewBackendAsync();
        var body = new string('x', 400);
        for (var i = 0; i < 50; i++)
        {
            await db.CommitAsync(Insert("warm", $"k{i}", $"\"{body}\"", "cus"));
            await db.GetAsync(Tenant, "warm", $"k{i}");
        }

        async Task<double> Time(string what, Func<int, Task> operation)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < n; i++)
            {
                await operation(i);
            }

            clock.Stop();
            var perOp = clock.Elapsed.TotalMilliseconds / n;
            output.WriteLine($"{what}: {n:N0} in {clock.Elapsed.TotalSeconds:F2} s ({perOp * 1000:F0} µs each, {n / clock.Elapsed.TotalSeconds:N0}/s)");
            return perOp;
        }

        await Time("insert commits", i => db.CommitAsync(Insert("doc", $"k{i}", $"\"{body}\"", $"cus{i % 100}")));
        // The statements were prepared while the table held a few rows, and their cached generic plans scan it
        // sequentially (cheapest on two pages): about 2 ms a statement at 10,000 rows. Autovacuum's ANALYZE, which
        // invalidates those plans, comes after 50 changed rows but only on its next round (a minute by default); this
        // measures the steady state.
        await using (var analyze = db.DataSource.CreateCommand($"ANALYZE {db.Statements.Documents}"))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        await Time("versioned update commits", i => db.CommitAsync(Update("doc", $"k{i}", 1, $"\"{body}\"", $"cus{i % 100}")));
        await Time("gets", i => db.GetAsync(Tenant, "doc", $"k{i}").AsTask());
        await Time("ingest-like commits (2 updates, 3 appends, 1 counter)", async i =>
        {
            var changes = Changes(Update("doc", $"k{i}", 2, $"\"{body}\""), Upsert("idx", $"i{i}", "\"cus\"", "cus"));
            for (var e = 0; e < 3; e++)
            {
                changes.Appends.Add(new EntryAppend("decision", $"cus{i % 100}", T0, $"\"{body}\""));
            }

            changes.Counters.Add(new CounterDelta("g", "k", 1));
            await db.CommitAsync(Tenant, changes);
        });
        Assert.Equal(n, await db.CountAsync(Tenant, "doc"));
    }
}
