using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Predictive;
using Loyalty.Sdk.Segments;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

/// <summary>A store whose next <see cref="CrashCommits"/> commits that write a customer's channel response crash
/// (nothing of the session is applied), as a process dying between a delivery and its bookkeeping would.</summary>
internal sealed class CrashingStore(ILoyaltyStore inner) : ILoyaltyStore
{
    public int CrashCommits { get; set; }

    public int Crashed { get; private set; }

    public IOutboxStore Outbox => inner.Outbox;

    public async ValueTask<ILoyaltyStoreSession> OpenSessionAsync(TenantId tenant, CancellationToken cancellationToken = default) =>
        new Session(this, await inner.OpenSessionAsync(tenant, cancellationToken));

    private sealed class Session(CrashingStore store, ILoyaltyStoreSession inner) : ILoyaltyStoreSession, IJourneyRepository
    {
        private bool wroteResponse;

        public TenantId Tenant => inner.Tenant;

        public IProcessedEventRepository Events => inner.Events;

        public IIdentityRepository Identity => inner.Identity;

        public IProfileRepository Profiles => inner.Profiles;

        public IOrderRepository Orders => inner.Orders;

        public IDecisionRepository Decisions => inner.Decisions;

        public IOutboxRepository Outbox => inner.Outbox;

        public IConsentRepository Consent => inner.Consent;

        public IIdentityControlRepository IdentityControls => inner.IdentityControls;

        public ILedgerRepository Ledger => inner.Ledger;

        public IPredictiveRepository Predictive => inner.Predictive;

        public ISegmentRepository Segments => inner.Segments;

        public IJourneyRepository Journeys => this;

        public ValueTask CommitAsync(CancellationToken cancellationToken = default)
        {
            if (wroteResponse && store.CrashCommits > 0)
            {
                store.CrashCommits--;
                store.Crashed++;
                throw new IOException("injected crash before the commit");
            }

            return inner.CommitAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        public ValueTask<IReadOnlyList<JourneyInstance>> ListForCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default) => inner.Journeys.ListForCustomerAsync(customer, cancellationToken);

        public ValueTask<JourneyInstance?> GetAsync(CustomerId customer, string journey, CancellationToken cancellationToken = default) => inner.Journeys.GetAsync(customer, journey, cancellationToken);

        public ValueTask SaveAsync(JourneyInstance instance, long expectedVersion, CancellationToken cancellationToken = default) => inner.Journeys.SaveAsync(instance, expectedVersion, cancellationToken);

        public ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default) => inner.Journeys.ListDueAsync(now, max, cancellationToken);

        public ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default) => inner.Journeys.ClaimDueAsync(now, max, lease, owner, cancellationToken);

        public ValueTask CountAsync(string journey, string counter, long delta = 1, CancellationToken cancellationToken = default) => inner.Journeys.CountAsync(journey, counter, delta, cancellationToken);

        public ValueTask<CustomerChannelResponse?> GetResponseAsync(CustomerId customer, CancellationToken cancellationToken = default) => inner.Journeys.GetResponseAsync(customer, cancellationToken);

        public ValueTask SaveResponseAsync(CustomerChannelResponse response, long expectedVersion, CancellationToken cancellationToken = default)
        {
            wroteResponse = true;
            return inner.Journeys.SaveResponseAsync(response, expectedVersion, cancellationToken);
        }

        public ValueTask DeleteCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default) => inner.Journeys.DeleteCustomerAsync(customer, cancellationToken);

        public ValueTask<IReadOnlyList<JourneyStats>> GetStatsAsync(CancellationToken cancellationToken = default) => inner.Journeys.GetStatsAsync(cancellationToken);
    }
}
