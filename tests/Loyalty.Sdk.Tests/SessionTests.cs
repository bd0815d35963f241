using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.InMemory;
using Loyalty.Sdk.Validation;
using NodaTime;
using static Loyalty.Sdk.Tests.Ev;

namespace Loyalty.Sdk.Tests;

/// <summary>A ledger stage that fails after identity and profile have written to the session.</summary>
internal sealed class ExplodingLedgerStage : ILedgerStage
{
    public ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("The ledger is on fire.");
}

public sealed class SessionTests
{
    private static readonly CustomerId Customer = new("cus_session");

    private static CustomerIdentity Identity(long version = 0) => new()
    {
        Customer = Customer,
        FirstSeen = Fixed.DaysAgo(1),
        Links = [new IdentityLink(Ada, new EventId("evt-1"), Fixed.Now, IdentityStage.NewCustomerRule)],
        Version = version,
    };

    private static CustomerProfile Profile(string givenName, long version = 0) => new()
    {
        Customer = Customer, FirstSeen = Fixed.DaysAgo(1), LastSeen = Fixed.DaysAgo(1), GivenName = givenName, Version = version,
    };

    private static OrderRecord StoredOrder(long version = 0) => new()
    {
        OrderId = "ord-1", Customer = Customer, PlacedAt = Fixed.DaysAgo(1), Currency = Currency.Eur, Lines = [Line("l1", 1, 10m)], Total = 10m, Version = version,
    };

    private static Decision Decision() => new()
    {
        Capability = Capabilities.Identity, Action = "customer_created", Rule = IdentityStage.NewCustomerRule, Summary = "Created.",
        Customer = Customer, CausedBy = new EventId("evt-1"), DecidedAt = Fixed.Now,
    };

    private static async Task WriteEverythingAsync(ILoyaltyStoreSession session)
    {
        await session.Events.AddAsync(new ProcessedEvent(new EventId("evt-1"), Customer, Fixed.Now));
        await session.Identity.SaveAsync(Identity(), 0);
        await session.Profiles.SaveAsync(Profile("Ada"), 0);
        await session.Orders.SaveAsync(StoredOrder(), 0);
        await session.Decisions.AppendAsync([Decision()]);
        Assert.True(await session.Outbox.EnqueueAsync(new OutboxMessage
        {
            Key = "welcome:cus_session", Tenant = Fixed.Tenant, Customer = Customer, ActionKind = "send_message", DueAt = Fixed.Now,
        }));
    }

    private static async Task<ILoyaltyStoreSession> OpenAsync(InMemoryLoyaltyStore store, TenantId? tenant = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        return await store.OpenSessionAsync(tenant ?? Fixed.Tenant, timeout.Token);
    }

    [Fact]
    public async Task A_session_reads_its_own_writes_and_disposing_it_without_commit_discards_them_all()
    {
        var store = new InMemoryLoyaltyStore();

        await using (var session = await OpenAsync(store))
        {
            await WriteEverythingAsync(session);

            Assert.NotNull(await session.Events.FindAsync(new EventId("evt-1")));
            Assert.Equal(Customer, await session.Identity.FindByIdentifierAsync(Ada));
            Assert.Equal(1, (await session.Identity.GetAsync(Customer))!.Version);
            Assert.Equal("Ada", (await session.Profiles.GetAsync(Customer))!.GivenName);
            Assert.NotNull(await session.Orders.GetAsync("ord-1"));
            Assert.Single(await session.Decisions.ListAsync(Customer, 0, 10));
        }

        Assert.Equal(StoreCounts.Empty, StoreCounts.Of(store, Fixed.Tenant));
        await using var after = await OpenAsync(store);
        Assert.Null(await after.Events.FindAsync(new EventId("evt-1")));
        Assert.Null(await after.Identity.FindByIdentifierAsync(Ada));
        Assert.Null(await after.Identity.GetAsync(Customer));
        Assert.Null(await after.Profiles.GetAsync(Customer));
        Assert.Null(await after.Orders.GetAsync("ord-1"));
        Assert.Empty(await after.Decisions.ListAsync(Customer, 0, 10));
        Assert.Equal(0, await store.Outbox.CountPendingAsync(Fixed.Tenant));
    }

    [Fact]
    public async Task Commit_applies_every_write_with_versions_incremented()
    {
        var store = new InMemoryLoyaltyStore();

        await using (var session = await OpenAsync(store))
        {
            await WriteEverythingAsync(session);
            await session.CommitAsync();
        }

        Assert.Equal(new StoreCounts(1, 1, 1, 1, 1, 1, 1), StoreCounts.Of(store, Fixed.Tenant));
        await using var after = await OpenAsync(store);
        Assert.Equal(Customer, await after.Identity.FindByIdentifierAsync(Ada));
        Assert.Equal(1, (await after.Identity.GetAsync(Customer))!.Version);
        Assert.Equal(1, (await after.Profiles.GetAsync(Customer))!.Version);
        Assert.Equal(1, (await after.Orders.GetAsync("ord-1"))!.Version);
        Assert.Equal(1, await store.Outbox.CountPendingAsync(Fixed.Tenant));
    }

    [Fact]
    public async Task Saving_twice_in_one_session_checks_the_first_expected_version_and_stores_the_last_value()
    {
        var store = new InMemoryLoyaltyStore();
        await using (var session = await OpenAsync(store))
        {
            await session.Profiles.SaveAsync(Profile("Ada"), 0);
            await session.Profiles.SaveAsync(Profile("Augusta", 1), 1);
            await session.CommitAsync();
        }

        await using var after = await OpenAsync(store);
        var profile = await after.Profiles.GetAsync(Customer);
        Assert.Equal(("Augusta", 2L), (profile!.GivenName, profile.Version));
    }

    [Theory]
    [InlineData("profile")]
    [InlineData("identity")]
    [InlineData("order")]
    public async Task A_save_with_a_wrong_expected_version_fails_the_commit_and_applies_nothing(string which)
    {
        var store = new InMemoryLoyaltyStore();
        await using (var setup = await OpenAsync(store))
        {
            await setup.Identity.SaveAsync(Identity(), 0);
            await setup.Profiles.SaveAsync(Profile("Ada"), 0);
            await setup.Orders.SaveAsync(StoredOrder(), 0);
            await setup.CommitAsync();
        }

        var countsBefore = StoreCounts.Of(store, Fixed.Tenant);

        await using (var session = await OpenAsync(store))
        {
            // Good writes first, then one stale write (expected version 0 while version 1 is stored).
            await session.Events.AddAsync(new ProcessedEvent(new EventId("evt-2"), Customer, Fixed.Now));
            await session.Identity.SaveAsync(Identity(1) with { Customer = new CustomerId("cus_other"), Links = [new IdentityLink(Email("other@example.com"), new EventId("evt-2"), Fixed.Now, "r")] }, 0);
            await session.Decisions.AppendAsync([Decision()]);
            await session.Outbox.EnqueueAsync(new OutboxMessage { Key = "k", Tenant = Fixed.Tenant, Customer = Customer, ActionKind = "a", DueAt = Fixed.Now });
            switch (which)
            {
                case "profile":
                    await session.Profiles.SaveAsync(Profile("Mallory"), 0);
                    break;
                case "identity":
                    await session.Identity.SaveAsync(Identity() with { FirstSeen = Fixed.DaysAgo(99) }, 0);
                    break;
                default:
                    await session.Orders.SaveAsync(StoredOrder() with { Completed = true }, 0);
                    break;
            }

            var ex = await Assert.ThrowsAsync<ConcurrencyConflictException>(async () => await session.CommitAsync());
            Assert.Contains("version 1, not 0", ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(countsBefore, StoreCounts.Of(store, Fixed.Tenant));
        await using var after = await OpenAsync(store);
        Assert.Null(await after.Events.FindAsync(new EventId("evt-2")));
        Assert.Null(await after.Identity.GetAsync(new CustomerId("cus_other")));
        Assert.Null(await after.Identity.FindByIdentifierAsync(Email("other@example.com")));
        Assert.Equal("Ada", (await after.Profiles.GetAsync(Customer))!.GivenName);
        Assert.Equal(Fixed.DaysAgo(1), (await after.Identity.GetAsync(Customer))!.FirstSeen);
        Assert.False((await after.Orders.GetAsync("ord-1"))!.Completed);
        Assert.Empty(await after.Decisions.ListAsync(Customer, 0, 10));
        Assert.Equal(0, await store.Outbox.CountPendingAsync(Fixed.Tenant));
    }

    [Fact]
    public async Task Recording_an_event_id_that_was_already_ingested_is_a_conflict()
    {
        var store = new InMemoryLoyaltyStore();
        await using (var session = await OpenAsync(store))
        {
            await session.Events.AddAsync(new ProcessedEvent(new EventId("evt-1"), Customer, Fixed.Now));
            await Assert.ThrowsAsync<ConcurrencyConflictException>(async () => await session.Events.AddAsync(new ProcessedEvent(new EventId("evt-1"), Customer, Fixed.Now)));
            await session.CommitAsync();
        }

        await using var next = await OpenAsync(store);
        await Assert.ThrowsAsync<ConcurrencyConflictException>(async () => await next.Events.AddAsync(new ProcessedEvent(new EventId("evt-1"), null, Fixed.Now)));
    }

    [Fact]
    public async Task A_disposed_session_cannot_commit()
    {
        var store = new InMemoryLoyaltyStore();
        var session = await OpenAsync(store);
        await session.Profiles.SaveAsync(Profile("Ada"), 0);
        await session.DisposeAsync();
        await session.DisposeAsync(); // idempotent

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await session.CommitAsync());
        Assert.Equal(StoreCounts.Empty, StoreCounts.Of(store, Fixed.Tenant));
    }

    [Fact]
    public async Task Sessions_of_one_tenant_are_serialized_while_other_tenants_proceed()
    {
        var store = new InMemoryLoyaltyStore();
        var first = await OpenAsync(store);

        var second = store.OpenSessionAsync(Fixed.Tenant).AsTask();
        await using (var other = await OpenAsync(store, Fixed.OtherTenant))
        {
            Assert.Equal(Fixed.OtherTenant, other.Tenant);
        }

        await Task.Delay(50);
        Assert.False(second.IsCompleted);

        using (var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(20)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.OpenSessionAsync(Fixed.Tenant, cancelled.Token));
        }

        await first.DisposeAsync();
        await using var acquired = await second.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(Fixed.Tenant, acquired.Tenant);
    }

    [Fact]
    public async Task An_exception_in_a_later_stage_leaves_nothing_of_the_event()
    {
        var h = new Harness(ledger: [new ExplodingLedgerStage()]);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await h.Engine.IngestAsync(Order("evt-1", "ord-1")));

        Assert.Equal(StoreCounts.Empty, h.Counts());

        // The tenant is not left locked.
        await using var session = await h.OpenAsync();
        Assert.Null(await session.Events.FindAsync(new EventId("evt-1")));
    }

    [Fact]
    public async Task Concurrent_ingestion_for_one_customer_loses_no_update()
    {
        var h = new Harness();

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () => await h.Engine.IngestAsync(Order($"evt-{i}", $"ord-{i}", lines: [Line("l1", 1, 10m)])))));

        Assert.All(results, r => Assert.Equal(IngestOutcome.Applied, r.Outcome));
        Assert.Single(results.Select(r => r.Customer).Distinct());
        Assert.Single(results, r => r.NewCustomer);
        var profile = await h.ProfileAsync(results[0].Customer!.Value);
        Assert.Equal((40, 400m), (profile!.Traits.Orders, profile.Traits.GrossSpend));
        Assert.Equal(40, h.Counts().Events);
    }

    [Fact]
    public async Task The_same_event_ingested_concurrently_is_applied_exactly_once()
    {
        var h = new Harness();
        var e = Order("evt-1", "ord-1");

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () => await h.Engine.IngestAsync(e))));

        Assert.Single(results, r => r.Outcome == IngestOutcome.Applied);
        Assert.Equal(19, results.Count(r => r.Outcome == IngestOutcome.Duplicate));
        Assert.Single(results.Select(r => r.Customer).Distinct());
        Assert.Equal(1, (await h.ProfileAsync(results[0].Customer!.Value))!.Traits.Orders);
    }
}
