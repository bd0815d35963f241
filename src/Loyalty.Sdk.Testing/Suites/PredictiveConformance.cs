using Loyalty.Sdk.Predictive;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IPredictiveRepository"/>: versioned purchase histories listed by customer id,
/// and the tenant's fitted model.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class PredictiveConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");

    /// <summary>A customer without purchases has no history.</summary>
    [Fact]
    public virtual async Task A_customer_without_purchases_has_no_history()
    {
        await WriteAsync(s => s.Predictive.SaveAsync(History(Customer("cus-bob")), 0));

        Assert.Null(await ReadAsync(s => s.Predictive.GetAsync(Ada)));
    }

    /// <summary>A history round-trips at version 1 and a save with expected version v stores version v + 1.</summary>
    [Fact]
    public virtual async Task Histories_round_trip_and_are_versioned()
    {
        await WriteAsync(s => s.Predictive.SaveAsync(History(Ada), 0));
        Deep.Equal(History(Ada) with { Version = 1 }, await ReadAsync(s => s.Predictive.GetAsync(Ada)));

        await WriteAsync(async s =>
        {
            var read = (await s.Predictive.GetAsync(Ada))!;
            await s.Predictive.SaveAsync(read with { PurchaseDays = read.PurchaseDays + 1, TotalSpend = 300.25m }, read.Version);
        });

        var stored = await ReadAsync(s => s.Predictive.GetAsync(Ada));
        Assert.Equal((2L, 4, 300.25m), (stored!.Version, stored.PurchaseDays, stored.TotalSpend));
    }

    /// <summary>A deleted history is gone (and not listed); it can be created again from version 0.</summary>
    [Fact]
    public virtual async Task A_deleted_history_is_gone()
    {
        await WriteAsync(s => s.Predictive.SaveAsync(History(Ada), 0));

        await WriteAsync(s => s.Predictive.DeleteAsync(Ada));

        Assert.Null(await ReadAsync(s => s.Predictive.GetAsync(Ada)));
        Assert.Empty(await ReadAsync(s => s.Predictive.ListAsync(0, 10)));
        await WriteAsync(s => s.Predictive.SaveAsync(History(Ada, 7), 0));
        Assert.Equal((1L, 7), ((await ReadAsync(s => s.Predictive.GetAsync(Ada)))!.Version, (await ReadAsync(s => s.Predictive.GetAsync(Ada)))!.PurchaseDays));
    }

    /// <summary>Histories are listed by customer id in ordinal order (upper case before lower case), in pages that
    /// partition the list.</summary>
    [Fact]
    public virtual async Task Histories_are_listed_by_customer_id_in_ordinal_order_and_paged()
    {
        var ids = new[] { "cus-b", "cus-Z", "cus-a", "cus-10", "cus-9", "cus-A" };
        foreach (var id in ids)
        {
            await WriteAsync(s => s.Predictive.SaveAsync(History(Customer(id)), 0));
        }

        var listed = new List<string>();
        for (var skip = 0; skip < 10; skip += 4)
        {
            var from = skip;
            listed.AddRange((await ReadAsync(s => s.Predictive.ListAsync(from, 4))).Select(h => h.Customer.Value));
        }

        Assert.Equal(ids.Order(StringComparer.Ordinal), listed);
    }

    /// <summary>A session lists the histories it saved and not those it deleted, before committing.</summary>
    [Fact]
    public virtual async Task A_session_lists_its_own_saves_and_deletes()
    {
        await WriteAsync(async s =>
        {
            await s.Predictive.SaveAsync(History(Customer("cus-b")), 0);
            await s.Predictive.SaveAsync(History(Customer("cus-c")), 0);
        });

        await using var session = await OpenAsync();
        await session.Predictive.SaveAsync(History(Customer("cus-a")), 0);
        await session.Predictive.DeleteAsync(Customer("cus-c"));

        Assert.Equal(["cus-a", "cus-b"], (await session.Predictive.ListAsync(0, 10)).Select(h => h.Customer.Value));
        Assert.Null(await session.Predictive.GetAsync(Customer("cus-c")));
    }

    /// <summary>The tenant's model is absent at first, round-trips, is replaced by the latest save, is read by its own
    /// session before commit, and is not kept without commit.</summary>
    [Fact]
    public virtual async Task The_model_is_replaced_by_the_latest_committed_save()
    {
        Assert.Null(await ReadAsync(s => s.Predictive.GetModelAsync()));
        await WriteAsync(s => s.Predictive.SaveModelAsync(Model(100)));
        Deep.Equal(Model(100), await ReadAsync(s => s.Predictive.GetModelAsync()));

        await WriteAsync(s => s.Predictive.SaveModelAsync(Model(200) with { P = null, Q = null, V = null, ClvPercentiles = [] }));
        await using (var session = await OpenAsync())
        {
            await session.Predictive.SaveModelAsync(Model(300));
            Assert.Equal(300, (await session.Predictive.GetModelAsync())!.Customers);
        }

        Deep.Equal(Model(200) with { P = null, Q = null, V = null, ClvPercentiles = [] }, await ReadAsync(s => s.Predictive.GetModelAsync()));
    }

    /// <summary>A stale save is a concurrency conflict and changes nothing.</summary>
    [Fact]
    public virtual async Task A_stale_save_is_a_concurrency_conflict_and_changes_nothing()
    {
        await WriteAsync(s => s.Predictive.SaveAsync(History(Ada, 3), 0));
        await WriteAsync(s => s.Predictive.SaveAsync(History(Ada, 4), 1));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Predictive.SaveAsync(History(Ada, 99), 1);
                await session.CommitAsync();
            });
        }

        var stored = await ReadAsync(s => s.Predictive.GetAsync(Ada));
        Assert.Equal((2L, 4), (stored!.Version, stored.PurchaseDays));
    }
}
