using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Validation;
using NodaTime;
using Xunit;

namespace Loyalty.Sdk.Testing;

/// <summary>
/// The marker base of every suite of the kit. <see cref="ConformanceCompleteness{TFixture}"/> lists the abstract
/// generic classes deriving from it and checks that an enrolling assembly runs each of them. Only the kit defines
/// suites: derive from the suites (e.g. <see cref="LedgerConformance{TFixture}"/>), not from this class.
/// </summary>
public abstract class ConformanceSuite
{
    private protected ConformanceSuite()
    {
    }
}

/// <summary>
/// A conformance suite over the stores of <typeparamref name="TFixture"/>: every test gets a fresh, empty store
/// (<see cref="Store"/>) created before it runs and released after it through the fixture. The helpers open sessions
/// with a time limit, so that a session left open by a serializing adapter fails the test instead of hanging it.
/// </summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class ConformanceSuite<TFixture> : ConformanceSuite, IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : class, IStoreConformanceFixture
{
    private ILoyaltyStore? store;

    /// <summary>Creates the suite over <paramref name="fixture"/>.</summary>
    protected ConformanceSuite(TFixture fixture) => Fixture = fixture ?? throw new ArgumentNullException(nameof(fixture));

    /// <summary>The tenant most tests write to.</summary>
    protected static TenantId Tenant { get; } = new("conformance-a");

    /// <summary>A second tenant, for isolation checks.</summary>
    protected static TenantId OtherTenant { get; } = new("conformance-b");

    /// <summary>The reference instant of the tests (whole seconds, so that any timestamp precision round-trips it).</summary>
    protected static Instant T0 { get; } = Instant.FromUtc(2025, 3, 3, 9, 0);

    /// <summary>How long opening a session may take before the test fails (a session of the tenant left open by a
    /// serializing adapter would otherwise hang the run).</summary>
    protected virtual TimeSpan SessionOpenTimeout => TimeSpan.FromSeconds(10);

    /// <summary>The adapter's fixture.</summary>
    protected TFixture Fixture { get; }

    /// <summary>The fresh, empty store of the running test.</summary>
    protected ILoyaltyStore Store => store ?? throw new InvalidOperationException("The store is created before each test runs.");

    async Task IAsyncLifetime.InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        store = await Fixture.CreateStoreAsync(timeout.Token);
        Assert.NotNull(store);
        Assert.NotNull(store.Outbox);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (store is not null)
        {
            await Fixture.DisposeStoreAsync(store);
            store = null;
        }
    }

    /// <summary>Opens a session of <paramref name="tenant"/> (default <see cref="Tenant"/>) on <see cref="Store"/>,
    /// failing the test when it cannot be opened within <see cref="SessionOpenTimeout"/>.</summary>
    protected async Task<ILoyaltyStoreSession> OpenAsync(TenantId? tenant = null)
    {
        var t = tenant ?? Tenant;
        using var timeout = new CancellationTokenSource(SessionOpenTimeout);
        ILoyaltyStoreSession session;
        try
        {
            session = await Store.OpenSessionAsync(t, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"No session of tenant {t} could be opened within {SessionOpenTimeout}: is a session of that tenant still open?");
        }

        Assert.Equal(t, session.Tenant);
        return session;
    }

    /// <summary>Runs <paramref name="write"/> in a new session and commits it.</summary>
    protected async Task WriteAsync(Func<ILoyaltyStoreSession, ValueTask> write, TenantId? tenant = null)
    {
        ArgumentNullException.ThrowIfNull(write);
        await using var session = await OpenAsync(tenant);
        await write(session);
        await session.CommitAsync();
    }

    /// <summary>Runs <paramref name="read"/> in a new session, which is then disposed without commit.</summary>
    protected async Task<T> ReadAsync<T>(Func<ILoyaltyStoreSession, ValueTask<T>> read, TenantId? tenant = null)
    {
        ArgumentNullException.ThrowIfNull(read);
        await using var session = await OpenAsync(tenant);
        return await read(session);
    }

    /// <summary>
    /// Asserts that <paramref name="writeAndCommit"/> fails with a <see cref="ConcurrencyConflictException"/>. An
    /// adapter may detect a conflict when the write is made or when the session commits: both are conforming, so the
    /// action should make the write and commit.
    /// </summary>
    protected static async Task AssertConflictAsync(Func<Task> writeAndCommit)
    {
        ArgumentNullException.ThrowIfNull(writeAndCommit);
        await Assert.ThrowsAnyAsync<ConcurrencyConflictException>(writeAndCommit);
    }

    /// <summary>
    /// Opens a session of <paramref name="tenant"/> while another session of it is open: null when the fixture says
    /// sessions of a tenant are serialized (after checking that the open indeed waits); otherwise the session, and a
    /// failure when it cannot be opened (the fixture should then declare
    /// <see cref="IStoreConformanceFixture.SessionsOfATenantAreSerialized"/>).
    /// </summary>
    protected async Task<ILoyaltyStoreSession?> OpenConcurrentAsync(TenantId? tenant = null)
    {
        var t = tenant ?? Tenant;
        if (Fixture.SessionsOfATenantAreSerialized)
        {
            using var probe = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            ILoyaltyStoreSession? opened = null;
            try
            {
                opened = await Store.OpenSessionAsync(t, probe.Token);
            }
            catch (OperationCanceledException)
            {
            }

            if (opened is not null)
            {
                await opened.DisposeAsync();
                Assert.Fail($"The fixture says sessions of a tenant are serialized, but a second session of {t} opened while the first was open.");
            }

            return null;
        }

        using var timeout = new CancellationTokenSource(SessionOpenTimeout);
        try
        {
            return await Store.OpenSessionAsync(t, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"A second session of {t} could not be opened while another was open. If the adapter serializes the sessions of a tenant, "
                + $"override {nameof(IStoreConformanceFixture.SessionsOfATenantAreSerialized)} in the fixture.");
        }
    }
}
