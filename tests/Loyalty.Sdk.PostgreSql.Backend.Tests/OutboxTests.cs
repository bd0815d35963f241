using System.Collections.Concurrent;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using NodaTime;
using static Loyalty.Sdk.PostgreSql.Backend.Tests.Kit;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

[Collection(PostgresCollection.Name)]
public sealed class OutboxTests(PostgresServer server)
{
    private static readonly Duration Lease = Duration.FromMinutes(1);

    private static async Task EnqueueAsync(IDocumentBackend db, params OutboxMessage[] messages)
    {
        foreach (var group in messages.GroupBy(m => m.Tenant))
        {
            var changes = new DocumentChangeSet();
            changes.Outbox.AddRange(group);
            await db.CommitAsync(group.Key, changes);
        }
    }

    [Fact]
    public async Task Enqueue_keeps_the_first_message_of_a_key()
    {
        await using var db = await server.NewBackendAsync();
        await EnqueueAsync(db, Message("k1", template: "first"), Message("k2"));
        await EnqueueAsync(db, Message("k1", template: "second"), Message("k3"));
        Assert.True(await db.OutboxContainsAsync(Tenant, "k1"));
        Assert.False(await db.OutboxContainsAsync(Tenant, "k4"));
        Assert.Equal(3, await db.Outbox.CountPendingAsync(Tenant));

        var claims = await db.Outbox.ClaimDueAsync(T0, 10, Lease, "d1");
        Assert.Equal(["k1", "k2", "k3"], claims.Select(c => c.Message.Key));
        var first = claims[0].Message;
        Assert.Equal(("first", Channel.Email, "Ada", new CustomerId("cus_1"), Tenant, "send_message"), (first.Template, first.Channel, first.Variables["givenName"], first.Customer, first.Tenant, first.ActionKind));
    }

    [Fact]
    public async Task Claims_take_due_messages_oldest_first_across_tenants_lease_them_and_count_the_attempt()
    {
        await using var db = await server.NewBackendAsync();
        await EnqueueAsync(
            db,
            Message("b", T0),
            Message("a", T0),
            Message("early", T0 - Duration.FromHours(1), Other),
            Message("later", T0 + Duration.FromSeconds(1)));

        var claims = await db.Outbox.ClaimDueAsync(T0, 2, Lease, "d1");
        Assert.Equal(["early", "a"], claims.Select(c => c.Message.Key));
        Assert.All(claims, c => Assert.Equal((T0 + Lease, "d1", 1), (c.LeaseUntil, c.Owner, c.Message.Attempts)));
        Assert.Equal(Other, claims[0].Message.Tenant);

        var rest = await db.Outbox.ClaimDueAsync(T0, 10, Lease, "d2");
        Assert.Equal(["b"], rest.Select(c => c.Message.Key)); // "later" is not due, the others are leased
        Assert.Equal(["later"], (await db.Outbox.ClaimDueAsync(T0 + Duration.FromSeconds(30), 10, Lease, "d3")).Select(c => c.Message.Key));
    }

    [Fact]
    public async Task An_expired_lease_makes_a_message_claimable_again_and_only_the_owner_completes_it()
    {
        await using var db = await server.NewBackendAsync();
        await EnqueueAsync(db, Message("m"));
        var claim = Assert.Single(await db.Outbox.ClaimDueAsync(T0, 10, Lease, "d1"));
        Assert.Equal(1, claim.Message.Attempts);
        Assert.Empty(await db.Outbox.ClaimDueAsync(T0 + Lease - Duration.FromTicks(1), 10, Lease, "d2"));

        // The lease ran out: d2 takes it over, and d1 may no longer complete it.
        var again = Assert.Single(await db.Outbox.ClaimDueAsync(T0 + Lease, 10, Lease, "d2"));
        Assert.Equal((2, "d2", T0 + Lease + Lease), (again.Message.Attempts, again.Owner, again.LeaseUntil));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await db.Outbox.CompleteAsync(Tenant, "m", "d1"));
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await db.Outbox.CompleteAsync(Tenant, "missing", "d2"));
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await db.Outbox.CompleteAsync(Other, "m", "d2"));

        await db.Outbox.CompleteAsync(Tenant, "m", "d2");
        Assert.Equal(0, await db.Outbox.CountPendingAsync(Tenant));
        Assert.True(await db.OutboxContainsAsync(Tenant, "m")); // delivered messages still block their key
        Assert.Empty(await db.Outbox.ClaimDueAsync(T0 + Duration.FromDays(1), 10, Lease, "d3"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await db.Outbox.CompleteAsync(Tenant, "m", "d2"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await db.Outbox.RetryAsync(Tenant, "m", "d2", T0));
    }

    [Fact]
    public async Task Retry_releases_the_message_until_the_retry_time()
    {
        await using var db = await server.NewBackendAsync();
        await EnqueueAsync(db, Message("m"));
        Assert.Single(await db.Outbox.ClaimDueAsync(T0, 10, Lease, "d1"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await db.Outbox.RetryAsync(Tenant, "m", "someone-else", T0));
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await db.Outbox.RetryAsync(Tenant, "missing", "d1", T0));

        var retryAt = T0 + Duration.FromMinutes(10);
        await db.Outbox.RetryAsync(Tenant, "m", "d1", retryAt);
        Assert.Equal(1, await db.Outbox.CountPendingAsync(Tenant));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await db.Outbox.CompleteAsync(Tenant, "m", "d1")); // released
        Assert.Empty(await db.Outbox.ClaimDueAsync(retryAt - Duration.FromTicks(1), 10, Lease, "d2"));

        var claim = Assert.Single(await db.Outbox.ClaimDueAsync(retryAt, 10, Lease, "d2"));
        Assert.Equal((retryAt, 2, "d2"), (claim.Message.DueAt, claim.Message.Attempts, claim.Owner));
        await db.Outbox.CompleteAsync(Tenant, "m", "d2");
        Assert.Equal(0, await db.Outbox.CountPendingAsync(Tenant));
    }

    [Fact]
    public async Task Cancellation_drops_the_customers_messages_before_the_commits_own_inserts()
    {
        await using var db = await server.NewBackendAsync();
        await EnqueueAsync(db, Message("ann-1", customer: "ann"), Message("ann-2", customer: "ann"), Message("bob-1", customer: "bob"), Message("ann-other", tenant: Other, customer: "ann"));
        var changes = new DocumentChangeSet();
        changes.OutboxCancellations.Add(new CustomerId("ann"));
        changes.Outbox.Add(Message("ann-3", customer: "ann"));
        await db.CommitAsync(Tenant, changes);

        Assert.False(await db.OutboxContainsAsync(Tenant, "ann-1"));
        Assert.False(await db.OutboxContainsAsync(Tenant, "ann-2"));
        Assert.True(await db.OutboxContainsAsync(Tenant, "ann-3"));
        Assert.True(await db.OutboxContainsAsync(Tenant, "bob-1"));
        Assert.True(await db.OutboxContainsAsync(Other, "ann-other"));
        Assert.Equal(2, await db.Outbox.CountPendingAsync(Tenant));
    }

    [Fact]
    public async Task Two_dispatchers_claiming_at_once_get_disjoint_messages_that_cover_all()
    {
        var schema = PostgresServer.NewSchema();
        await using var first = await server.NewBackendAsync(schema);
        await using var second = new PostgreSqlDocumentBackend(server.Options(schema)); // another instance: its own pool
        const int Count = 200;
        var changes = new DocumentChangeSet();
        changes.Outbox.AddRange(Enumerable.Range(0, Count).Select(i => Message($"m{i:D3}", T0 - Duration.FromSeconds(i % 7))));
        await first.CommitAsync(Tenant, changes);

        var claimed = new ConcurrentDictionary<string, string>();
        var duplicates = new ConcurrentBag<string>();
        var batches = new ConcurrentDictionary<string, int>();
        using var start = new Barrier(2);

        async Task Dispatch(IOutboxStore outbox, string owner)
        {
            start.SignalAndWait();
            while (true)
            {
                var claims = await outbox.ClaimDueAsync(T0, 7, Lease, owner);
                if (claims.Count == 0)
                {
                    return;
                }

                batches.AddOrUpdate(owner, 1, (_, n) => n + 1);
                foreach (var claim in claims)
                {
                    if (!claimed.TryAdd(claim.Message.Key, owner))
                    {
                        duplicates.Add(claim.Message.Key);
                    }

                    await outbox.CompleteAsync(claim.Message.Tenant, claim.Message.Key, owner);
                }
            }
        }

        await Task.WhenAll(Task.Run(() => Dispatch(first.Outbox, "d1")), Task.Run(() => Dispatch(second.Outbox, "d2")));

        Assert.Empty(duplicates);
        Assert.Equal(Count, claimed.Count);
        Assert.Equal(0, await first.Outbox.CountPendingAsync(Tenant));
        Assert.True(batches.ContainsKey("d1") && batches.ContainsKey("d2"), $"Both dispatchers should have claimed: {string.Join(", ", batches)}");
    }

    [Fact]
    public async Task Claims_held_in_open_transactions_are_skipped_not_waited_for()
    {
        var schema = PostgresServer.NewSchema();
        await using var db = await server.NewBackendAsync(schema);
        await EnqueueAsync(db, Message("a"), Message("b"));

        // Another session locks "a" (as a claimer would, mid-statement) and keeps the lock.
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var lockA = new Npgsql.NpgsqlCommand($"SELECT 1 FROM {db.Statements.Outbox} WHERE key = 'a' FOR UPDATE", connection, transaction))
        {
            await lockA.ExecuteNonQueryAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var claims = await db.Outbox.ClaimDueAsync(T0, 10, Lease, "d1", timeout.Token);
        Assert.Equal(["b"], claims.Select(c => c.Message.Key));
        await transaction.RollbackAsync();
        Assert.Equal(["a"], (await db.Outbox.ClaimDueAsync(T0, 10, Lease, "d1")).Select(c => c.Message.Key));
    }
}
