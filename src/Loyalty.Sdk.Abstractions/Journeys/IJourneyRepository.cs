using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>Journey state and timers within a unit of work.</summary>
public interface IJourneyRepository
{
    /// <summary>A customer's instances of every journey.</summary>
    ValueTask<IReadOnlyList<JourneyInstance>> ListForCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>One instance.</summary>
    ValueTask<JourneyInstance?> GetAsync(CustomerId customer, string journey, CancellationToken cancellationToken = default);

    /// <summary>Saves an instance with optimistic concurrency (0 for a new one); the stored version becomes
    /// <c>expectedVersion + 1</c>.</summary>
    ValueTask SaveAsync(JourneyInstance instance, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Instances whose timer is due at <paramref name="now"/>, earliest first, at most <paramref name="max"/>.</summary>
    ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims due work for a worker: like <see cref="ListDueAsync"/>, but skips instances another owner holds a live lease
    /// on and leases the ones returned to <paramref name="owner"/> for <paramref name="lease"/>. The claim takes effect
    /// at once, outside the unit of work; saving a claimed instance ends the lease, and a lease whose owner crashed lapses. Workers
    /// in several processes claiming at once get disjoint work and never wait for each other.
    /// </summary>
    ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default);

    /// <summary>Adds to measurement counters of a journey. Applied on commit.</summary>
    ValueTask CountAsync(string journey, string counter, long delta = 1, CancellationToken cancellationToken = default);

    /// <summary>A customer's response per channel (for best-channel sends), or null when nothing was recorded.</summary>
    ValueTask<CustomerChannelResponse?> GetResponseAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Saves a customer's response per channel with optimistic concurrency (0 for a new one); the stored
    /// version becomes <c>expectedVersion + 1</c>.</summary>
    ValueTask SaveResponseAsync(CustomerChannelResponse response, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Erasure: deletes the customer's instances (and their timers) and channel response. Applied on commit;
    /// measurement counters stay (they hold no customer).</summary>
    ValueTask DeleteCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>The counters of every journey.</summary>
    ValueTask<IReadOnlyList<JourneyStats>> GetStatsAsync(CancellationToken cancellationToken = default);
}
