using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Testing;
using Microsoft.Data.Sqlite;

namespace Loyalty.Sdk.Sqlite.Tests;

/// <summary>The SQLite adapter's fixture, as a third party would write it: a new database file per test, in a
/// temporary folder removed with the fixture. Sessions are optimistic (never serialized).</summary>
public sealed class SqliteFixture : StoreConformanceFixture, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("loyalty-sqlite-kit-").FullName;
    private int next;

    public override async ValueTask<ILoyaltyStore> CreateStoreAsync(CancellationToken cancellationToken) =>
        await SqliteLoyaltyStore.OpenFileAsync(Path.Combine(folder, $"store{Interlocked.Increment(ref next)}.db"), cancellationToken);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}

public sealed class SqliteProcessedEvents(SqliteFixture fixture) : ProcessedEventsConformance<SqliteFixture>(fixture);

public sealed class SqliteIdentityGraph(SqliteFixture fixture) : IdentityGraphConformance<SqliteFixture>(fixture);

public sealed class SqliteProfiles(SqliteFixture fixture) : ProfilesConformance<SqliteFixture>(fixture);

public sealed class SqliteOrders(SqliteFixture fixture) : OrdersConformance<SqliteFixture>(fixture);

public sealed class SqliteDecisionTrail(SqliteFixture fixture) : DecisionTrailConformance<SqliteFixture>(fixture);

public sealed class SqliteOutbox(SqliteFixture fixture) : OutboxConformance<SqliteFixture>(fixture);

public sealed class SqliteUnitOfWork(SqliteFixture fixture) : UnitOfWorkConformance<SqliteFixture>(fixture);

public sealed class SqliteLedger(SqliteFixture fixture) : LedgerConformance<SqliteFixture>(fixture);

public sealed class SqliteConsent(SqliteFixture fixture) : ConsentConformance<SqliteFixture>(fixture);

public sealed class SqliteSegments(SqliteFixture fixture) : SegmentsConformance<SqliteFixture>(fixture);

public sealed class SqlitePredictive(SqliteFixture fixture) : PredictiveConformance<SqliteFixture>(fixture);

public sealed class SqliteJourneys(SqliteFixture fixture) : JourneysConformance<SqliteFixture>(fixture);

public sealed class SqliteIdentityControls(SqliteFixture fixture) : IdentityControlsConformance<SqliteFixture>(fixture);

public sealed class SqliteErasure(SqliteFixture fixture) : ErasureConformance<SqliteFixture>(fixture);

public sealed class SqliteEngine(SqliteFixture fixture) : EngineConformance<SqliteFixture>(fixture);

public sealed class SqliteCompleteness : ConformanceCompleteness<SqliteFixture>;
