using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Validation;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>
/// The contract of <see cref="ILoyaltyStore"/> and <see cref="ILoyaltyStoreSession"/> as a unit of work across every
/// repository: atomic commit, nothing without commit, reading one's own writes, optimistic concurrency (a conflict
/// applies nothing of the session), and tenant isolation.
/// </summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class UnitOfWorkConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");

    private Task<IReadOnlyList<string>> PresentAsync(string tag, int n, TenantId? tenant = null) =>
        ReadAsync(s => EveryRepository.PresentAsync(s, tag, n), tenant);

    /// <summary>A commit applies the writes of every repository.</summary>
    [Fact]
    public virtual async Task A_commit_applies_the_writes_of_every_repository()
    {
        await WriteAsync(s => EveryRepository.WriteAsync(s, "one", 1));

        Assert.Equal(EveryRepository.Parts, await PresentAsync("one", 1));
        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
    }

    /// <summary>A session disposed without commit applies nothing, in any repository.</summary>
    [Fact]
    public virtual async Task A_session_disposed_without_commit_applies_nothing()
    {
        await using (var session = await OpenAsync())
        {
            await EveryRepository.WriteAsync(session, "one", 1);
        }

        Assert.Empty(await PresentAsync("one", 1));
        Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
    }

    /// <summary>A session reads its own writes in every repository before committing them (journey counters, which
    /// are applied on commit, excepted).</summary>
    [Fact]
    public virtual async Task A_session_reads_its_own_writes_in_every_repository()
    {
        await using var session = await OpenAsync();
        await EveryRepository.WriteAsync(session, "one", 1);

        Assert.Equal(EveryRepository.Parts.Where(p => p != "journey-counter"), (await EveryRepository.PresentAsync(session, "one", 1)).Where(p => p != "journey-counter"));
    }

    /// <summary>
    /// A conflict in one repository fails the commit with a <see cref="ConcurrencyConflictException"/>, and nothing of
    /// the session is applied, in any repository: the case is a record created by another session first (a new record
    /// saved with expected version 0 where version 1 is stored), an event id or ledger command key already recorded,
    /// or a transfer id already in the journal.
    /// </summary>
    /// <param name="conflict">The repository whose write conflicts.</param>
    [Theory]
    [InlineData("event")]
    [InlineData("identity")]
    [InlineData("profile")]
    [InlineData("order")]
    [InlineData("ledger-state")]
    [InlineData("ledger-command")]
    [InlineData("ledger-order")]
    [InlineData("ledger-transfer")]
    [InlineData("preferences")]
    [InlineData("segment-state")]
    [InlineData("purchase-history")]
    [InlineData("journey")]
    public virtual async Task A_conflict_in_any_repository_applies_nothing_of_the_session(string conflict)
    {
        await WriteAsync(s => EveryRepository.WriteAsync(s, "base", 1));
        var baseCustomer = EveryRepository.CustomerOf("base");

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await EveryRepository.WriteAsync(session, "late", 2);
                switch (conflict)
                {
                    case "event":
                        await session.Events.AddAsync(Processed("evt-base", baseCustomer));
                        break;
                    case "identity":
                        await session.Identity.SaveAsync(IdentityOf(baseCustomer, Email("late@other.example")), 0);
                        break;
                    case "profile":
                        await session.Profiles.SaveAsync(Profile(baseCustomer, "Late"), 0);
                        break;
                    case "order":
                        await session.Orders.SaveAsync(Order("ord-base", baseCustomer) with { Total = 1m }, 0);
                        break;
                    case "ledger-state":
                        await session.Ledger.SaveAsync(new Loyalty.Sdk.Ledger.CustomerLedger(baseCustomer), 0, []);
                        break;
                    case "ledger-command":
                        await session.Ledger.AddCommandAsync("cmd-base", Command(baseCustomer, "cmd-base", 5));
                        break;
                    case "ledger-order":
                        await session.Ledger.SaveOrderAsync(LedgerOrder("ord-base", baseCustomer), 0);
                        break;
                    case "ledger-transfer":
                        var again = Earn(baseCustomer, "earn-base", 100);
                        var state = (await session.Ledger.GetAsync(baseCustomer))!;
                        state.Apply(again);
                        await session.Ledger.SaveAsync(state, state.Version, [again]);
                        break;
                    case "preferences":
                        await session.Consent.SavePreferencesAsync(Preferences(baseCustomer), 0);
                        break;
                    case "segment-state":
                        await session.Segments.SaveAsync(SegmentState(baseCustomer, null), 0);
                        break;
                    case "purchase-history":
                        await session.Predictive.SaveAsync(History(baseCustomer, 9), 0);
                        break;
                    default:
                        await session.Journeys.SaveAsync(Journey(baseCustomer, "welcome", null), 0);
                        break;
                }

                await session.CommitAsync();
            });
        }

        Assert.Empty(await PresentAsync("late", 2));
        Assert.Equal(EveryRepository.Parts, await PresentAsync("base", 1));
        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
        var ledger = await ReadAsync(s => s.Ledger.GetAsync(baseCustomer));
        Assert.Equal((1L, 100L), (ledger!.Version, ledger.Balance(Points).Available));
        Assert.Equal(1, (await ReadAsync(s => s.Profiles.GetAsync(baseCustomer)))!.Version);
        Assert.Single(await ReadAsync(s => s.Ledger.ListTransfersAsync(null, 0, 100)));
    }

    /// <summary>
    /// Two sessions read version v of a record and both save it: the first commit wins and the second fails with a
    /// <see cref="ConcurrencyConflictException"/>, applying none of its writes (its other records included). With an
    /// adapter that serializes the sessions of a tenant, the second session can only open after the first is disposed,
    /// and then reads the first one's commit: no update is lost either way.
    /// </summary>
    [Fact]
    public virtual async Task Of_two_sessions_saving_the_version_both_read_the_second_commit_conflicts_and_applies_nothing()
    {
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada, "Original"), 0));

        await RaceAsync(
            async first =>
            {
                var read = (await first.Profiles.GetAsync(Ada))!;
                Assert.Equal(1, read.Version);
                await first.Profiles.SaveAsync(read with { GivenName = "First" }, read.Version);
            },
            async second =>
            {
                var read = (await second.Profiles.GetAsync(Ada))!;
                await second.Events.AddAsync(Processed("evt-second", Ada));
                await second.Orders.SaveAsync(Order("ord-second", Ada), 0);
                await second.Profiles.SaveAsync(read with { GivenName = "Second" }, read.Version);
            });

        var stored = await ReadAsync(s => s.Profiles.GetAsync(Ada));
        if (Fixture.SessionsOfATenantAreSerialized)
        {
            Assert.Equal(("Second", 3L), (stored!.GivenName, stored.Version));
        }
        else
        {
            Assert.Equal(("First", 2L), (stored!.GivenName, stored.Version));
            Assert.Null(await ReadAsync(s => s.Events.FindAsync(new EventId("evt-second"))));
            Assert.Null(await ReadAsync(s => s.Orders.GetAsync("ord-second")));
        }
    }

    /// <summary>Two sessions that both create the same record (expected version 0): the second commit conflicts and
    /// applies nothing (with a serializing adapter, the second session sees the record the first created).</summary>
    [Fact]
    public virtual async Task Of_two_sessions_creating_the_same_record_the_second_commit_conflicts()
    {
        await RaceAsync(
            async first =>
            {
                Assert.Null(await first.Ledger.GetAsync(Ada));
                var earn = Earn(Ada, "earn-first", 10);
                await first.Ledger.SaveAsync(State(Ada, [earn]), 0, [earn]);
            },
            async second =>
            {
                var existing = await second.Ledger.GetAsync(Ada);
                var earn = Earn(Ada, "earn-second", 20);
                var state = existing ?? new Loyalty.Sdk.Ledger.CustomerLedger(Ada);
                state.Apply(earn);
                await second.Decisions.AppendAsync([Decision(Ada, 2)]);
                await second.Ledger.SaveAsync(state, existing?.Version ?? 0, [earn]);
            });

        var ledger = await ReadAsync(s => s.Ledger.GetAsync(Ada));
        var journal = await ReadAsync(s => s.Ledger.ListTransfersAsync(Ada, 0, 10));
        if (Fixture.SessionsOfATenantAreSerialized)
        {
            Assert.Equal((2L, 30L), (ledger!.Version, ledger.Balance(Points).Available));
            Assert.Equal(["earn-first", "earn-second"], journal.Select(t => t.Id));
        }
        else
        {
            Assert.Equal((1L, 10L), (ledger!.Version, ledger.Balance(Points).Available));
            Assert.Equal(["earn-first"], journal.Select(t => t.Id));
            Assert.Empty(await ReadAsync(s => s.Decisions.ListAsync(Ada, 0, 10)));
        }
    }

    /// <summary>A session does not see what another session wrote and has not committed (with a serializing adapter:
    /// the second session cannot open while the first is open).</summary>
    [Fact]
    public virtual async Task A_session_does_not_see_uncommitted_writes_of_another_session()
    {
        await using var first = await OpenAsync();
        await EveryRepository.WriteAsync(first, "pending", 1);

        await using var second = await OpenConcurrentAsync();
        if (second is not null)
        {
            Assert.Empty(await EveryRepository.PresentAsync(second, "pending", 1));
        }

        Assert.Equal(0, await Store.Outbox.CountPendingAsync(Tenant));
    }

    /// <summary>Sessions incrementing one counter at the same time, retrying on conflicts, lose no update.</summary>
    [Fact]
    public virtual async Task Concurrent_read_modify_write_with_retries_loses_no_update()
    {
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada) with { Traits = new Loyalty.Sdk.Profiles.CustomerTraits() }, 0));
        const int workers = 4, increments = 5;

        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < increments; i++)
            {
                for (var attempt = 0; ; attempt++)
                {
                    Assert.True(attempt < 100, "100 conflicts in a row");
                    try
                    {
                        await using var session = await OpenAsync();
                        var read = (await session.Profiles.GetAsync(Ada))!;
                        await session.Profiles.SaveAsync(read with { Traits = read.Traits with { Orders = read.Traits.Orders + 1 } }, read.Version);
                        await session.CommitAsync();
                        break;
                    }
                    catch (ConcurrencyConflictException)
                    {
                    }
                }
            }
        })));

        var stored = await ReadAsync(s => s.Profiles.GetAsync(Ada));
        Assert.Equal((workers * increments, 1L + (workers * increments)), (stored!.Traits.Orders, stored.Version));
    }

    /// <summary>A session of one tenant does not keep another tenant from opening a session.</summary>
    [Fact]
    public virtual async Task An_open_session_does_not_block_other_tenants()
    {
        await using var first = await OpenAsync(Tenant);
        await first.Profiles.SaveAsync(Profile(Ada), 0);

        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada, "Other"), 0), OtherTenant);

        await first.CommitAsync();
        Assert.Equal("Other", (await ReadAsync(s => s.Profiles.GetAsync(Ada), OtherTenant))!.GivenName);
    }

    /// <summary>Every repository is scoped to its session's tenant: another tenant sees none of the records, its
    /// tenant-wide listings are empty, and it can write records with the same keys (version 0) without conflict.</summary>
    [Fact]
    public virtual async Task Every_repository_is_isolated_per_tenant()
    {
        await WriteAsync(s => EveryRepository.WriteAsync(s, "one", 1), Tenant);

        Assert.Empty(await PresentAsync("one", 1, OtherTenant));
        await using (var other = await OpenAsync(OtherTenant))
        {
            Assert.Empty(await other.Ledger.ListTransfersAsync(null, 0, 100));
            Assert.Empty(await other.Ledger.ListCustomersAsync(0, 100));
            Assert.Empty(await other.Ledger.ListDueAsync(At(1_000_000), 100));
            Assert.Empty(await other.Ledger.GetProgramBalancesAsync());
            Assert.Empty(await other.Consent.ListSendsAsync(At(-1_000_000), At(1_000_000)));
            Assert.Equal(0, await other.Segments.CountAsync());
            Assert.Empty(await other.Segments.ListAsync(0, 100));
            Assert.Empty(await other.Segments.ListDueAsync(At(1_000_000), 100));
            Assert.Empty(await other.Segments.ListMembersAsync("vip"));
            Assert.Equal(0L, (await other.Segments.GetSizesAsync()).GetValueOrDefault("vip"));
            Assert.Empty(await other.Predictive.ListAsync(0, 100));
            Assert.Empty(await other.Journeys.ListDueAsync(At(1_000_000), 100));
            Assert.Empty(await other.Journeys.ListForCustomerAsync(EveryRepository.CustomerOf("one")));
            Assert.Empty(await other.IdentityControls.ListBlocksAsync());
            Assert.Empty(await other.IdentityControls.ListCustomersAsync(0, 100));
        }

        Assert.Equal(0, await Store.Outbox.CountPendingAsync(OtherTenant));

        await WriteAsync(s => EveryRepository.WriteAsync(s, "one", 1), OtherTenant);

        Assert.Equal(EveryRepository.Parts, await PresentAsync("one", 1, OtherTenant));
        Assert.Equal(EveryRepository.Parts, await PresentAsync("one", 1, Tenant));
        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Equal(1, await Store.Outbox.CountPendingAsync(OtherTenant));
    }

    /// <summary>The send log's compare-and-swap is scoped to the tenant too.</summary>
    [Fact]
    public virtual async Task The_send_log_is_isolated_per_tenant()
    {
        await using (var session = await OpenAsync(Tenant))
        {
            Assert.True(await session.Consent.TryAppendSendAsync(Send(Ada, "m1", At(1)), 0));
        }

        await using var other = await OpenAsync(OtherTenant);
        Assert.Equal(0, (await other.Consent.GetSendLogAsync(Ada)).Version);
        Assert.True(await other.Consent.TryAppendSendAsync(Send(Ada, "m1", At(1)), 0));
        Assert.Single((await other.Consent.GetSendLogAsync(Ada)).Sends);
    }

    /// <summary>
    /// Runs the optimistic-concurrency race: <paramref name="first"/> and <paramref name="second"/> each read and
    /// write in their own session; the first commits, then the second, which must conflict. With a serializing
    /// adapter, the second session opens after the first is disposed and its commit must succeed.
    /// </summary>
    private async Task RaceAsync(Func<ILoyaltyStoreSession, Task> first, Func<ILoyaltyStoreSession, Task> second)
    {
        var a = await OpenAsync();
        try
        {
            var b = await OpenConcurrentAsync();
            if (b is null)
            {
                await first(a);
                await a.CommitAsync();
                await a.DisposeAsync();
                await using var later = await OpenAsync();
                await second(later);
                await later.CommitAsync();
                return;
            }

            await using (b)
            {
                // The second session reads and writes before the first commits, and commits after it. An adapter that
                // locks rows may block the second session's write until the first commits: the second session runs on
                // its own task, and the first commits once the second has written (or after a while, if it is blocked).
                var secondWrote = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var firstCommitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await first(a);
                var secondRun = Task.Run(async () =>
                {
                    await second(b);
                    secondWrote.SetResult();
                    await firstCommitted.Task;
                    await b.CommitAsync();
                });
                await Task.WhenAny(secondWrote.Task, secondRun, Task.Delay(TimeSpan.FromSeconds(5)));
                await a.CommitAsync();
                firstCommitted.SetResult();
                var error = await Record.ExceptionAsync(() => secondRun.WaitAsync(TimeSpan.FromSeconds(30)));
                Assert.IsAssignableFrom<ConcurrencyConflictException>(error);
            }
        }
        finally
        {
            await a.DisposeAsync();
        }
    }
}
