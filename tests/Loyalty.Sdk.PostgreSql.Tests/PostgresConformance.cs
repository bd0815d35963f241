using Loyalty.Sdk.PostgreSql;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Testing;
using Loyalty.Sdk.Tests.Shared;

namespace Loyalty.Sdk.PostgreSql.Tests;

/// <summary>The PostgreSQL adapter's fixture: one throwaway server (or <c>LOYALTY_POSTGRES_CONNECTION</c>) for the test
/// run, one database for the kit, and a new schema per store, migrated on creation. Under <c>CI=true</c> an
/// unavailable server fails every test of the kit instead of skipping it.</summary>
public sealed class PostgresFixture : StoreConformanceFixture
{
    private static readonly Lazy<PostgresTestServer> Server = new(PostgresTestServer.Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<string> Database = new(() => Server.Value.CreateDatabase("kit"), LazyThreadSafetyMode.ExecutionAndPublication);
    private static int next;

    public override async ValueTask<ILoyaltyStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        if (!Server.Value.IsAvailable)
        {
            throw new PostgresUnavailableException("PostgreSQL is unavailable for the conformance kit: " + Server.Value.UnavailableReason);
        }

        var options = new PostgreSqlStorageOptions { Schema = $"kit{Interlocked.Increment(ref next)}", MigrateOnStart = true };
        return await PostgreSqlLoyaltyStore.CreateAsync(Database.Value, options, cancellationToken);
    }
}

public sealed class PostgresProcessedEvents(PostgresFixture fixture) : ProcessedEventsConformance<PostgresFixture>(fixture);

public sealed class PostgresIdentityGraph(PostgresFixture fixture) : IdentityGraphConformance<PostgresFixture>(fixture);

public sealed class PostgresProfiles(PostgresFixture fixture) : ProfilesConformance<PostgresFixture>(fixture);

public sealed class PostgresOrders(PostgresFixture fixture) : OrdersConformance<PostgresFixture>(fixture);

public sealed class PostgresDecisionTrail(PostgresFixture fixture) : DecisionTrailConformance<PostgresFixture>(fixture);

public sealed class PostgresOutbox(PostgresFixture fixture) : OutboxConformance<PostgresFixture>(fixture);

public sealed class PostgresUnitOfWork(PostgresFixture fixture) : UnitOfWorkConformance<PostgresFixture>(fixture);

public sealed class PostgresLedger(PostgresFixture fixture) : LedgerConformance<PostgresFixture>(fixture);

public sealed class PostgresConsent(PostgresFixture fixture) : ConsentConformance<PostgresFixture>(fixture);

public sealed class PostgresSegments(PostgresFixture fixture) : SegmentsConformance<PostgresFixture>(fixture);

public sealed class PostgresPredictive(PostgresFixture fixture) : PredictiveConformance<PostgresFixture>(fixture);

public sealed class PostgresJourneys(PostgresFixture fixture) : JourneysConformance<PostgresFixture>(fixture);

public sealed class PostgresIdentityControls(PostgresFixture fixture) : IdentityControlsConformance<PostgresFixture>(fixture);

public sealed class PostgresErasure(PostgresFixture fixture) : ErasureConformance<PostgresFixture>(fixture);

public sealed class PostgresEngine(PostgresFixture fixture) : EngineConformance<PostgresFixture>(fixture);

public sealed class PostgresCompleteness : ConformanceCompleteness<PostgresFixture>;
