using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using Loyalty.Sdk.Validation;
using NodaTime;
using static Loyalty.Sdk.PostgreSql.Backend.Tests.Kit;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

[Collection(PostgresCollection.Name)]
public sealed class DocumentTests(PostgresServer server)
{
    [Fact]
    public async Task A_document_is_inserted_updated_and_deleted_with_its_version_customer_and_due_time()
    {
        await using var db = await server.NewBackendAsync();
        Assert.Null(await db.GetAsync(Tenant, "profile", "cus_1"));

        await db.CommitAsync(Insert("profile", "cus_1", """{"n":1}""", "cus_1", T0));
        var inserted = await db.GetAsync(Tenant, "profile", "cus_1");
        Assert.NotNull(inserted);
        Assert.Equal(("profile", "cus_1", "cus_1", 1L, (Instant?)T0, """{"n":1}"""), (inserted.Collection, inserted.Key, inserted.Customer, inserted.Version, inserted.DueAt, inserted.Body));
        Assert.True(inserted.Sequence > 0);

        await db.CommitAsync(Update("profile", "cus_1", 1, """{"n":2}""", "cus_2"));
        var updated = await db.GetAsync(Tenant, "profile", "cus_1");
        Assert.Equal((2L, "cus_2", (Instant?)null, """{"n":2}""", inserted.Sequence), (updated!.Version, updated.Customer, updated.DueAt, updated.Body, updated.Sequence));

        await db.CommitAsync(Delete("profile", "cus_1", 2));
        Assert.Null(await db.GetAsync(Tenant, "profile", "cus_1"));
        Assert.Equal(0, await db.CountAsync(Tenant, "profile"));
    }

    [Fact]
    public async Task Instants_keep_their_ticks_at_the_edges_of_the_range()
    {
        await using var db = await server.NewBackendAsync();
        var instants = new[] { Instant.FromUnixTimeTicks(1), Instant.FromUtc(1, 1, 1, 0, 0), Instant.FromUtc(9999, 12, 31, 23, 59, 59) + Duration.FromTicks(9_999_999), T0 + Duration.FromTicks(7) };
        for (var i = 0; i < instants.Length; i++)
        {
            await db.CommitAsync(Insert("c", $"k{i}", due: instants[i]));
        }

        for (var i = 0; i < instants.Length; i++)
        {
            Assert.Equal(instants[i], (await db.GetAsync(Tenant, "c", $"k{i}"))!.DueAt);
        }
    }

    [Fact]
    public async Task Several_documents_are_read_by_key_in_one_call()
    {
        await using var db = await server.NewBackendAsync();
        await db.CommitAsync(Insert("profile", "cus_1", """{"n":1}""", "cus_1", T0), Insert("ledger", "cus_1", """{"n":2}"""), Insert("profile", "cus_2", """{"n":3}"""));
        await db.CommitAsync(Other, Changes(Insert("profile", "cus_3", """{"n":4}""")));

        var found = await db.GetManyAsync(Tenant, [new("profile", "cus_1"), new("ledger", "cus_1"), new("ledger", "cus_2"), new("profile", "cus_3"), new("profile", "cus_2"), new("profile", "cus_1")]);

        // Every existing one (a key asked twice may come twice), none of another tenant, each whole.
        Assert.Equal(
            ["ledger/cus_1 {\"n\":2}", "profile/cus_1 {\"n\":1}", "profile/cus_2 {\"n\":3}"],
            found.Select(d => $"{d.Collection}/{d.Key} {d.Body}").Distinct().Order(StringComparer.Ordinal));
        var profile = found.First(d => d.Collection == "profile" && d.Key == "cus_1");
        Assert.Equal(("cus_1", 1L, (Instant?)T0), (profile.Customer, profile.Version, profile.DueAt));
        Assert.Empty(await db.GetManyAsync(Tenant, []));

        // Many keys (one join with the arrays of keys rather than one statement per key): the same answer.
        var many = Enumerable.Range(0, 40).Select(i => new DocumentKey(i % 2 == 0 ? "profile" : "ledger", $"cus_{i % 4}")).ToList();
        Assert.True(many.Count > PostgreSqlDocumentBackend.SmallReadAhead);
        Assert.Equal(
            ["ledger/cus_1", "profile/cus_2"],
            (await db.GetManyAsync(Tenant, many)).Select(d => $"{d.Collection}/{d.Key}").Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_due_claim_skips_rows_another_transaction_has_locked_instead_of_waiting()
    {
        var schema = PostgresServer.NewSchema();
        await using var db = await server.NewBackendAsync(schema);
        await db.CommitAsync(Insert("ledger", "a", due: T0), Insert("ledger", "b", due: T0 + Duration.FromMinutes(1)), Insert("ledger", "c", due: T0 + Duration.FromMinutes(2)));

        // Another worker's claim transaction holds row "a" locked (as its claim statement does while it runs).
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand($"SELECT key FROM {schema}.loyalty_documents WHERE tenant = 'acme' AND collection = 'ledger' AND key = 'a' FOR UPDATE", connection, transaction))
        {
            Assert.Equal("a", await hold.ExecuteScalarAsync());
        }

        var claim = db.ClaimDueAsync(Tenant, "ledger", T0 + Duration.FromMinutes(5), 10, "worker-b", T0 + Duration.FromMinutes(10)).AsTask();
        Assert.Same(claim, await Task.WhenAny(claim, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.Equal(["b", "c"], (await claim).Select(d => d.Key));
        await transaction.RollbackAsync();

        // Released, unleased: the next claim gets it; the leased ones stay with worker b.
        Assert.Equal(["a"], (await db.ClaimDueAsync(Tenant, "ledger", T0 + Duration.FromMinutes(5), 10, "worker-c", T0 + Duration.FromMinutes(10))).Select(d => d.Key));
    }

    [Fact]
    public async Task A_write_ends_a_due_lease_and_a_lease_lapses_at_its_end()
    {
        await using var db = await server.NewBackendAsync();
        await db.CommitAsync(Insert("ledger", "a", due: T0), Insert("ledger", "b", due: T0));
        var until = T0 + Duration.FromMinutes(5);
        Assert.Equal(2, (await db.ClaimDueAsync(Tenant, "ledger", T0, 10, "worker-a", until)).Count);
        Assert.Empty(await db.ClaimDueAsync(Tenant, "ledger", T0, 10, "worker-b", until));

        await db.CommitAsync(Update("ledger", "a", 1, due: T0));
        Assert.Equal(["a"], (await db.ClaimDueAsync(Tenant, "ledger", T0, 10, "worker-b", until + Duration.FromMinutes(5))).Select(d => d.Key));
        Assert.Equal(["b"], (await db.ClaimDueAsync(Tenant, "ledger", until, 10, "worker-c", until + Duration.FromMinutes(5))).Select(d => d.Key));
        Assert.Empty(await db.ClaimDueAsync(Other, "ledger", until, 10, "worker-c", until));
    }

    public static TheoryData<string> Conflicts => ["insert_existing", "update_stale", "update_missing", "delete_stale", "delete_missing", "delete_expected_absent"];

    [Theory]
    [MemberData(nameof(Conflicts))]
    public async Task A_version_mismatch_throws_and_applies_nothing_of_the_commit(string conflict)
    {
        await using var db = await server.NewBackendAsync();
        await db.CommitAsync(Insert("doc", "a", """{"v":1}"""));
        await db.CommitAsync(Update("doc", "a", 1, """{"v":2}"""));
        var bad = conflict switch
        {
            "insert_existing" => Insert("doc", "a"),
            "update_stale" => Update("doc", "a", 1, """{"v":"stale"}"""),
            "update_missing" => Update("doc", "missing", 1),
            "delete_stale" => Delete("doc", "a", 1),
            "delete_missing" => Delete("doc", "missing", 3),
            _ => Delete("doc", "a", 0),
        };

        // Everything else in the same change set, before and after the bad write, must be rolled back with it.
        var changes = Changes(Insert("doc", "new-1"), Upsert("doc", "blind"), bad, Insert("doc", "new-2"));
        changes.Appends.Add(new EntryAppend("decision", "cus_1", T0, "{}"));
        changes.Counters.Add(new CounterDelta("g", "k", 5));
        changes.Outbox.Add(Message("m1"));
        var error = await Assert.ThrowsAsync<ConcurrencyConflictException>(async () => await db.CommitAsync(Tenant, changes));
        Assert.Contains("doc", error.Message, StringComparison.Ordinal);

        Assert.Null(await db.GetAsync(Tenant, "doc", "new-1"));
        Assert.Null(await db.GetAsync(Tenant, "doc", "new-2"));
        Assert.Null(await db.GetAsync(Tenant, "doc", "blind"));
        Assert.Equal(1, await db.CountAsync(Tenant, "doc"));
        var a = await db.GetAsync(Tenant, "doc", "a");
        Assert.Equal((2L, """{"v":2}"""), (a!.Version, a.Body));
        Assert.Empty(await db.ReadEntriesAsync(Tenant, new EntryQuery { Stream = "decision" }));
        Assert.Empty(await db.ReadCountersAsync(Tenant, "g"));
        Assert.False(await db.OutboxContainsAsync(Tenant, "m1"));
    }

    [Fact]
    public async Task New_documents_go_in_one_statement_numbered_in_order_and_one_existing_key_rolls_all_back()
    {
        await using var db = await server.NewBackendAsync();
        await db.CommitAsync(Insert("doc", "taken", """{"v":1}"""));

        // A run of inserts with an upsert in the middle: the sequence follows the order of the writes.
        await db.CommitAsync(Insert("doc", "k3", due: T0), Insert("other", "k1", customer: "cus_1"), Upsert("doc", "u"), Insert("doc", "k2"), Insert("doc", "k1"));
        var order = (await db.QueryAsync(Tenant, new DocumentQuery { Collection = "doc" })).Select(d => d.Key);
        Assert.Equal(["taken", "k3", "u", "k2", "k1"], order);
        var other = await db.GetAsync(Tenant, "other", "k1");
        Assert.Equal(("cus_1", 1L), (other!.Customer, other.Version));
        Assert.Equal(T0, (await db.GetAsync(Tenant, "doc", "k3"))!.DueAt);

        // One key of a run exists: the whole commit is refused, naming it.
        var changes = Changes(Insert("doc", "n1"), Insert("doc", "taken"), Insert("doc", "n2"));
        changes.Counters.Add(new CounterDelta("g", "k", 5));
        var error = await Assert.ThrowsAsync<ConcurrencyConflictException>(async () => await db.CommitAsync(Tenant, changes));
        Assert.Contains("doc/taken", error.Message, StringComparison.Ordinal);
        Assert.Null(await db.GetAsync(Tenant, "doc", "n1"));
        Assert.Null(await db.GetAsync(Tenant, "doc", "n2"));
        Assert.Empty(await db.ReadCountersAsync(Tenant, "g"));
    }

    [Fact]
    public async Task Deleting_a_document_expected_absent_is_a_no_op_when_it_is_absent()
    {
        await using var db = await server.NewBackendAsync();
        await db.CommitAsync(Delete("doc", "never", 0), Insert("doc", "other"));
        Assert.Null(await db.GetAsync(Tenant, "doc", "never"));
        Assert.NotNull(await db.GetAsync(Tenant, "doc", "other"));
    }

    [Fact]
    public async Task Unconditional_writes_store_the_existing_version_plus_one_and_keep_the_sequence()
    {
        await using var db = await server.NewBackendAsync();
        await db.CommitAsync(Upsert("block", "x", "\"one\"", "cus_1"));
        var first = await db.GetAsync(Tenant, "block", "x");
        Assert.Equal((1L, "\"one\"", "cus_1"), (first!.Version, first.Body, first.Customer));

        await db.CommitAsync(Upsert("block", "x", "\"two\"", null, T0));
        var second = await db.GetAsync(Tenant, "block", "x");
        Assert.Equal((2L, "\"two\"", (string?)null, (Instant?)T0, first.Sequence), (second!.Version, second.Body, second.Customer, second.DueAt, second.Sequence));

        await db.CommitAsync(Update("block", "x", 2, "\"three\""));
        Assert.Equal(3, (await db.GetAsync(Tenant, "block", "x"))!.Version);

        await db.CommitAsync(Remove("block", "x"));
        Assert.Null(await db.GetAsync(Tenant, "block", "x"));
        await db.CommitAsync(Remove("block", "x")); // deleting what is not there is fine
    }

    [Fact]
    public async Task Concurrent_read_modify_write_loops_lose_no_update()
    {
        await using var db = await server.NewBackendAsync();
        await db.CommitAsync(Insert("counter", "c", "0"));
        const int Writers = 4, Increments = 20;
        var conflicts = 0;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < Increments; i++)
            {
                while (true)
                {
                    var doc = (await db.GetAsync(Tenant, "counter", "c"))!;
                    try
                    {
                        await db.CommitAsync(Update("counter", "c", doc.Version, (long.Parse(doc.Body, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                        break;
                    }
                    catch (ConcurrencyConflictException)
                    {
                        Interlocked.Increment(ref conflicts);
                    }
                }
            }
        })));

        var final = (await db.GetAsync(Tenant, "counter", "c"))!;
        Assert.Equal(((long)Writers * Increments, 1L + Writers * Increments), (long.Parse(final.Body, System.Globalization.CultureInfo.InvariantCulture), final.Version));
    }

    [Fact]
    public async Task Concurrent_inserts_of_the_same_key_let_exactly_one_win()
    {
        await using var db = await server.NewBackendAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            try
            {
                await db.CommitAsync(Insert("event", "evt-1", $"{i}"));
                return true;
            }
            catch (ConcurrencyConflictException)
            {
                return false;
            }
        })));
        Assert.Single(results, r => r);
        Assert.Equal(1, await db.CountAsync(Tenant, "event"));
    }

    [Fact]
    public async Task Queries_order_by_insertion_key_or_due_time_and_page()
    {
        await using var db = await server.NewBackendAsync();
        // Inserted in this order over several commits (and several within one commit).
        await db.CommitAsync(Insert("c", "m", customer: "ann", due: T0 + Duration.FromHours(3)));
        await db.CommitAsync(Insert("c", "B", customer: "bob"), Insert("c", "a/2", customer: "ann", due: T0));
        await db.CommitAsync(Insert("c", "é", customer: "ann", due: T0 + Duration.FromHours(1)), Insert("c", "a/1", due: T0), Insert("c", "a", customer: "bob", due: T0 + Duration.FromHours(2)));
        await db.CommitAsync(Insert("c", "a/10"), Insert("other", "a/3", customer: "ann", due: T0));

        async Task<string[]> Keys(DocumentQuery q) => [.. (await db.QueryAsync(Tenant, q)).Select(d => d.Key)];

        Assert.Equal(["m", "B", "a/2", "é", "a/1", "a", "a/10"], await Keys(new DocumentQuery { Collection = "c" }));
        Assert.Equal(["B", "a", "a/1", "a/10", "a/2", "m", "é"], await Keys(new DocumentQuery { Collection = "c", Order = DocumentOrder.Key }));
        Assert.Equal(["a/2", "a/1", "a/10"], await Keys(new DocumentQuery { Collection = "c", KeyPrefix = "a/" }));
        Assert.Equal(["a/1", "a/10"], await Keys(new DocumentQuery { Collection = "c", KeyPrefix = "a/1", Order = DocumentOrder.Key }));
        Assert.Equal(["m", "a/2", "é"], await Keys(new DocumentQuery { Collection = "c", Customer = "ann" }));
        Assert.Equal(["a/2"], await Keys(new DocumentQuery { Collection = "c", Customer = "ann", KeyPrefix = "a" }));

        // Due: due time, then key; only due at or before the bound (inclusive); documents without a due time never.
        Assert.Equal(["a/1", "a/2", "é", "a"], await Keys(new DocumentQuery { Collection = "c", Order = DocumentOrder.Due, DueAtOrBefore = T0 + Duration.FromHours(2) }));
        Assert.Equal(["a/1", "a/2"], await Keys(new DocumentQuery { Collection = "c", Order = DocumentOrder.Due, DueAtOrBefore = T0 }));
        Assert.Empty(await Keys(new DocumentQuery { Collection = "c", Order = DocumentOrder.Due, DueAtOrBefore = T0 - Duration.FromTicks(1) }));
        Assert.Equal(["a/2", "é"], await Keys(new DocumentQuery { Collection = "c", Order = DocumentOrder.Due, DueAtOrBefore = T0 + Duration.FromHours(9), Customer = "ann", Take = 2 }));

        // Paging.
        Assert.Equal(["a/2", "é"], await Keys(new DocumentQuery { Collection = "c", Skip = 2, Take = 2 }));
        Assert.Equal(["a/10"], await Keys(new DocumentQuery { Collection = "c", Skip = 6, Take = int.MaxValue }));
        Assert.Empty(await Keys(new DocumentQuery { Collection = "c", Skip = 7 }));
        Assert.Empty(await Keys(new DocumentQuery { Collection = "c", Take = 0 }));
        Assert.Equal(["a/1", "a/10"], await Keys(new DocumentQuery { Collection = "c", Order = DocumentOrder.Key, Skip = 2, Take = 2 }));

        Assert.Equal(7, await db.CountAsync(Tenant, "c"));
        Assert.Equal(1, await db.CountAsync(Tenant, "other"));
        Assert.Equal(0, await db.CountAsync(Tenant, "none"));

        // A query returns everything a stored document has.
        var a = Assert.Single(await db.QueryAsync(Tenant, new DocumentQuery { Collection = "c", KeyPrefix = "a", Customer = "bob" }));
        var got = await db.GetAsync(Tenant, "c", "a");
        Assert.Equal(got, a);
    }

    [Fact]
    public async Task Key_order_and_prefixes_are_ordinal_like_the_in_memory_store()
    {
        await using var db = await server.NewBackendAsync();
        string[] keys = ["a", "A", "b", "a\u001fb", "a\u001f", "ab", "a\uffff", "a\uffffz", "\uffff", "Z", "z", "_", "0", "é", "e", "ä", "a b", "a\u0001"];
        await db.CommitAsync([.. keys.Select(k => Insert("k", k))]);

        var sorted = keys.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(sorted, (await db.QueryAsync(Tenant, new DocumentQuery { Collection = "k", Order = DocumentOrder.Key })).Select(d => d.Key));
        foreach (var prefix in new[] { "a", "a\u001f", "a\uffff", "\uffff", "é", "A", "ab", "q" })
        {
            var expected = sorted.Where(k => k.StartsWith(prefix, StringComparison.Ordinal));
            Assert.Equal(expected, (await db.QueryAsync(Tenant, new DocumentQuery { Collection = "k", KeyPrefix = prefix, Order = DocumentOrder.Key })).Select(d => d.Key));
        }
    }

    [Fact]
    public void Prefix_upper_bounds_are_the_next_string_in_code_point_order()
    {
        Assert.Equal("ac", KeyRange.UpperBound("ab"));
        Assert.Equal("a\u0020", KeyRange.UpperBound("a\u001f"));
        Assert.Equal("b", KeyRange.UpperBound("a\U0010FFFF"));
        Assert.Equal("\ue000", KeyRange.UpperBound("\ud7ff"));
        Assert.Equal("\U00010000", KeyRange.UpperBound("\uffff"));
        Assert.Null(KeyRange.UpperBound("\U0010FFFF\U0010FFFF"));
    }

    [Fact]
    public async Task Tenants_never_see_each_others_data()
    {
        await using var db = await server.NewBackendAsync();
        await db.CommitAsync(Tenant, Changes(Insert("c", "k", "\"acme\"", "cus_1")));
        var other = Changes(Insert("c", "k", "\"globex\"", "cus_1"));
        other.Appends.Add(new EntryAppend("s", "cus_1", T0, "\"globex\""));
        other.Counters.Add(new CounterDelta("g", "k", 7));
        other.Outbox.Add(Message("m", tenant: Other));
        await db.CommitAsync(Other, other);

        Assert.Equal("\"acme\"", (await db.GetAsync(Tenant, "c", "k"))!.Body);
        Assert.Equal("\"globex\"", (await db.GetAsync(Other, "c", "k"))!.Body);
        Assert.Equal(1, await db.CountAsync(Tenant, "c"));
        Assert.Single(await db.QueryAsync(Tenant, new DocumentQuery { Collection = "c", Customer = "cus_1" }));
        Assert.Empty(await db.ReadEntriesAsync(Tenant, new EntryQuery { Stream = "s" }));
        Assert.Single(await db.ReadEntriesAsync(Other, new EntryQuery { Stream = "s" }));
        Assert.Empty(await db.ReadCountersAsync(Tenant, "g"));
        Assert.Equal(7, (await db.ReadCountersAsync(Other, "g"))["k"]);
        Assert.False(await db.OutboxContainsAsync(Tenant, "m"));
        Assert.True(await db.OutboxContainsAsync(Other, "m"));
        Assert.Equal(0, await db.Outbox.CountPendingAsync(Tenant));
        Assert.Equal(1, await db.Outbox.CountPendingAsync(Other));

        // Deleting in one tenant leaves the other's.
        await db.CommitAsync(Tenant, Changes(Delete("c", "k", 1)));
        Assert.NotNull(await db.GetAsync(Other, "c", "k"));
    }

    [Fact]
    public async Task Bodies_are_stored_exactly_as_written()
    {
        await using var db = await server.NewBackendAsync();
        const string Body = """{"z":1,"a":"\u0000 é 😀 \"q\"","$type":"x","n":1.50}""";
        await db.CommitAsync(Insert("c", "k", Body));
        Assert.Equal(Body, (await db.GetAsync(Tenant, "c", "k"))!.Body);
    }
}
