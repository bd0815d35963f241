using System.Collections.Concurrent;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.InMemory;
using NodaTime;

namespace Loyalty.Sdk.Tests;

public sealed class OutboxTests
{
    private static readonly Instant T0 = Fixed.Now;
    private static readonly Duration Lease = Duration.FromMinutes(1);

    private static OutboxMessage Msg(string key, Instant? due = null, TenantId? tenant = null, string template = "welcome") => new()
    {
        Key = key,
        Tenant = tenant ?? Fixed.Tenant,
        Customer = new CustomerId("cus_0001"),
        ActionKind = "send_message",
        Channel = Channel.Email,
        Template = template,
        Variables = new Dictionary<string, string> { ["givenName"] = "Ada" },
        DueAt = due ?? T0,
    };

    private static async Task<bool[]> EnqueueAsync(InMemoryLoyaltyStore store, params OutboxMessage[] messages)
    {
        var added = new List<bool>();
        foreach (var group in messages.GroupBy(m => m.Tenant))
        {
            await using var session = await store.OpenSessionAsync(group.Key);
            foreach (var message in group)
            {
                added.Add(await session.Outbox.EnqueueAsync(message));
            }

            await session.CommitAsync();
        }

        return [.. added];
    }

    [Fact]
    public async Task Enqueue_is_idempotent_by_key_within_a_session_and_across_sessions()
    {
        var store = new InMemoryLoyaltyStore();

        await using (var session = await store.OpenSessionAsync(Fixed.Tenant))
        {
            Assert.True(await session.Outbox.EnqueueAsync(Msg("k1", template: "first")));
            Assert.False(await session.Outbox.EnqueueAsync(Msg("k1", template: "second")));
            Assert.True(await session.Outbox.EnqueueAsync(Msg("k2")));
            await session.CommitAsync();
        }

        Assert.Equal(new[] { false, true }, await EnqueueAsync(store, Msg("k1", template: "third"), Msg("k3")));

        Assert.Equal(3, await store.Outbox.CountPendingAsync(Fixed.Tenant));
        var claims = await store.Outbox.ClaimDueAsync(T0, 10, Lease, "dispatcher");
        Assert.Equal(["k1", "k2", "k3"], claims.Select(c => c.Message.Key));
        Assert.Equal("first", claims[0].Message.Template);
        Assert.Equal("Ada", claims[0].Message.Variables["givenName"]);
    }

    [Fact]
    public async Task Enqueue_is_not_visible_until_commit_and_forgotten_without_it()
    {
        var store = new InMemoryLoyaltyStore();

        await using (var session = await store.OpenSessionAsync(Fixed.Tenant))
        {
            Assert.True(await session.Outbox.EnqueueAsync(Msg("k1")));
            Assert.Equal(0, await store.Outbox.CountPendingAsync(Fixed.Tenant));
            Assert.Empty(await store.Outbox.ClaimDueAsync(T0, 10, Lease, "dispatcher"));
        }

        Assert.Equal(0, await store.Outbox.CountPendingAsync(Fixed.Tenant));
        Assert.Equal(new[] { true }, await EnqueueAsync(store, Msg("k1")));
        Assert.Equal(1, await store.Outbox.CountPendingAsync(Fixed.Tenant));
    }

    [Fact]
    public async Task Keys_are_scoped_per_tenant()
    {
        var store = new InMemoryLoyaltyStore();

        Assert.Equal(new[] { true, true }, await EnqueueAsync(store, Msg("k1"), Msg("k1", tenant: Fixed.OtherTenant)));

        Assert.Equal(1, await store.Outbox.CountPendingAsync(Fixed.Tenant));
        Assert.Equal(1, await store.Outbox.CountPendingAsync(Fixed.OtherTenant));
        var claims = await store.Outbox.ClaimDueAsync(T0, 10, Lease, "dispatcher");
        Assert.Equal([Fixed.Tenant, Fixed.OtherTenant], claims.Select(c => c.Message.Tenant).OrderBy(t => t.Value, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Claims_respect_due_time_and_take_the_oldest_due_first()
    {
        var store = new InMemoryLoyaltyStore();
        await EnqueueAsync(
            store,
            Msg("later", T0 + Duration.FromMinutes(10)),
            Msg("now-b", T0),
            Msg("now-a", T0),
            Msg("earlier", T0 - Duration.FromHours(1)));

        var first = await store.Outbox.ClaimDueAsync(T0, 2, Duration.FromHours(1), "d1");
        var second = await store.Outbox.ClaimDueAsync(T0, 10, Duration.FromHours(1), "d1");
        var notYet = await store.Outbox.ClaimDueAsync(T0 + Duration.FromMinutes(10) - Duration.FromTicks(1), 10, Duration.FromHours(1), "d1");
        var due = await store.Outbox.ClaimDueAsync(T0 + Duration.FromMinutes(10), 10, Duration.FromHours(1), "d1");

        Assert.Equal(["earlier", "now-a"], first.Select(c => c.Message.Key));
        Assert.Equal(["now-b"], second.Select(c => c.Message.Key));
        Assert.Empty(notYet);
        Assert.Equal(["later"], due.Select(c => c.Message.Key));
        Assert.All(first, c => Assert.Equal((T0 + Duration.FromHours(1), "d1", 1), (c.LeaseUntil, c.Owner, c.Message.Attempts)));
    }

    [Fact]
    public async Task A_leased_message_cannot_be_claimed_by_another_dispatcher_until_the_lease_expires()
    {
        var store = new InMemoryLoyaltyStore();
        await EnqueueAsync(store, Msg("k1"));

        var byA = Assert.Single(await store.Outbox.ClaimDueAsync(T0, 10, Lease, "A"));
        var duringLease = await store.Outbox.ClaimDueAsync(T0 + Duration.FromSeconds(59), 10, Lease, "B");
        var byB = Assert.Single(await store.Outbox.ClaimDueAsync(T0 + Lease, 10, Lease, "B"));

        Assert.Equal((T0 + Lease, "A", 1), (byA.LeaseUntil, byA.Owner, byA.Message.Attempts));
        Assert.Empty(duringLease);
        Assert.Equal((T0 + Lease + Lease, "B", 2), (byB.LeaseUntil, byB.Owner, byB.Message.Attempts));

        // A lost its lease: it may no longer complete the message; B may.
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.Outbox.CompleteAsync(Fixed.Tenant, "k1", "A"));
        await store.Outbox.CompleteAsync(Fixed.Tenant, "k1", "B");
        Assert.Equal(0, await store.Outbox.CountPendingAsync(Fixed.Tenant));
        Assert.Empty(await store.Outbox.ClaimDueAsync(T0 + Duration.FromDays(1), 10, Lease, "C"));
    }

    [Fact]
    public async Task Only_the_owner_can_complete_a_claimed_message()
    {
        var store = new InMemoryLoyaltyStore();
        await EnqueueAsync(store, Msg("k1"), Msg("k2"));
        await store.Outbox.ClaimDueAsync(T0, 1, Lease, "owner");

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.Outbox.CompleteAsync(Fixed.Tenant, "k1", "intruder"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.Outbox.CompleteAsync(Fixed.Tenant, "k2", "owner"));
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await store.Outbox.CompleteAsync(Fixed.Tenant, "nope", "owner"));
        Assert.Equal(2, await store.Outbox.CountPendingAsync(Fixed.Tenant));

        await store.Outbox.CompleteAsync(Fixed.Tenant, "k1", "owner");

        Assert.Equal(1, await store.Outbox.CountPendingAsync(Fixed.Tenant));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.Outbox.CompleteAsync(Fixed.Tenant, "k1", "owner"));
        Assert.Equal(["k2"], (await store.Outbox.ClaimDueAsync(T0 + Duration.FromDays(1), 10, Lease, "other")).Select(c => c.Message.Key));
    }

    [Fact]
    public async Task Retry_re_queues_the_message_for_its_new_due_time()
    {
        var store = new InMemoryLoyaltyStore();
        await EnqueueAsync(store, Msg("k1"));
        await store.Outbox.ClaimDueAsync(T0, 10, Duration.FromHours(1), "A");

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.Outbox.RetryAsync(Fixed.Tenant, "k1", "B", T0 + Duration.FromMinutes(5)));
        await store.Outbox.RetryAsync(Fixed.Tenant, "k1", "A", T0 + Duration.FromMinutes(5));

        Assert.Equal(1, await store.Outbox.CountPendingAsync(Fixed.Tenant));
        Assert.Empty(await store.Outbox.ClaimDueAsync(T0 + Duration.FromMinutes(4), 10, Lease, "B"));
        var again = Assert.Single(await store.Outbox.ClaimDueAsync(T0 + Duration.FromMinutes(5), 10, Lease, "B"));
        Assert.Equal(("B", 2, T0 + Duration.FromMinutes(5)), (again.Owner, again.Message.Attempts, again.Message.DueAt));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.Outbox.CompleteAsync(Fixed.Tenant, "k1", "A"));
    }

    [Fact]
    public async Task Concurrent_dispatchers_never_claim_the_same_message_twice()
    {
        for (var round = 0; round < 5; round++)
        {
            var store = new InMemoryLoyaltyStore();
            var messages = Enumerable.Range(0, 300)
                .Select(i => Msg($"m{i:D3}", T0 - Duration.FromSeconds(i % 17), i % 3 == 0 ? Fixed.OtherTenant : Fixed.Tenant))
                .ToArray();
            await EnqueueAsync(store, messages);
            var claimed = new ConcurrentBag<OutboxClaim>();
            using var start = new ManualResetEventSlim();

            var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                start.Wait();
                while (true)
                {
                    var claims = await store.Outbox.ClaimDueAsync(T0, 3, Duration.FromHours(1), $"worker-{w}");
                    if (claims.Count == 0)
                    {
                        return;
                    }

                    foreach (var claim in claims)
                    {
                        claimed.Add(claim);
                    }
                }
            })).ToArray();
            start.Set();
            await Task.WhenAll(workers);

            Assert.Equal(messages.Length, claimed.Count);
            Assert.Equal(messages.Length, claimed.Select(c => (c.Message.Tenant, c.Message.Key)).Distinct().Count());
            Assert.All(claimed, c => Assert.Equal(1, c.Message.Attempts));

            // Each message is held by the worker that claimed it: that worker, and only it, can complete it.
            await Task.WhenAll(claimed.Select(c => Task.Run(async () => await store.Outbox.CompleteAsync(c.Message.Tenant, c.Message.Key, c.Owner))));
            Assert.Equal(0, await store.Outbox.CountPendingAsync(Fixed.Tenant));
            Assert.Equal(0, await store.Outbox.CountPendingAsync(Fixed.OtherTenant));
        }
    }

    [Fact]
    public async Task Claiming_validates_its_arguments()
    {
        var store = new InMemoryLoyaltyStore();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.Outbox.ClaimDueAsync(T0, 0, Lease, "d"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.Outbox.ClaimDueAsync(T0, 1, Lease, ""));
    }
}
