using Loyalty.Sdk.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Loyalty.Sdk.Testing;

/// <summary>
/// What a storage adapter supplies to enroll in the conformance kit. xUnit creates one fixture per enrolled suite class
/// (<see cref="Xunit.IClassFixture{TFixture}"/>); the fixture may implement <see cref="IDisposable"/>,
/// <see cref="IAsyncDisposable"/> or <see cref="Xunit.IAsyncLifetime"/> to set up and tear down shared resources (a
/// database server, a temporary folder). Derive from <see cref="StoreConformanceFixture"/> for the defaults.
/// </summary>
public interface IStoreConformanceFixture
{
    /// <summary>
    /// A fresh, empty store isolated from every other store this fixture created: each test gets its own (a durable
    /// adapter may create a new database, schema or file). Called once per test, before the test runs.
    /// </summary>
    ValueTask<ILoyaltyStore> CreateStoreAsync(CancellationToken cancellationToken);

    /// <summary>Releases a store created by <see cref="CreateStoreAsync"/> once its test has finished (drop the schema,
    /// delete the file, close connections).</summary>
    ValueTask DisposeStoreAsync(ILoyaltyStore store);

    /// <summary>
    /// Registers <paramref name="store"/> in a service collection for the engine-level suite. It is called on an
    /// empty collection before <c>AddLoyalty()</c> and the capabilities, which register with <c>TryAdd</c>, so what
    /// is registered here wins.
    /// </summary>
    void AddStore(IServiceCollection services, ILoyaltyStore store);

    /// <summary>
    /// Whether the adapter serializes the sessions of one tenant (a second <c>OpenSessionAsync</c> waits until the
    /// first session is disposed), as the in-memory adapter does. When false, the kit also checks that two sessions
    /// open at once are isolated and that the second commit of an optimistic-concurrency race conflicts.
    /// </summary>
    bool SessionsOfATenantAreSerialized { get; }
}

/// <summary>
/// Base class of a conformance fixture: implement <see cref="CreateStoreAsync"/>; the other members have defaults
/// (dispose the store if it is disposable, register it as the <see cref="ILoyaltyStore"/> singleton, sessions may be
/// open at once).
/// </summary>
public abstract class StoreConformanceFixture : IStoreConformanceFixture
{
    /// <inheritdoc />
    public abstract ValueTask<ILoyaltyStore> CreateStoreAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public virtual async ValueTask DisposeStoreAsync(ILoyaltyStore store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    /// <inheritdoc />
    public virtual void AddStore(IServiceCollection services, ILoyaltyStore store) => services.TryAddSingleton(store);

    /// <inheritdoc />
    public virtual bool SessionsOfATenantAreSerialized => false;
}
