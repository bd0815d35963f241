using Loyalty.Sdk.Storage.Documents;
using NodaTime;
using static Loyalty.Sdk.PostgreSql.Backend.Tests.Kit;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

[Collection(PostgresCollection.Name)]
public sealed class EntryAndCounterTests(PostgresServer server)
{
    private static Instant H(int hours) => T0 + Duration.FromHours(hours);

    private static async Task AppendAsync(IDocumentBackend db, params (string Stream, string? Customer, Instant At, string Body)[] entries)
    {
        var changes = new DocumentChangeSet();
        changes.Appends.AddRange(entries.Select(e => new EntryAppend(e.Stream, e.Customer, e.At, e.Body)));
        await db.CommitAsync(Tenant, changes);
    }

    private static async Task<string[]> Bodies(IDocumentBackend db, EntryQuery query) =>
        [.. (await db.ReadEntriesAsync(Tenant, query)).Select(e => e.Body)];

    [Fact]
    public async Task Entries_read_in_append_order_by_stream_customer_time_range_and_page()
    {
        await using var db = await server.NewBackendAsync();
        await AppendAsync(db, ("decision", "ann", H(5), "\"1\""), ("decision", "bob", H(1), "\"2\""), ("history", null, H(0), "\"h\""), ("decision", "ann", H(2), "\"3\""));
        await AppendAsync(db, ("decision", "ann", H(3), "\"4\""), ("decision", null, H(4), "\"5\""));

        Assert.Equal(["\"1\"", "\"2\"", "\"3\"", "\"4\"", "\"5\""], await Bodies(db, new EntryQuery { Stream = "decision" }));
        Assert.Equal(["\"1\"", "\"3\"", "\"4\""], await Bodies(db, new EntryQuery { Stream = "decision", Customer = "ann" }));
        Assert.Equal(["\"3\"", "\"4\""], await Bodies(db, new EntryQuery { Stream = "decision", From = H(2), To = H(4) })); // from inclusive, to exclusive
        Assert.Equal(["\"1\"", "\"5\""], await Bodies(db, new EntryQuery { Stream = "decision", From = H(4) }));
        Assert.Equal(["\"2\"", "\"3\""], await Bodies(db, new EntryQuery { Stream = "decision", To = H(3) }));
        Assert.Equal(["\"4\""], await Bodies(db, new EntryQuery { Stream = "decision", Customer = "ann", From = H(2), To = H(5), Skip = 1 }));
        Assert.Equal(["\"3\"", "\"4\""], await Bodies(db, new EntryQuery { Stream = "decision", Skip = 2, Take = 2 }));
        Assert.Empty(await Bodies(db, new EntryQuery { Stream = "decision", Take = 0 }));
        Assert.Equal(["\"h\""], await Bodies(db, new EntryQuery { Stream = "history" }));

        var entries = await db.ReadEntriesAsync(Tenant, new EntryQuery { Stream = "decision" });
        Assert.Equal(entries.Select(e => e.Sequence).Order(), entries.Select(e => e.Sequence));
        Assert.Equal(entries.Count, entries.Select(e => e.Sequence).Distinct().Count());
        Assert.Equal(("decision", "ann", H(5)), (entries[0].Stream, entries[0].Customer, entries[0].At));
        Assert.Null(entries[4].Customer);
    }

    [Fact]
    public async Task Entry_changes_rewrite_or_delete_one_entry_or_all_of_a_customer_before_the_appends()
    {
        await using var db = await server.NewBackendAsync();
        await AppendAsync(db, ("decision", "ann", H(1), "\"a1\""), ("decision", "bob", H(2), "\"b1\""), ("decision", "ann", H(3), "\"a2\""), ("other", "ann", H(3), "\"o\""));
        var seq = (await db.ReadEntriesAsync(Tenant, new EntryQuery { Stream = "decision" })).Select(e => e.Sequence).ToArray();

        var anonymize = new DocumentChangeSet();
        anonymize.EntryChanges.Add(new EntryChange("decision", seq[1], "pseudo", "\"b1-anon\""));
        anonymize.EntryChanges.Add(new EntryChange("decision", seq[2], null, null));
        await db.CommitAsync(Tenant, anonymize);
        var after = await db.ReadEntriesAsync(Tenant, new EntryQuery { Stream = "decision" });
        Assert.Equal([("ann", "\"a1\""), ("pseudo", "\"b1-anon\"")], after.Select(e => (e.Customer, e.Body)));
        Assert.Equal(seq[1], after[1].Sequence);
        Assert.Empty(await db.ReadEntriesAsync(Tenant, new EntryQuery { Stream = "decision", Customer = "bob" }));

        // Erasure of a customer's stream, and an append for the same customer in the same commit (applied after).
        var erase = new DocumentChangeSet();
        erase.EntryChanges.Add(new EntryChange("decision", null, "ann", null));
        erase.Appends.Add(new EntryAppend("decision", "ann", H(9), "\"after\""));
        await db.CommitAsync(Tenant, erase);
        Assert.Equal(["\"after\""], await Bodies(db, new EntryQuery { Stream = "decision", Customer = "ann" }));
        Assert.Equal(["\"o\""], await Bodies(db, new EntryQuery { Stream = "other" }));
    }

    [Fact]
    public async Task Counters_add_up_across_commits_and_within_one()
    {
        await using var db = await server.NewBackendAsync();
        Assert.Empty(await db.ReadCountersAsync(Tenant, "sizes"));

        var first = new DocumentChangeSet();
        first.Counters.Add(new CounterDelta("sizes", "vip", 3));
        first.Counters.Add(new CounterDelta("sizes", "new", 1));
        first.Counters.Add(new CounterDelta("flow", "vip", 1));
        first.Counters.Add(new CounterDelta("sizes", "vip", 2)); // the same counter twice in one change set
        await db.CommitAsync(Tenant, first);

        var second = new DocumentChangeSet();
        second.Counters.Add(new CounterDelta("sizes", "vip", -4));
        second.Counters.Add(new CounterDelta("sizes", "lapsed", 10));
        await db.CommitAsync(Tenant, second);

        var sizes = await db.ReadCountersAsync(Tenant, "sizes");
        Assert.Equal(new Dictionary<string, long> { ["vip"] = 1, ["new"] = 1, ["lapsed"] = 10 }, sizes);
        Assert.Equal(new Dictionary<string, long> { ["vip"] = 1 }, await db.ReadCountersAsync(Tenant, "flow"));
    }

    [Fact]
    public async Task Concurrent_counter_increments_all_count()
    {
        await using var db = await server.NewBackendAsync();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                var changes = new DocumentChangeSet();
                changes.Counters.Add(new CounterDelta("g", "shared", 1));
                changes.Counters.Add(new CounterDelta("g", $"own-{w}", 1));
                await db.CommitAsync(Tenant, changes);
            }
        })));
        var counters = await db.ReadCountersAsync(Tenant, "g");
        Assert.Equal(100, counters["shared"]);
        Assert.All(Enumerable.Range(0, 4), w => Assert.Equal(25, counters[$"own-{w}"]));
    }
}
