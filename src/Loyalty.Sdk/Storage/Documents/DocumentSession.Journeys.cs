using System.Text.Json;
using Loyalty.Sdk.Journeys;
using NodaTime;

namespace Loyalty.Sdk.Storage.Documents;

// Journeys as documents: "journey" (one instance per customer and journey, keyed customer + journey, due when it
// wakes); counters "journey-stats" (journey + counter); "journey-response" (one per customer: response per channel).
internal sealed partial class DocumentSession : IJourneyRepository
{
    internal const string JourneyCollection = "journey";
    internal const string JourneyCounters = "journey-stats";
    internal const string JourneyResponses = "journey-response";

    public IJourneyRepository Journeys => this;

    async ValueTask<IReadOnlyList<JourneyInstance>> IJourneyRepository.ListForCustomerAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        var all = await QueryAsync(new DocumentQuery { Collection = JourneyCollection, Customer = customer.Value }, DocumentJson.Journey, cancellationToken).ConfigureAwait(false);
        return [.. all.Select(a => a.Value).Where(i => i.Customer == customer)];
    }

    ValueTask<JourneyInstance?> IJourneyRepository.GetAsync(CustomerId customer, string journey, CancellationToken cancellationToken) =>
        LoadAsync(JourneyCollection, Names.Join(customer.Value, journey), DocumentJson.Journey, cancellationToken);

    ValueTask IJourneyRepository.SaveAsync(JourneyInstance instance, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        Put(JourneyCollection, Names.Join(instance.Customer.Value, instance.Journey), instance with { Version = expectedVersion + 1 }, expectedVersion, DocumentJson.Journey, i => i.Customer.Value, i => i.WakeAt);
        return ValueTask.CompletedTask;
    }

    async ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> IJourneyRepository.ListDueAsync(Instant now, int max, CancellationToken cancellationToken)
    {
        var due = await QueryAsync(new DocumentQuery { Collection = JourneyCollection, Order = DocumentOrder.Due, DueAtOrBefore = now, Take = max }, DocumentJson.Journey, cancellationToken).ConfigureAwait(false);
        return [.. due.Select(d => (d.Value.Customer, d.Value.Journey))];
    }

    async ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> IJourneyRepository.ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken)
    {
        var claimed = await Backend.ClaimDueAsync(Tenant, JourneyCollection, now, max, owner, now + lease, cancellationToken).ConfigureAwait(false);
        return [.. claimed.Select(d => JsonSerializer.Deserialize(d.Body, DocumentJson.Journey)!).Select(i => (i.Customer, i.Journey))];
    }

    ValueTask<CustomerChannelResponse?> IJourneyRepository.GetResponseAsync(CustomerId customer, CancellationToken cancellationToken) =>
        LoadAsync(JourneyResponses, customer.Value, DocumentJson.ChannelResponse, cancellationToken);

    ValueTask IJourneyRepository.SaveResponseAsync(CustomerChannelResponse response, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        Put(JourneyResponses, response.Customer.Value, response with { Version = expectedVersion + 1 }, expectedVersion, DocumentJson.ChannelResponse, r => r.Customer.Value);
        return ValueTask.CompletedTask;
    }

    async ValueTask IJourneyRepository.DeleteCustomerAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        foreach (var instance in await ((IJourneyRepository)this).ListForCustomerAsync(customer, cancellationToken).ConfigureAwait(false))
        {
            await PutReadAsync<JourneyInstance>(JourneyCollection, Names.Join(customer.Value, instance.Journey), null, DocumentJson.Journey, null, cancellationToken).ConfigureAwait(false);
        }

        if (await LoadAsync(JourneyResponses, customer.Value, DocumentJson.ChannelResponse, cancellationToken).ConfigureAwait(false) is not null)
        {
            await PutReadAsync<CustomerChannelResponse>(JourneyResponses, customer.Value, null, DocumentJson.ChannelResponse, null, cancellationToken).ConfigureAwait(false);
        }
    }

    ValueTask IJourneyRepository.CountAsync(string journey, string counter, long delta, CancellationToken cancellationToken)
    {
        Count(JourneyCounters, Names.Join(journey, counter), delta);
        return ValueTask.CompletedTask;
    }

    async ValueTask<IReadOnlyList<JourneyStats>> IJourneyRepository.GetStatsAsync(CancellationToken cancellationToken)
    {
        var counts = await ReadCountersAsync(JourneyCounters, cancellationToken).ConfigureAwait(false);
        return [.. counts.Select(kv => (Parts: Names.Split(kv.Key), kv.Value))
            .GroupBy(x => x.Parts[0], StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new JourneyStats { Journey = g.Key, Counters = g.ToDictionary(x => x.Parts[1], x => x.Value, StringComparer.Ordinal) })];
    }
}
