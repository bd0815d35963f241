using Loyalty.Sdk.Segments;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="ISegmentRepository"/>: versioned per-customer states, due customers, paged
/// listing, memberships (from saved states and from batch changes), sizes, members and size history.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class SegmentsConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly CustomerId Bob = Customer("cus-bob");
    private static readonly CustomerId Cyd = Customer("cus-cyd");

    private static long Size(IReadOnlyDictionary<string, long> sizes, string segment) => sizes.TryGetValue(segment, out var n) ? n : 0;

    private async Task<string[]> MembersAsync(string segment) =>
        [.. (await ReadAsync(s => s.Segments.ListMembersAsync(segment))).Select(c => c.Value).Order(StringComparer.Ordinal)];

    /// <summary>A customer without state has none.</summary>
    [Fact]
    public virtual async Task A_customer_without_state_has_none()
    {
        await WriteAsync(s => s.Segments.SaveAsync(SegmentState(Bob, null), 0));

        Assert.Null(await ReadAsync(s => s.Segments.GetAsync(Ada)));
    }

    /// <summary>A new state round-trips at version 1: memberships, window series, computed-trait state, due time.</summary>
    [Fact]
    public virtual async Task A_new_state_round_trips_at_version_1()
    {
        await WriteAsync(s => s.Segments.SaveAsync(SegmentState(Ada, At(60), "vip", "new_customers"), 0));

        var expected = SegmentState(Ada, At(60), "vip", "new_customers");
        expected.Version = 1;
        Deep.Equal(expected, await ReadAsync(s => s.Segments.GetAsync(Ada)));
    }

    /// <summary>A save with expected version v stores version v + 1; what <see cref="ISegmentRepository.GetAsync"/>
    /// returns is a copy: changing it without saving changes nothing.</summary>
    [Fact]
    public virtual async Task A_save_with_expected_version_v_stores_v_plus_1_and_reads_are_copies()
    {
        await WriteAsync(s => s.Segments.SaveAsync(SegmentState(Ada, null, "vip"), 0));
        await WriteAsync(async s =>
        {
            var state = (await s.Segments.GetAsync(Ada))!;
            state.Traits.Orders = 99;
            state.Memberships["lapsed"] = At(5);
        });
        await WriteAsync(async s =>
        {
            var state = (await s.Segments.GetAsync(Ada))!;
            Assert.Equal(4, state.Traits.Orders);
            state.Traits.Orders = 5;
            await s.Segments.SaveAsync(state, state.Version);
        });

        var stored = await ReadAsync(s => s.Segments.GetAsync(Ada));
        Assert.Equal((2L, 5), (stored!.Version, stored.Traits.Orders));
        Assert.Equal(["vip"], stored.Memberships.Keys);
    }

    /// <summary>A session reads the state it saved and not the one it deleted, before committing.</summary>
    [Fact]
    public virtual async Task A_session_reads_its_own_saves_and_deletes()
    {
        await WriteAsync(s => s.Segments.SaveAsync(SegmentState(Bob, null), 0));

        await using var session = await OpenAsync();
        await session.Segments.SaveAsync(SegmentState(Ada, null, "vip"), 0);
        await session.Segments.DeleteAsync(Bob);

        Assert.Equal(1, (await session.Segments.GetAsync(Ada))!.Version);
        Assert.Null(await session.Segments.GetAsync(Bob));
    }

    /// <summary>A deleted state is gone: not found, not counted, not listed, not due, and no longer a member.</summary>
    [Fact]
    public virtual async Task A_deleted_state_leaves_no_trace()
    {
        await WriteAsync(async s =>
        {
            await s.Segments.SaveAsync(SegmentState(Ada, At(10), "vip"), 0);
            await s.Segments.SaveAsync(SegmentState(Bob, At(20), "vip"), 0);
        });

        await WriteAsync(s => s.Segments.DeleteAsync(Ada));

        Assert.Null(await ReadAsync(s => s.Segments.GetAsync(Ada)));
        Assert.Equal(1, await ReadAsync(s => s.Segments.CountAsync()));
        Assert.Equal([Bob], (await ReadAsync(s => s.Segments.ListAsync(0, 10))).Select(x => x.Customer));
        Assert.Equal([Bob], await ReadAsync(s => s.Segments.ListDueAsync(At(100), 10)));
        Assert.Equal(["cus-bob"], await MembersAsync("vip"));
        Assert.Equal(1, Size(await ReadAsync(s => s.Segments.GetSizesAsync()), "vip"));
    }

    /// <summary>Due customers are those due at or before now, earliest first, at most <c>max</c>; states without a due
    /// time are never listed; a re-saved state is listed at its new due time only.</summary>
    [Fact]
    public virtual async Task Due_customers_are_listed_earliest_first_up_to_max()
    {
        var c = Enumerable.Range(0, 5).Select(i => Customer($"cus-{i}")).ToArray();
        await WriteAsync(async s =>
        {
            await s.Segments.SaveAsync(SegmentState(c[0], At(40)), 0);
            await s.Segments.SaveAsync(SegmentState(c[1], At(10)), 0);
            await s.Segments.SaveAsync(SegmentState(c[2], null), 0);
            await s.Segments.SaveAsync(SegmentState(c[3], At(30)), 0);
        });
        await WriteAsync(s => s.Segments.SaveAsync(SegmentState(c[4], At(20)), 0));

        Assert.Equal([c[1], c[4], c[3], c[0]], await ReadAsync(s => s.Segments.ListDueAsync(At(40), 10)));
        Assert.Equal([c[1], c[4]], await ReadAsync(s => s.Segments.ListDueAsync(At(100), 2)));
        Assert.Empty(await ReadAsync(s => s.Segments.ListDueAsync(At(9), 10)));

        await WriteAsync(async s =>
        {
            await s.Segments.SaveAsync(SegmentState(c[1], At(50)), 1);
            await s.Segments.SaveAsync(SegmentState(c[3], null), 1);
        });

        Assert.Equal([c[4], c[0], c[1]], await ReadAsync(s => s.Segments.ListDueAsync(At(60), 10)));
    }

    /// <summary>Due segment work is claimed with leases: another owner's claim skips leased states until the lease
    /// lapses; saving a state ends its lease.</summary>
    [Fact]
    public virtual async Task Due_customers_are_claimed_with_leases()
    {
        var c = Enumerable.Range(0, 3).Select(i => Customer($"cus-{i}")).ToArray();
        await WriteAsync(async s =>
        {
            await s.Segments.SaveAsync(SegmentState(c[0], At(10)), 0);
            await s.Segments.SaveAsync(SegmentState(c[1], At(20)), 0);
            await s.Segments.SaveAsync(SegmentState(c[2], At(90)), 0);
        });
        var lease = NodaTime.Duration.FromMinutes(30);

        Assert.Equal([c[0]], await ReadAsync(s => s.Segments.ClaimDueAsync(At(50), 1, lease, "worker-a")));
        Assert.Equal([c[1]], await ReadAsync(s => s.Segments.ClaimDueAsync(At(50), 10, lease, "worker-b")));
        Assert.Empty(await ReadAsync(s => s.Segments.ClaimDueAsync(At(50), 10, lease, "worker-c")));
        Assert.Equal([c[0]], await ReadAsync(s => s.Segments.ClaimDueAsync(At(50), 10, lease, "worker-a")));

        await WriteAsync(s => s.Segments.SaveAsync(SegmentState(c[1], At(25)), 1));
        Assert.Equal([c[1]], await ReadAsync(s => s.Segments.ClaimDueAsync(At(51), 10, lease, "worker-c")));
        Assert.Equal([c[0]], await ReadAsync(s => s.Segments.ClaimDueAsync(At(80), 10, lease, "worker-d")));
    }

    /// <summary>States are listed in pages that give each state once, in the same order on every call, and counted.</summary>
    [Fact]
    public virtual async Task States_are_listed_in_stable_pages_and_counted()
    {
        var ids = new[] { "cus-k", "cus-B", "cus-a", "cus-z", "cus-m", "cus-0", "cus-q" };
        foreach (var id in ids)
        {
            await WriteAsync(s => s.Segments.SaveAsync(SegmentState(Customer(id), null), 0));
        }

        async Task<List<string>> AllAsync()
        {
            var all = new List<string>();
            for (var skip = 0; skip < 20; skip += 3)
            {
                var from = skip;
                var page = await ReadAsync(s => s.Segments.ListAsync(from, 3));
                Assert.True(page.Count <= 3);
                all.AddRange(page.Select(x => x.Customer.Value));
            }

            return all;
        }

        var first = await AllAsync();
        Assert.Equal(ids.Order(StringComparer.Ordinal), first.Order(StringComparer.Ordinal));
        Assert.Equal(first, await AllAsync());
        Assert.Equal(7, await ReadAsync(s => s.Segments.CountAsync()));
    }

    /// <summary>Memberships of saved states make the segments' sizes and members; a state saved without a segment
    /// leaves it.</summary>
    [Fact]
    public virtual async Task Saved_memberships_make_sizes_and_members()
    {
        await WriteAsync(async s =>
        {
            await s.Segments.SaveAsync(SegmentState(Ada, null, "vip", "new_customers"), 0);
            await s.Segments.SaveAsync(SegmentState(Bob, null, "vip"), 0);
            await s.Segments.SaveAsync(SegmentState(Cyd, null), 0);
        });

        var sizes = await ReadAsync(s => s.Segments.GetSizesAsync());
        Assert.Equal((2L, 1L, 0L), (Size(sizes, "vip"), Size(sizes, "new_customers"), Size(sizes, "lapsed")));
        Assert.Equal(["cus-ada", "cus-bob"], await MembersAsync("vip"));
        Assert.Empty(await MembersAsync("lapsed"));

        await WriteAsync(async s =>
        {
            await s.Segments.SaveAsync(SegmentState(Ada, null, "new_customers"), 1);
            await s.Segments.SaveAsync(SegmentState(Cyd, null, "vip"), 1);
        });

        sizes = await ReadAsync(s => s.Segments.GetSizesAsync());
        Assert.Equal((2L, 1L), (Size(sizes, "vip"), Size(sizes, "new_customers")));
        Assert.Equal(["cus-bob", "cus-cyd"], await MembersAsync("vip"));
    }

    /// <summary>Membership changes of a batch recompute update the customers' states (entered with their instant,
    /// exited removed), the sizes and the members; changes for customers without a state are ignored.</summary>
    [Fact]
    public virtual async Task Batch_membership_changes_update_states_sizes_and_members()
    {
        await WriteAsync(async s =>
        {
            await s.Segments.SaveAsync(SegmentState(Ada, null, "vip"), 0);
            await s.Segments.SaveAsync(SegmentState(Bob, null), 0);
        });

        await WriteAsync(s => s.Segments.ApplyChangesAsync(
        [
            new SegmentMembershipChange(Ada, "vip", false, At(100)),
            new SegmentMembershipChange(Ada, "lapsed", true, At(100)),
            new SegmentMembershipChange(Bob, "lapsed", true, At(101)),
            new SegmentMembershipChange(Customer("cus-ghost"), "lapsed", true, At(102)),
        ]));

        Assert.Equal(["lapsed"], (await ReadAsync(s => s.Segments.GetAsync(Ada)))!.Memberships.Keys);
        Assert.Equal(At(101), (await ReadAsync(s => s.Segments.GetAsync(Bob)))!.Memberships["lapsed"]);
        var sizes = await ReadAsync(s => s.Segments.GetSizesAsync());
        Assert.Equal((0L, 2L), (Size(sizes, "vip"), Size(sizes, "lapsed")));
        Assert.Equal(["cus-ada", "cus-bob"], await MembersAsync("lapsed"));
        Assert.Null(await ReadAsync(s => s.Segments.GetAsync(Customer("cus-ghost"))));
    }

    /// <summary>Recording sizes adds a point per segment to its history, oldest first, with the size and the entries and
    /// exits since the previous point.</summary>
    [Fact]
    public virtual async Task Size_history_records_sizes_with_entries_and_exits_since_the_previous_point()
    {
        await WriteAsync(async s =>
        {
            await s.Segments.SaveAsync(SegmentState(Ada, null, "vip"), 0);
            await s.Segments.SaveAsync(SegmentState(Bob, null, "vip"), 0);
        });
        await WriteAsync(s => s.Segments.RecordSizesAsync(At(100)));
        await WriteAsync(async s =>
        {
            await s.Segments.ApplyChangesAsync([new SegmentMembershipChange(Bob, "vip", false, At(150))]);
            await s.Segments.SaveAsync(SegmentState(Cyd, null, "vip"), 0);
        });
        await WriteAsync(s => s.Segments.RecordSizesAsync(At(200)));

        Assert.Equal(
            new[] { new SegmentSizePoint(At(100), 2, 2, 0), new SegmentSizePoint(At(200), 2, 1, 1) },
            await ReadAsync(s => s.Segments.GetSizeHistoryAsync("vip")));
        Assert.Empty(await ReadAsync(s => s.Segments.GetSizeHistoryAsync("unknown")));
    }

    /// <summary>A stale save is a concurrency conflict and changes nothing (memberships included).</summary>
    [Fact]
    public virtual async Task A_stale_save_is_a_concurrency_conflict_and_changes_nothing()
    {
        await WriteAsync(s => s.Segments.SaveAsync(SegmentState(Ada, null, "vip"), 0));
        await WriteAsync(s => s.Segments.SaveAsync(SegmentState(Ada, null, "vip", "lapsed"), 1));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Segments.SaveAsync(SegmentState(Ada, At(1), "new_customers"), 1);
                await session.CommitAsync();
            });
        }

        var stored = await ReadAsync(s => s.Segments.GetAsync(Ada));
        Assert.Equal(2, stored!.Version);
        Assert.Equal(["lapsed", "vip"], stored.Memberships.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(await MembersAsync("new_customers"));
        Assert.Empty(await ReadAsync(s => s.Segments.ListDueAsync(At(10), 10)));
    }
}
