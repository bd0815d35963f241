using System.Collections.Concurrent;
using Loyalty.Sdk.Storage;
using NodaTime;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IOutboxRepository"/> (enqueue in a session, idempotent by key) and of
/// <see cref="IOutboxStore"/> (claims with leases, completion by the owner, retries, pending counts).</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class OutboxConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly Duration Lease = Duration.FromMinutes(1);

    private async Task<bool[]> EnqueueAsync(TenantId tenant, params OutboxMessage[] messages)
    {
        var added = new List<bool>();
        await WriteAsync(
            async s =>
            {
                foreach (var m in messages)
                {
                    added.Add(await s.Outbox.EnqueueAsync(m));
                }
            },
            tenant);
        return [.. added];
    }

    private Task<bool[]> EnqueueAsync(params OutboxMessage[] messages) => EnqueueAsync(Tenant, messages);

    private static OutboxMessage Msg(string key, Instant? due = null, TenantId? tenant = null, string template = "welcome") =>
        Message(key, Ada, due ?? T0, tenant ?? Tenant, template);

    /// <summary>Enqueuing a key already queued (in the same session or committed before) is ignored and returns false;
    /// the first message is kept.</summary>
    [Fact]
    public virtual async Task Enqueue_is_idempotent_by_key_and_keeps_the_first_message()
    {
        await WriteAsync(async s =>
        {
            Assert.True(await s.Outbox.EnqueueAsync(Msg("k1", template: "first")));
            Assert.False(await s.Outbox.EnqueueAsync(Msg("k1", template: "second")));
            Assert.True(await s.Outbox.EnqueueAsync(Msg("k2")));
        });

        Assert.Equal(new[] { false, true }, await EnqueueAsync(Msg("k1", template: "third"), Msg("k3")));

        Assert.Equal(3, await Store.Outbox.CountPendingAsync(Tenant));
        var claims = await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "dispatcher");
        Assert.Equal(["k1", "k2", "k3"], claims.Select(c => c.Message.Key).Order(StringComparer.Ordinal));
        Assert.Equal("first", claims.Single(c => c.Message.Key == "k1").Message.Template);
    }

    /// <summary>A completion in a session is applied with the session's other writes on commit, and not at all
    /// without a commit; a completion of a message the owner no longer holds (claimed by another dispatcher, or
    /// completed) fails the commit with a concurrency conflict and nothing of the session is applied.</summary>
    [Fact]
    public virtual async Task A_completion_in_a_session_commits_with_its_other_writes_or_not_at_all()
    {
        await EnqueueAsync(Msg("k1"), Msg("k2"));
        var claims = await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "dispatcher");
        Assert.Equal(2, claims.Count);

        await using (var discarded = await OpenAsync())
        {
            await discarded.Outbox.CompleteAsync("k1", "dispatcher");
            await discarded.Journeys.CountAsync("welcome", "sent");
        }

        Assert.Equal(2, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Empty(await ReadAsync(s => s.Journeys.GetStatsAsync()));

        await WriteAsync(async s =>
        {
            await s.Outbox.CompleteAsync("k1", "dispatcher");
            await s.Journeys.CountAsync("welcome", "sent");
        });

        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Equal(1, (await ReadAsync(s => s.Journeys.GetStatsAsync())).Single()["sent"]);

        // k2's lease runs out and another dispatcher claims it: the first owner's completion conflicts, and so does a
        // second completion of k1.
        Assert.Equal(["k2"], (await Store.Outbox.ClaimDueAsync(T0 + Lease, 10, Lease, "other")).Select(c => c.Message.Key));
        foreach (var key in new[] { "k2", "k1" })
        {
            await using var session = await OpenAsync();
            await session.Outbox.CompleteAsync(key, "dispatcher");
            await session.Journeys.CountAsync("welcome", "sent");
            await AssertConflictAsync(async () => await session.CommitAsync());
        }

        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Equal(1, (await ReadAsync(s => s.Journeys.GetStatsAsync())).Single()["sent"]);

        // The new owner completes it.
        await WriteAsync(s => s.Outbox.CompleteAsync("k2", "other"));
        Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Empty(await Store.Outbox.ClaimDueAsync(T0 + Duration.FromDays(1), 10, Lease, "dispatcher"));
    }

    /// <summary>Dispatchers do not see a message before its session commits, and never when the session is disposed
    /// without commit.</summary>
    [Fact]
    public virtual async Task Messages_are_invisible_to_dispatchers_until_commit_and_dropped_without_it()
    {
        await using (var session = await OpenAsync())
        {
            Assert.True(await session.Outbox.EnqueueAsync(Msg("k1")));
            Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
            Assert.Empty(await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "dispatcher"));
        }

        Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Empty(await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "dispatcher"));
        Assert.Equal(new[] { true }, await EnqueueAsync(Msg("k1")));
    }

    /// <summary>A claim carries the message with every field, the owner, the lease end (now + lease) and the attempt
    /// number (1 for the first claim).</summary>
    [Fact]
    public virtual async Task A_claim_carries_the_message_its_owner_lease_and_first_attempt()
    {
        await EnqueueAsync(Msg("k1", T0 - Duration.FromMinutes(5)));

        var claim = Assert.Single(await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "dispatcher-1"));

        Assert.Equal(("dispatcher-1", T0 + Lease), (claim.Owner, claim.LeaseUntil));
        Deep.Equal(Msg("k1", T0 - Duration.FromMinutes(5)) with { Attempts = 1 }, claim.Message);
    }

    /// <summary>Claims take due messages oldest due first, at most <c>max</c> per call; the rest come with the next
    /// calls; messages not yet due stay until they are.</summary>
    [Fact]
    public virtual async Task Claims_take_due_messages_oldest_due_first_and_at_most_max()
    {
        await EnqueueAsync(Msg("m-later", T0 + Duration.FromMinutes(10)), Msg("m-3", T0 - Duration.FromMinutes(1)), Msg("m-1", T0 - Duration.FromHours(2)));
        await EnqueueAsync(Msg("m-2", T0 - Duration.FromHours(1)), Msg("m-4", T0));

        var first = await Store.Outbox.ClaimDueAsync(T0, 2, Duration.FromHours(1), "d");
        var second = await Store.Outbox.ClaimDueAsync(T0, 2, Duration.FromHours(1), "d");
        var third = await Store.Outbox.ClaimDueAsync(T0, 2, Duration.FromHours(1), "d");
        var notYet = await Store.Outbox.ClaimDueAsync(T0 + Duration.FromMinutes(10) - Duration.FromSeconds(1), 10, Duration.FromHours(1), "d");
        var due = await Store.Outbox.ClaimDueAsync(T0 + Duration.FromMinutes(10), 10, Lease, "d");

        Assert.Equal(["m-1", "m-2"], first.Select(c => c.Message.Key));
        Assert.Equal(["m-3", "m-4"], second.Select(c => c.Message.Key));
        Assert.Empty(third);
        Assert.Empty(notYet);
        Assert.Equal(["m-later"], due.Select(c => c.Message.Key));
    }

    /// <summary>A leased message is not claimed by anyone until the lease expires; then another owner claims it (second
    /// attempt), and the first owner, who lost the lease, can no longer complete it.</summary>
    [Fact]
    public virtual async Task A_lease_protects_a_claim_until_it_expires_then_another_owner_reclaims_it()
    {
        await EnqueueAsync(Msg("k1"));

        var byA = Assert.Single(await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "A"));
        Assert.Empty(await Store.Outbox.ClaimDueAsync(T0 + Lease - Duration.FromSeconds(1), 10, Lease, "B"));
        var byB = Assert.Single(await Store.Outbox.ClaimDueAsync(T0 + Lease, 10, Lease, "B"));

        Assert.Equal((1, "A"), (byA.Message.Attempts, byA.Owner));
        Assert.Equal((2, "B", T0 + Lease + Lease), (byB.Message.Attempts, byB.Owner, byB.LeaseUntil));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.Outbox.CompleteAsync(Tenant, "k1", "A"));
        await Store.Outbox.CompleteAsync(Tenant, "k1", "B");
        Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
    }

    /// <summary>A completed message is never claimed again, is no longer pending, and cannot be completed twice
    /// (<see cref="InvalidOperationException"/>).</summary>
    [Fact]
    public virtual async Task A_completed_message_never_comes_back()
    {
        await EnqueueAsync(Msg("k1"), Msg("k2"));
        var claims = await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "d");
        Assert.Equal(2, claims.Count);

        await Store.Outbox.CompleteAsync(Tenant, "k1", "d");

        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Equal(["k2"], (await Store.Outbox.ClaimDueAsync(T0 + Duration.FromDays(30), 10, Lease, "other")).Select(c => c.Message.Key));
        await Store.Outbox.CompleteAsync(Tenant, "k2", "other");
        Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Empty(await Store.Outbox.ClaimDueAsync(T0 + Duration.FromDays(365), 10, Lease, "late"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.Outbox.CompleteAsync(Tenant, "k1", "d"));
    }

    /// <summary>The key of a delivered message stays taken: enqueuing it again is ignored (so a replayed step does not
    /// send twice).</summary>
    [Fact]
    public virtual async Task Enqueuing_the_key_of_a_delivered_message_is_ignored()
    {
        await EnqueueAsync(Msg("k1"));
        Assert.Single(await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "d"));
        await Store.Outbox.CompleteAsync(Tenant, "k1", "d");

        Assert.Equal(new[] { false }, await EnqueueAsync(Msg("k1", T0 + Duration.FromDays(1))));
        Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Empty(await Store.Outbox.ClaimDueAsync(T0 + Duration.FromDays(2), 10, Lease, "d"));
    }

    /// <summary>Only the lease owner may complete or retry a claim; anyone else gets
    /// <see cref="InvalidOperationException"/> and the claim is unchanged; an unclaimed message cannot be completed.</summary>
    [Fact]
    public virtual async Task Only_the_owner_can_complete_or_retry_a_claim()
    {
        await EnqueueAsync(Msg("k1"), Msg("k2", T0 + Duration.FromMinutes(1)));
        Assert.Single(await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "owner"));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.Outbox.CompleteAsync(Tenant, "k1", "intruder"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.Outbox.RetryAsync(Tenant, "k1", "intruder", T0));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.Outbox.CompleteAsync(Tenant, "k2", "owner"));

        Assert.Equal(2, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Empty(await Store.Outbox.ClaimDueAsync(T0 + Duration.FromSeconds(30), 10, Lease, "intruder"));
        await Store.Outbox.CompleteAsync(Tenant, "k1", "owner");
        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
    }

    /// <summary>Completing a key that was never enqueued throws <see cref="KeyNotFoundException"/>.</summary>
    [Fact]
    public virtual async Task Completing_an_unknown_key_throws_KeyNotFoundException()
    {
        await EnqueueAsync(Msg("k1"));
        Assert.Single(await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "d"));

        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await Store.Outbox.CompleteAsync(Tenant, "nope", "d"));
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await Store.Outbox.CompleteAsync(OtherTenant, "k1", "d"));
    }

    /// <summary>A retry releases the claim until <c>retryAt</c>: the message is still pending, is not claimed before,
    /// and is claimed at <c>retryAt</c> (by anyone) as the next attempt with its new due time.</summary>
    [Fact]
    public virtual async Task A_retry_releases_the_claim_until_retryAt()
    {
        await EnqueueAsync(Msg("k1"));
        Assert.Single(await Store.Outbox.ClaimDueAsync(T0, 10, Duration.FromHours(1), "A"));

        await Store.Outbox.RetryAsync(Tenant, "k1", "A", T0 + Duration.FromMinutes(5));

        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Empty(await Store.Outbox.ClaimDueAsync(T0 + Duration.FromMinutes(5) - Duration.FromSeconds(1), 10, Lease, "B"));
        var again = Assert.Single(await Store.Outbox.ClaimDueAsync(T0 + Duration.FromMinutes(5), 10, Lease, "B"));
        Assert.Equal(("B", 2, T0 + Duration.FromMinutes(5)), (again.Owner, again.Message.Attempts, again.Message.DueAt));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.Outbox.CompleteAsync(Tenant, "k1", "A"));
    }

    /// <summary>Keys are scoped per tenant: the same key in two tenants is two messages, counted and completed apart.</summary>
    [Fact]
    public virtual async Task Keys_counts_and_completion_are_scoped_per_tenant()
    {
        Assert.Equal(new[] { true }, await EnqueueAsync(Tenant, Msg("k1")));
        Assert.Equal(new[] { true, true }, await EnqueueAsync(OtherTenant, Msg("k1", tenant: OtherTenant), Msg("k2", tenant: OtherTenant)));

        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Equal(2, await Store.Outbox.CountPendingAsync(OtherTenant));
        var claims = await Store.Outbox.ClaimDueAsync(T0, 10, Lease, "d");
        Assert.Equal(3, claims.Count);
        Assert.Equal(2, claims.Count(c => c.Message.Tenant == OtherTenant));

        await Store.Outbox.CompleteAsync(OtherTenant, "k1", "d");

        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Equal(1, await Store.Outbox.CountPendingAsync(OtherTenant));
        await Store.Outbox.CompleteAsync(Tenant, "k1", "d");
        Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
    }

    /// <summary>Dispatchers claiming at the same time never get the same message: every message is claimed once.</summary>
    [Fact]
    public virtual async Task Concurrent_dispatchers_never_claim_the_same_message_twice()
    {
        await EnqueueAsync([.. Enumerable.Range(0, 60).Select(i => Msg($"m{i:D2}", T0 - Duration.FromSeconds(i % 7)))]);
        var claimed = new ConcurrentBag<OutboxClaim>();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            while (true)
            {
                var claims = await Store.Outbox.ClaimDueAsync(T0, 3, Duration.FromHours(1), $"worker-{w}");
                if (claims.Count == 0)
                {
                    return;
                }

                foreach (var c in claims)
                {
                    claimed.Add(c);
                }
            }
        })));

        Assert.Equal(60, claimed.Count);
        Assert.Equal(60, claimed.Select(c => c.Message.Key).Distinct().Count());
        await Task.WhenAll(claimed.Select(c => Store.Outbox.CompleteAsync(Tenant, c.Message.Key, c.Owner).AsTask()));
        Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
    }

    /// <summary>Claiming rejects a non-positive <c>max</c> and an empty owner with an <see cref="ArgumentException"/>.</summary>
    [Fact]
    public virtual async Task Claiming_rejects_a_non_positive_max_and_an_empty_owner()
    {
        await EnqueueAsync(Msg("k1"));

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.Outbox.ClaimDueAsync(T0, 0, Lease, "d"));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.Outbox.ClaimDueAsync(T0, 1, Lease, ""));
        Assert.Single(await Store.Outbox.ClaimDueAsync(T0, 1, Lease, "d"));
    }
}
