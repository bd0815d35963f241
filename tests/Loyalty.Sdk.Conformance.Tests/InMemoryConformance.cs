using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.InMemory;
using Loyalty.Sdk.Testing;

namespace Loyalty.Sdk.Conformance.Tests;

/// <summary>The in-memory adapter's fixture: a new store per test. Its sessions of one tenant are serialized (one
/// writer per tenant at a time).</summary>
public sealed class InMemoryFixture : StoreConformanceFixture
{
    public override ValueTask<ILoyaltyStore> CreateStoreAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<ILoyaltyStore>(new InMemoryLoyaltyStore());

    public override bool SessionsOfATenantAreSerialized => true;
}

public sealed class InMemoryProcessedEvents(InMemoryFixture fixture) : ProcessedEventsConformance<InMemoryFixture>(fixture);

public sealed class InMemoryIdentityGraph(InMemoryFixture fixture) : IdentityGraphConformance<InMemoryFixture>(fixture);

public sealed class InMemoryProfiles(InMemoryFixture fixture) : ProfilesConformance<InMemoryFixture>(fixture);

public sealed class InMemoryOrders(InMemoryFixture fixture) : OrdersConformance<InMemoryFixture>(fixture);

public sealed class InMemoryDecisionTrail(InMemoryFixture fixture) : DecisionTrailConformance<InMemoryFixture>(fixture);

public sealed class InMemoryOutbox(InMemoryFixture fixture) : OutboxConformance<InMemoryFixture>(fixture);

public sealed class InMemoryUnitOfWork(InMemoryFixture fixture) : UnitOfWorkConformance<InMemoryFixture>(fixture);

public sealed class InMemoryLedger(InMemoryFixture fixture) : LedgerConformance<InMemoryFixture>(fixture);

public sealed class InMemoryConsent(InMemoryFixture fixture) : ConsentConformance<InMemoryFixture>(fixture);

public sealed class InMemorySegments(InMemoryFixture fixture) : SegmentsConformance<InMemoryFixture>(fixture);

public sealed class InMemoryPredictive(InMemoryFixture fixture) : PredictiveConformance<InMemoryFixture>(fixture);

public sealed class InMemoryJourneys(InMemoryFixture fixture) : JourneysConformance<InMemoryFixture>(fixture);

public sealed class InMemoryIdentityControls(InMemoryFixture fixture) : IdentityControlsConformance<InMemoryFixture>(fixture);

public sealed class InMemoryErasure(InMemoryFixture fixture) : ErasureConformance<InMemoryFixture>(fixture);

public sealed class InMemoryEngine(InMemoryFixture fixture) : EngineConformance<InMemoryFixture>(fixture);

public sealed class InMemoryCompleteness : ConformanceCompleteness<InMemoryFixture>;
