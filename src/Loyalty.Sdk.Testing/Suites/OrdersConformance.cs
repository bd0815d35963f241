using Loyalty.Sdk.Storage;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IOrderRepository"/>: orders by id with optimistic versions, listed per customer.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class OrdersConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly CustomerId Bob = Customer("cus-bob");

    /// <summary>An unknown order is not found.</summary>
    [Fact]
    public virtual async Task An_unknown_order_is_not_found()
    {
        await WriteAsync(s => s.Orders.SaveAsync(Order("ord-1", Ada), 0));

        Assert.Null(await ReadAsync(s => s.Orders.GetAsync("ord-2")));
    }

    /// <summary>A new order round-trips at version 1: lines, returned quantities, applied returns, amounts.</summary>
    [Fact]
    public virtual async Task A_new_order_round_trips_at_version_1()
    {
        await WriteAsync(s => s.Orders.SaveAsync(Order("ord-1", Ada), 0));

        Deep.Equal(Order("ord-1", Ada) with { Version = 1 }, await ReadAsync(s => s.Orders.GetAsync("ord-1")));
    }

    /// <summary>A save with expected version v stores version v + 1 and the new values (a return applied).</summary>
    [Fact]
    public virtual async Task A_save_with_expected_version_v_stores_version_v_plus_1()
    {
        await WriteAsync(s => s.Orders.SaveAsync(Order("ord-1", Ada) with { ReturnedQuantities = new Dictionary<string, int>(), AppliedReturns = [] }, 0));
        await WriteAsync(async s =>
        {
            var read = (await s.Orders.GetAsync("ord-1"))!;
            await s.Orders.SaveAsync(read with { ReturnedQuantities = new Dictionary<string, int> { ["l1"] = 2, ["l2"] = 1 }, AppliedReturns = ["ret-9"] }, read.Version);
        });

        var stored = await ReadAsync(s => s.Orders.GetAsync("ord-1"));
        Assert.Equal(2, stored!.Version);
        Deep.Equal(new Dictionary<string, int> { ["l1"] = 2, ["l2"] = 1 }, stored.ReturnedQuantities);
        Assert.Equal(["ret-9"], stored.AppliedReturns);
    }

    /// <summary>Order ids are exact: ids that differ only by case are different orders.</summary>
    [Fact]
    public virtual async Task Order_ids_are_case_sensitive()
    {
        await WriteAsync(async s =>
        {
            await s.Orders.SaveAsync(Order("ORD-1", Ada), 0);
            await s.Orders.SaveAsync(Order("ord-1", Bob), 0);
        });

        Assert.Equal(Ada, (await ReadAsync(s => s.Orders.GetAsync("ORD-1")))!.Customer);
        Assert.Equal(Bob, (await ReadAsync(s => s.Orders.GetAsync("ord-1")))!.Customer);
    }

    /// <summary>A customer's orders are listed oldest placed first, without other customers' orders.</summary>
    [Fact]
    public virtual async Task A_customers_orders_are_listed_oldest_placed_first()
    {
        await WriteAsync(async s =>
        {
            await s.Orders.SaveAsync(Order("ord-c", Ada, 30), 0);
            await s.Orders.SaveAsync(Order("ord-a", Ada, 10), 0);
            await s.Orders.SaveAsync(Order("ord-x", Bob, 20), 0);
        });
        await WriteAsync(s => s.Orders.SaveAsync(Order("ord-b", Ada, 20), 0));

        var orders = await ReadAsync(s => s.Orders.ListByCustomerAsync(Ada));

        Assert.Equal(["ord-a", "ord-b", "ord-c"], orders.Select(o => o.OrderId));
        Deep.Equal(Order("ord-b", Ada, 20) with { Version = 1 }, orders[1]);
        Assert.Empty(await ReadAsync(s => s.Orders.ListByCustomerAsync(Customer("cus-none"))));
    }

    /// <summary>A session reads the orders it saved before committing them, by id and in the customer's list.</summary>
    [Fact]
    public virtual async Task A_session_reads_its_own_order_writes()
    {
        await WriteAsync(s => s.Orders.SaveAsync(Order("ord-1", Ada, 1), 0));

        await using var session = await OpenAsync();
        await session.Orders.SaveAsync(Order("ord-2", Ada, 2), 0);
        await session.Orders.SaveAsync(Order("ord-1", Ada, 1) with { Completed = false }, 1);

        Assert.Equal(1, (await session.Orders.GetAsync("ord-2"))!.Version);
        Assert.Equal(2, (await session.Orders.GetAsync("ord-1"))!.Version);
        var listed = await session.Orders.ListByCustomerAsync(Ada);
        Assert.Equal(["ord-1", "ord-2"], listed.Select(o => o.OrderId));
        Assert.False(listed[0].Completed);
    }

    /// <summary>A save with a stale expected version fails with a concurrency conflict and changes nothing.</summary>
    [Fact]
    public virtual async Task A_stale_save_is_a_concurrency_conflict_and_changes_nothing()
    {
        await WriteAsync(s => s.Orders.SaveAsync(Order("ord-1", Ada) with { Completed = false }, 0));
        await WriteAsync(s => s.Orders.SaveAsync(Order("ord-1", Ada) with { Completed = true }, 1));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Orders.SaveAsync(Order("ord-1", Ada) with { Completed = false, Total = 1m }, 1);
                await session.CommitAsync();
            });
        }

        var stored = await ReadAsync(s => s.Orders.GetAsync("ord-1"));
        Assert.Equal((2L, true, 144.90m), (stored!.Version, stored.Completed, stored.Total));
    }
}
