using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>Reads what the send gate needs about a customer from a session.</summary>
internal static class ContactStateLoader
{
    public static async ValueTask<CustomerIdentity> RequireIdentityAsync(ILoyaltyStoreSession session, CustomerId customer, CancellationToken cancellationToken) =>
        await IdentityStage.FollowAsync(session.Identity, customer, cancellationToken).ConfigureAwait(false)
        ?? throw ConsentValidationException.For("$.customer", ConsentErrorCodes.UnknownCustomer, $"Customer {customer} is unknown.");

    public static async ValueTask<ContactState> LoadAsync(
        ILoyaltyStoreSession session, CompiledConsentPolicy policy, AddressHasher hasher, CustomerIdentity identity, Instant at, CancellationToken cancellationToken)
    {
        var customer = identity.Customer;
        var repo = session.Consent;
        var profile = await session.Profiles.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        var history = await repo.GetHistoryAsync(customer, cancellationToken).ConfigureAwait(false);
        var states = ConsentEngine.Fold(history, at, policy.DoubleOptInTimeout);
        var suppressions = await repo.GetSuppressionsAsync(customer, cancellationToken).ConfigureAwait(false);
        var preferences = await repo.GetPreferencesAsync(customer, cancellationToken).ConfigureAwait(false);

        var reachable = new HashSet<ContactChannel>();
        var addressHits = new List<(AddressSuppression, ContactChannel)>();
        foreach (var link in identity.Links)
        {
            var channels = AddressHasher.ChannelsOf(link.Identifier.Type);
            if (channels.Count == 0)
            {
                continue;
            }

            reachable.UnionWith(channels);
            foreach (var hit in await repo.GetAddressSuppressionsAsync(hasher.Hash(session.Tenant, link.Identifier), cancellationToken).ConfigureAwait(false))
            {
                foreach (var c in channels)
                {
                    addressHits.Add((hit, c));
                }
            }
        }

        if (profile?.Address is { Line1: not null, PostalCode: not null })
        {
            reachable.Add(ContactChannel.Postal);
        }

        // Sends of the customer and of every customer merged into it count toward the caps.
        var log = await repo.GetSendLogAsync(customer, cancellationToken).ConfigureAwait(false);
        IEnumerable<SendRecord> sends = log.Sends;
        foreach (var merge in identity.Merges)
        {
            sends = sends.Concat((await repo.GetSendLogAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false)).Sends);
        }

        var (zone, source) = ZoneOf(preferences, profile, identity, policy);
        return ContactState.Create(
            customer, zone, source, states, reachable, suppressions, addressHits, sends, log.Version, preferences,
            ContactState.IsHeldOut(customer, policy.Source.Holdout), policy);
    }

    /// <summary>The customer's zone: preference center, then profile, then inferred from the phone's country, then
    /// the program's default.</summary>
    public static (DateTimeZone Zone, TimeZoneSource Source) ZoneOf(PreferenceSettings? preferences, CustomerProfile? profile, CustomerIdentity identity, CompiledConsentPolicy policy)
    {
        foreach (var id in new[] { preferences?.TimeZone, profile?.TimeZone })
        {
            if (id is not null && DateTimeZoneProviders.Tzdb.GetZoneOrNull(id) is { } zone)
            {
                return (zone, TimeZoneSource.Profile);
            }
        }

        foreach (var link in identity.Links)
        {
            if (AddressHasher.InferZone(link.Identifier) is { } inferred && DateTimeZoneProviders.Tzdb.GetZoneOrNull(inferred) is { } zone)
            {
                return (zone, TimeZoneSource.Inferred);
            }
        }

        return (policy.DefaultZone, TimeZoneSource.TenantDefault);
    }
}
