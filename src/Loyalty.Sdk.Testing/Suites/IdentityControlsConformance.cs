using Loyalty.Sdk.Identity;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IIdentityControlRepository"/>: the tenant's blocklist, sharing counts with a
/// cap, symmetric "do not link again" rules, the review queue, and the paged list of active customers.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class IdentityControlsConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly CustomerId Bob = Customer("cus-bob");
    private static readonly CustomerId Cyd = Customer("cus-cyd");

    private static BlockedValue Block(Identifier identifier, int minute, string reason = "shared store address", bool automatic = true) =>
        new(identifier, reason, At(minute), automatic, 3);

    /// <summary>A block round-trips, is found by its exact identifier (read by its own session first), and blocking an
    /// identifier again replaces its block.</summary>
    [Fact]
    public virtual async Task Blocks_are_found_by_identifier_and_replaced_by_a_new_block()
    {
        await using (var session = await OpenAsync())
        {
            Assert.Null(await session.IdentityControls.GetBlockAsync(Email("store@conformance.example")));
            await session.IdentityControls.BlockAsync(Block(Email("store@conformance.example"), 1));
            Assert.NotNull(await session.IdentityControls.GetBlockAsync(Email("store@conformance.example")));
            await session.CommitAsync();
        }

        Deep.Equal(Block(Email("store@conformance.example"), 1), await ReadAsync(s => s.IdentityControls.GetBlockAsync(Email("store@conformance.example"))));
        Assert.Null(await ReadAsync(s => s.IdentityControls.GetBlockAsync(Email("STORE@conformance.example"))));
        Assert.Null(await ReadAsync(s => s.IdentityControls.GetBlockAsync(Phone("store@conformance.example"))));

        await WriteAsync(s => s.IdentityControls.BlockAsync(Block(Email("store@conformance.example"), 9, "staff decision", false)));

        Deep.Equal(Block(Email("store@conformance.example"), 9, "staff decision", false), await ReadAsync(s => s.IdentityControls.GetBlockAsync(Email("store@conformance.example"))));
        Assert.Single(await ReadAsync(s => s.IdentityControls.ListBlocksAsync()));
    }

    /// <summary>Every block of the tenant is listed, oldest blocked first.</summary>
    [Fact]
    public virtual async Task Every_block_is_listed_oldest_first()
    {
        await WriteAsync(async s =>
        {
            await s.IdentityControls.BlockAsync(Block(Email("b@conformance.example"), 20));
            await s.IdentityControls.BlockAsync(Block(Phone("+33600000001"), 10));
        });
        await WriteAsync(s => s.IdentityControls.BlockAsync(Block(Device("dev-1"), 15)));

        var blocks = await ReadAsync(s => s.IdentityControls.ListBlocksAsync());

        Assert.Equal([At(10), At(15), At(20)], blocks.Select(b => b.BlockedAt));
        Deep.Equal(Block(Device("dev-1"), 15), blocks[1]);
    }

    /// <summary>Sharing counts the distinct customers an identifier tried to link, across sessions, each customer once,
    /// per identifier, and stops counting at the cap.</summary>
    [Fact]
    public virtual async Task Sharing_counts_distinct_customers_up_to_the_cap()
    {
        var shared = Email("family@conformance.example");
        await WriteAsync(async s =>
        {
            Assert.Equal(1, await s.IdentityControls.RecordSharingAsync(shared, Ada, 3));
            Assert.Equal(1, await s.IdentityControls.RecordSharingAsync(shared, Ada, 3));
            Assert.Equal(1, await s.IdentityControls.RecordSharingAsync(Email("other@conformance.example"), Bob, 3));
        });
        await WriteAsync(async s =>
        {
            Assert.Equal(2, await s.IdentityControls.RecordSharingAsync(shared, Bob, 3));
            Assert.Equal(2, await s.IdentityControls.RecordSharingAsync(shared, Ada, 3));
        });

        await WriteAsync(async s =>
        {
            Assert.Equal(3, await s.IdentityControls.RecordSharingAsync(shared, Cyd, 3));
            Assert.Equal(3, await s.IdentityControls.RecordSharingAsync(shared, Customer("cus-dan"), 3));
        });

        Assert.Equal(3, await ReadAsync(s => s.IdentityControls.RecordSharingAsync(shared, Customer("cus-eve"), 3)));
        Assert.Equal(2, await ReadAsync(s => s.IdentityControls.RecordSharingAsync(Email("other@conformance.example"), Ada, 3)));
    }

    /// <summary>Sharing recorded in a session disposed without commit is not kept.</summary>
    [Fact]
    public virtual async Task Sharing_is_kept_only_on_commit()
    {
        var shared = Email("family@conformance.example");
        await WriteAsync(async s => Assert.Equal(1, await s.IdentityControls.RecordSharingAsync(shared, Ada, 5)));
        await using (var session = await OpenAsync())
        {
            Assert.Equal(2, await session.IdentityControls.RecordSharingAsync(shared, Bob, 5));
        }

        Assert.Equal(2, await ReadAsync(s => s.IdentityControls.RecordSharingAsync(shared, Cyd, 5)));
    }

    /// <summary>A "do not link again" rule separates the two customers in either order, and only them.</summary>
    [Fact]
    public virtual async Task Do_not_link_rules_are_symmetric()
    {
        await using (var session = await OpenAsync())
        {
            Assert.False(await session.IdentityControls.IsDoNotLinkAsync(Ada, Bob));
            await session.IdentityControls.AddDoNotLinkAsync(new DoNotLinkRule(Bob, Ada, "staff-1", "different people", At(1)));
            Assert.True(await session.IdentityControls.IsDoNotLinkAsync(Ada, Bob));
            await session.CommitAsync();
        }

        Assert.True(await ReadAsync(s => s.IdentityControls.IsDoNotLinkAsync(Ada, Bob)));
        Assert.True(await ReadAsync(s => s.IdentityControls.IsDoNotLinkAsync(Bob, Ada)));
        Assert.False(await ReadAsync(s => s.IdentityControls.IsDoNotLinkAsync(Ada, Cyd)));
        Assert.False(await ReadAsync(s => s.IdentityControls.IsDoNotLinkAsync(Cyd, Bob)));
    }

    /// <summary>The review queue lists pairs oldest queued first with every field; saving a pair again (in either
    /// order) replaces its review.</summary>
    [Fact]
    public virtual async Task Reviews_are_queued_oldest_first_and_replaced_per_pair_in_either_order()
    {
        var first = new MergeReview(Ada, Bob, 0.95, 12.5, ["email: exact (+8.1)", "name: similar (+4.4)"], At(20));
        var second = new MergeReview(Cyd, Ada, 0.91, 10.25, ["phone: exact (+10.25)"], At(10));
        await WriteAsync(async s =>
        {
            await s.IdentityControls.SaveReviewAsync(first);
            await s.IdentityControls.SaveReviewAsync(second);
        });

        var queue = await ReadAsync(s => s.IdentityControls.ListReviewsAsync());
        Deep.Equal(new[] { second, first }, queue);

        await WriteAsync(s => s.IdentityControls.SaveReviewAsync(new MergeReview(Bob, Ada, 0.95, 12.5, [], At(20)) { Status = MergeReviewStatus.Rejected }));

        queue = await ReadAsync(s => s.IdentityControls.ListReviewsAsync());
        Assert.Equal(2, queue.Count);
        Assert.Equal(MergeReviewStatus.Rejected, queue.Single(r => r.Left == Bob || r.Right == Bob).Status);
    }

    /// <summary>Erasing a customer removes it from the sharing counts of the identifiers given and deletes the rules
    /// and reviews that name it (only those), on commit; blocks stay.</summary>
    [Fact]
    public virtual async Task Erasure_removes_the_customer_from_sharing_rules_and_reviews()
    {
        var shared = Email("family@conformance.example");
        await WriteAsync(async s =>
        {
            await s.IdentityControls.RecordSharingAsync(shared, Ada, 5);
            await s.IdentityControls.RecordSharingAsync(shared, Bob, 5);
            await s.IdentityControls.RecordSharingAsync(Email("ada@conformance.example"), Ada, 5);
            await s.IdentityControls.AddDoNotLinkAsync(new DoNotLinkRule(Ada, Bob, "staff-1", "different people", At(1)));
            await s.IdentityControls.AddDoNotLinkAsync(new DoNotLinkRule(Bob, Cyd, "staff-1", "different people", At(2)));
            await s.IdentityControls.SaveReviewAsync(new MergeReview(Cyd, Ada, 0.91, 10.25, ["name: Ada Lovelace (+10.25)"], At(3)));
            await s.IdentityControls.SaveReviewAsync(new MergeReview(Bob, Cyd, 0.92, 11, [], At(4)));
            await s.IdentityControls.BlockAsync(Block(shared, 5));
        });

        await using (var discarded = await OpenAsync())
        {
            await discarded.IdentityControls.EraseCustomerAsync(Ada, [shared, Email("ada@conformance.example")]);
        }

        Assert.True(await ReadAsync(s => s.IdentityControls.IsDoNotLinkAsync(Ada, Bob)));

        await WriteAsync(s => s.IdentityControls.EraseCustomerAsync(Ada, [shared, Email("ada@conformance.example")]));

        Assert.False(await ReadAsync(s => s.IdentityControls.IsDoNotLinkAsync(Ada, Bob)));
        Assert.True(await ReadAsync(s => s.IdentityControls.IsDoNotLinkAsync(Bob, Cyd)));
        Assert.Equal([(Bob, Cyd)], (await ReadAsync(s => s.IdentityControls.ListReviewsAsync())).Select(r => (r.Left, r.Right)));
        Assert.Equal(2, await ReadAsync(s => s.IdentityControls.RecordSharingAsync(shared, Cyd, 5)));      // Bob and Cyd
        Assert.Equal(1, await ReadAsync(s => s.IdentityControls.RecordSharingAsync(Email("ada@conformance.example"), Cyd, 5)));
        Assert.NotNull(await ReadAsync(s => s.IdentityControls.GetBlockAsync(shared)));
    }

    /// <summary>Active customers (not absorbed) are listed as committed, in stable pages that give each once; a
    /// session's uncommitted identities are not listed.</summary>
    [Fact]
    public virtual async Task Active_customers_are_listed_as_committed_in_stable_pages()
    {
        var ids = new[] { "cus-k", "cus-B", "cus-a", "cus-z", "cus-m" };
        await WriteAsync(async s =>
        {
            foreach (var id in ids)
            {
                await s.Identity.SaveAsync(IdentityOf(Customer(id), Email(id + "@conformance.example")), 0);
            }

            await s.Identity.SaveAsync(IdentityOf(Customer("cus-gone-1")) with { MergedInto = Customer("cus-k") }, 0);
            await s.Identity.SaveAsync(IdentityOf(Customer("cus-gone-2")) with { MergedInto = Customer("cus-a") }, 0);
        });

        await using var session = await OpenAsync();
        await session.Identity.SaveAsync(IdentityOf(Customer("cus-pending")), 0);
        async Task<List<string>> AllAsync()
        {
            var all = new List<string>();
            for (var skip = 0; skip < 10; skip += 2)
            {
                var page = await session.IdentityControls.ListCustomersAsync(skip, 2);
                Assert.True(page.Count <= 2);
                Assert.All(page, i => Assert.Null(i.MergedInto));
                all.AddRange(page.Select(i => i.Customer.Value));
            }

            return all;
        }

        var listed = await AllAsync();
        Assert.Equal(ids.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        Assert.Equal(listed, await AllAsync());
    }

    /// <summary>Blocks, rules and reviews of a session disposed without commit are not kept.</summary>
    [Fact]
    public virtual async Task Controls_are_kept_only_on_commit()
    {
        await using (var session = await OpenAsync())
        {
            await session.IdentityControls.BlockAsync(Block(Email("store@conformance.example"), 1));
            await session.IdentityControls.AddDoNotLinkAsync(new DoNotLinkRule(Ada, Bob, "staff", "why", At(1)));
            await session.IdentityControls.SaveReviewAsync(new MergeReview(Ada, Bob, 0.9, 10, [], At(1)));
        }

        Assert.Null(await ReadAsync(s => s.IdentityControls.GetBlockAsync(Email("store@conformance.example"))));
        Assert.Empty(await ReadAsync(s => s.IdentityControls.ListBlocksAsync()));
        Assert.False(await ReadAsync(s => s.IdentityControls.IsDoNotLinkAsync(Ada, Bob)));
        Assert.Empty(await ReadAsync(s => s.IdentityControls.ListReviewsAsync()));
    }
}
