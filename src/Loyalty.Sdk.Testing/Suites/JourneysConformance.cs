using Loyalty.Sdk.Journeys;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IJourneyRepository"/>: versioned instances per customer and journey, due
/// timers, and measurement counters.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class JourneysConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly CustomerId Bob = Customer("cus-bob");

    /// <summary>A customer never entered has no instances.</summary>
    [Fact]
    public virtual async Task A_customer_never_entered_has_no_instances()
    {
        await WriteAsync(s => s.Journeys.SaveAsync(Journey(Bob, "welcome", null), 0));

        Assert.Null(await ReadAsync(s => s.Journeys.GetAsync(Ada, "welcome")));
        Assert.Null(await ReadAsync(s => s.Journeys.GetAsync(Bob, "win_back")));
        Assert.Empty(await ReadAsync(s => s.Journeys.ListForCustomerAsync(Ada)));
    }

    /// <summary>An instance round-trips at version 1 and a save with expected version v stores version v + 1.</summary>
    [Fact]
    public virtual async Task Instances_round_trip_and_are_versioned()
    {
        await WriteAsync(s => s.Journeys.SaveAsync(Journey(Ada, "welcome", At(60)), 0));
        Deep.Equal(Journey(Ada, "welcome", At(60)) with { Version = 1 }, await ReadAsync(s => s.Journeys.GetAsync(Ada, "welcome")));

        await WriteAsync(async s =>
        {
            var read = (await s.Journeys.GetAsync(Ada, "welcome"))!;
            await s.Journeys.SaveAsync(read with { Status = JourneyStatus.Ended, Step = null, WakeAt = null, ExitReason = "completed" }, read.Version);
        });

        var stored = await ReadAsync(s => s.Journeys.GetAsync(Ada, "welcome"));
        Assert.Equal((2L, JourneyStatus.Ended, "completed", (string?)null), (stored!.Version, stored.Status, stored.ExitReason, stored.Step));
    }

    /// <summary>A customer's instances of every journey are listed (and only theirs), including those the session
    /// created or changed before committing.</summary>
    [Fact]
    public virtual async Task A_customers_instances_are_listed_with_the_sessions_own_writes()
    {
        await WriteAsync(async s =>
        {
            await s.Journeys.SaveAsync(Journey(Ada, "welcome", null), 0);
            await s.Journeys.SaveAsync(Journey(Ada, "birthday", null), 0);
            await s.Journeys.SaveAsync(Journey(Bob, "welcome", null), 0);
        });

        await using var session = await OpenAsync();
        await session.Journeys.SaveAsync(Journey(Ada, "win_back", At(5)), 0);
        await session.Journeys.SaveAsync(Journey(Ada, "birthday", null) with { Step = "changed" }, 1);

        var listed = (await session.Journeys.ListForCustomerAsync(Ada)).OrderBy(i => i.Journey, StringComparer.Ordinal).ToArray();
        Assert.Equal(["birthday", "welcome", "win_back"], listed.Select(i => i.Journey));
        Assert.Equal(("changed", 2L), (listed[0].Step, listed[0].Version));
        Assert.Equal(1, listed[2].Version);
        Assert.All(listed, i => Assert.Equal(Ada, i.Customer));
    }

    /// <summary>Due instances are those whose timer is at or before now, earliest first, at most <c>max</c>; a customer
    /// may have several due journeys; instances without a timer are never listed; a re-saved instance is listed at its
    /// new time only.</summary>
    [Fact]
    public virtual async Task Due_instances_are_listed_earliest_first_up_to_max()
    {
        await WriteAsync(async s =>
        {
            await s.Journeys.SaveAsync(Journey(Ada, "welcome", At(30)), 0);
            await s.Journeys.SaveAsync(Journey(Ada, "birthday", At(10)), 0);
            await s.Journeys.SaveAsync(Journey(Bob, "welcome", At(20)), 0);
            await s.Journeys.SaveAsync(Journey(Bob, "birthday", null), 0);
        });
        await WriteAsync(s => s.Journeys.SaveAsync(Journey(Customer("cus-cyd"), "welcome", At(40)), 0));

        Assert.Equal([(Ada, "birthday"), (Bob, "welcome"), (Ada, "welcome")], await ReadAsync(s => s.Journeys.ListDueAsync(At(30), 10)));
        Assert.Equal([(Ada, "birthday"), (Bob, "welcome")], await ReadAsync(s => s.Journeys.ListDueAsync(At(100), 2)));
        Assert.Empty(await ReadAsync(s => s.Journeys.ListDueAsync(At(9), 10)));

        await WriteAsync(async s =>
        {
            await s.Journeys.SaveAsync(Journey(Ada, "birthday", At(50)), 1);
            await s.Journeys.SaveAsync(Journey(Bob, "welcome", null), 1);
        });

        Assert.Equal([(Ada, "welcome"), (Customer("cus-cyd"), "welcome"), (Ada, "birthday")], await ReadAsync(s => s.Journeys.ListDueAsync(At(60), 10)));
    }

    /// <summary>Due timers are claimed with leases: another owner's claim skips leased instances until the lease
    /// lapses; saving an instance ends its lease.</summary>
    [Fact]
    public virtual async Task Due_instances_are_claimed_with_leases()
    {
        await WriteAsync(async s =>
        {
            await s.Journeys.SaveAsync(Journey(Ada, "welcome", At(30)), 0);
            await s.Journeys.SaveAsync(Journey(Ada, "birthday", At(10)), 0);
            await s.Journeys.SaveAsync(Journey(Bob, "welcome", At(20)), 0);
        });
        var lease = NodaTime.Duration.FromMinutes(30);

        Assert.Equal([(Ada, "birthday"), (Bob, "welcome")], await ReadAsync(s => s.Journeys.ClaimDueAsync(At(50), 2, lease, "worker-a")));
        Assert.Equal([(Ada, "welcome")], await ReadAsync(s => s.Journeys.ClaimDueAsync(At(50), 10, lease, "worker-b")));
        Assert.Empty(await ReadAsync(s => s.Journeys.ClaimDueAsync(At(50), 10, lease, "worker-c")));

        await WriteAsync(s => s.Journeys.SaveAsync(Journey(Bob, "welcome", At(40)), 1));
        Assert.Equal([(Bob, "welcome")], await ReadAsync(s => s.Journeys.ClaimDueAsync(At(51), 10, lease, "worker-c")));
        Assert.Equal([(Ada, "birthday"), (Ada, "welcome")], await ReadAsync(s => s.Journeys.ClaimDueAsync(At(80), 10, lease, "worker-d")));
    }

    /// <summary>Counters add up across committed sessions (negative deltas included), per journey and counter; a
    /// session disposed without commit counts nothing; stats list every journey by id.</summary>
    [Fact]
    public virtual async Task Counters_add_up_across_committed_sessions()
    {
        await WriteAsync(async s =>
        {
            await s.Journeys.CountAsync("welcome", "entered");
            await s.Journeys.CountAsync("welcome", "entered");
            await s.Journeys.CountAsync("welcome", "sent", 3);
            await s.Journeys.CountAsync("birthday", "entered");
        });
        await WriteAsync(async s =>
        {
            await s.Journeys.CountAsync("welcome", "entered", 5);
            await s.Journeys.CountAsync("welcome", "sent", -1);
        });
        await using (var discarded = await OpenAsync())
        {
            await discarded.Journeys.CountAsync("welcome", "entered", 100);
            await discarded.Journeys.CountAsync("win_back", "entered", 100);
        }

        var stats = await ReadAsync(s => s.Journeys.GetStatsAsync());

        Assert.Equal(["birthday", "welcome"], stats.Select(j => j.Journey));
        Assert.Equal((7L, 2L, 0L), (stats[1]["entered"], stats[1]["sent"], stats[1]["converted"]));
        Deep.Equal(new Dictionary<string, long> { ["entered"] = 1 }, stats[0].Counters);
    }

    /// <summary>A stale save is a concurrency conflict and changes nothing (its timer included).</summary>
    [Fact]
    public virtual async Task A_stale_save_is_a_concurrency_conflict_and_changes_nothing()
    {
        await WriteAsync(s => s.Journeys.SaveAsync(Journey(Ada, "welcome", null), 0));
        await WriteAsync(s => s.Journeys.SaveAsync(Journey(Ada, "welcome", null) with { Step = "second" }, 1));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Journeys.SaveAsync(Journey(Ada, "welcome", At(1)) with { Step = "stale" }, 1);
                await session.CommitAsync();
            });
        }

        var stored = await ReadAsync(s => s.Journeys.GetAsync(Ada, "welcome"));
        Assert.Equal((2L, "second"), (stored!.Version, stored.Step));
        Assert.Empty(await ReadAsync(s => s.Journeys.ListDueAsync(At(100), 10)));
    }

    /// <summary>Creating an instance that another session created first (both expected version 0) is a conflict.</summary>
    [Fact]
    public virtual async Task Creating_an_instance_that_exists_is_a_concurrency_conflict()
    {
        await WriteAsync(s => s.Journeys.SaveAsync(Journey(Ada, "welcome", null) with { Entry = 1 }, 0));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Journeys.SaveAsync(Journey(Ada, "welcome", null) with { Entry = 2 }, 0);
                await session.CommitAsync();
            });
        }

        Assert.Equal(1, (await ReadAsync(s => s.Journeys.GetAsync(Ada, "welcome")))!.Entry);
    }

    /// <summary>A customer's response per channel round-trips, is versioned, is read back with the session's own
    /// writes, and a stale save is a concurrency conflict that changes nothing.</summary>
    [Fact]
    public virtual async Task Channel_responses_round_trip_and_are_versioned()
    {
        Assert.Null(await ReadAsync(s => s.Journeys.GetResponseAsync(Ada)));
        var first = new CustomerChannelResponse { Customer = Ada }
            .With(Events.ContactChannel.Email, c => c with { Sent = 3, Opened = 2 })
            .With(Events.ContactChannel.Sms, c => c with { Sent = 1, Clicked = 1 });
        await WriteAsync(s => s.Journeys.SaveResponseAsync(first, 0));
        var stored = await ReadAsync(s => s.Journeys.GetResponseAsync(Ada));
        Deep.Equal(first with { Version = 1 }, stored);
        Assert.Equal(2.0 / 3, stored!.For(Events.ContactChannel.Email).Rate, 9);
        Assert.Null(await ReadAsync(s => s.Journeys.GetResponseAsync(Bob)));

        await using (var session = await OpenAsync())
        {
            await session.Journeys.SaveResponseAsync(stored.With(Events.ContactChannel.Email, c => c with { Sent = 4 }), 1);
            Assert.Equal(4, (await session.Journeys.GetResponseAsync(Ada))!.For(Events.ContactChannel.Email).Sent);
            await session.CommitAsync();
        }

        await using (var stale = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await stale.Journeys.SaveResponseAsync(stored.With(Events.ContactChannel.Email, c => c with { Sent = 99 }), 1);
                await stale.CommitAsync();
            });
        }

        var last = await ReadAsync(s => s.Journeys.GetResponseAsync(Ada));
        Assert.Equal((2L, 4L, 1L), (last!.Version, last.For(Events.ContactChannel.Email).Sent, last.For(Events.ContactChannel.Sms).Clicked));
    }

    /// <summary>What a customer merge does through the port, in one session: the absorbed customer's instances and
    /// response are read, deleted, and saved under the survivor (the moved entry's <see cref="JourneyInstance.MovedFrom"/>
    /// included); on commit the timers follow the instances, the absorbed customer has nothing left, and the survivor's
    /// own instance of another journey is untouched.</summary>
    [Fact]
    public virtual async Task A_merge_moves_instances_timers_and_responses_in_one_session()
    {
        await WriteAsync(async s =>
        {
            await s.Journeys.SaveAsync(Journey(Bob, "welcome", At(20)) with { Entry = 1, Holdout = true }, 0);
            await s.Journeys.SaveAsync(Journey(Bob, "birthday", At(10)), 0);
            await s.Journeys.SaveAsync(Journey(Ada, "birthday", At(30)), 0);
            await s.Journeys.SaveAsync(Journey(Ada, "win_back", At(40)), 0);
            await s.Journeys.SaveResponseAsync(new CustomerChannelResponse { Customer = Bob }.With(Events.ContactChannel.Email, c => c with { Sent = 2, Opened = 1 }), 0);
            await s.Journeys.SaveResponseAsync(new CustomerChannelResponse { Customer = Ada }.With(Events.ContactChannel.Email, c => c with { Sent = 1 }), 0);
        });

        await WriteAsync(async s =>
        {
            var moved = await s.Journeys.ListForCustomerAsync(Bob);
            var adaBirthday = (await s.Journeys.GetAsync(Ada, "birthday"))!;
            var response = (await s.Journeys.GetResponseAsync(Ada))!;
            await s.Journeys.DeleteCustomerAsync(Bob);
            var welcome = moved.Single(i => i.Journey == "welcome");
            await s.Journeys.SaveAsync(welcome with { Customer = Ada, MovedFrom = "journey:welcome:v1:cus-bob:1:" }, 0);
            await s.Journeys.SaveAsync(adaBirthday with { Step = "merged", WakeAt = At(10) }, adaBirthday.Version);
            await s.Journeys.SaveResponseAsync(response.With(Events.ContactChannel.Email, c => c with { Sent = 3, Opened = 1 }), response.Version);
            Assert.Empty(await s.Journeys.ListForCustomerAsync(Bob));
            Assert.Equal(["birthday", "welcome", "win_back"], (await s.Journeys.ListForCustomerAsync(Ada)).Select(i => i.Journey).Order(StringComparer.Ordinal));
        });

        Assert.Empty(await ReadAsync(s => s.Journeys.ListForCustomerAsync(Bob)));
        Assert.Null(await ReadAsync(s => s.Journeys.GetResponseAsync(Bob)));
        Assert.Equal([(Ada, "birthday"), (Ada, "welcome"), (Ada, "win_back")], await ReadAsync(s => s.Journeys.ListDueAsync(At(100), 10)));
        var welcome = await ReadAsync(s => s.Journeys.GetAsync(Ada, "welcome"));
        Assert.Equal((Ada, 1, true, "journey:welcome:v1:cus-bob:1:", 1L), (welcome!.Customer, welcome.Entry, welcome.Holdout, welcome.MovedFrom, welcome.Version));
        Assert.Equal(("merged", 2L), ((await ReadAsync(s => s.Journeys.GetAsync(Ada, "birthday")))!.Step, (await ReadAsync(s => s.Journeys.GetAsync(Ada, "birthday")))!.Version));
        var email = (await ReadAsync(s => s.Journeys.GetResponseAsync(Ada)))!.For(Events.ContactChannel.Email);
        Assert.Equal((3L, 1L), (email.Sent, email.Opened));
    }

    /// <summary>Erasing a customer deletes their instances, timers and channel response on commit, and nobody else's;
    /// the session reads its own deletion.</summary>
    [Fact]
    public virtual async Task Deleting_a_customer_removes_instances_timers_and_channel_response()
    {
        await WriteAsync(async s =>
        {
            await s.Journeys.SaveAsync(Journey(Ada, "welcome", At(10)), 0);
            await s.Journeys.SaveAsync(Journey(Ada, "birthday", null), 0);
            await s.Journeys.SaveAsync(Journey(Bob, "welcome", At(20)), 0);
            await s.Journeys.SaveResponseAsync(new CustomerChannelResponse { Customer = Ada }.With(Events.ContactChannel.Email, c => c with { Sent = 1 }), 0);
        });

        await using (var session = await OpenAsync())
        {
            await session.Journeys.DeleteCustomerAsync(Ada);
            Assert.Empty(await session.Journeys.ListForCustomerAsync(Ada));
            Assert.Null(await session.Journeys.GetResponseAsync(Ada));
            await session.CommitAsync();
        }

        Assert.Empty(await ReadAsync(s => s.Journeys.ListForCustomerAsync(Ada)));
        Assert.Null(await ReadAsync(s => s.Journeys.GetAsync(Ada, "welcome")));
        Assert.Null(await ReadAsync(s => s.Journeys.GetResponseAsync(Ada)));
        Assert.Equal(new[] { (Bob, "welcome") }, (await ReadAsync(s => s.Journeys.ListDueAsync(At(100), 10))).ToArray());
    }
}

