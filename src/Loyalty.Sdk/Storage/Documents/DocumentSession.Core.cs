using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Storage.Documents;

// The core repositories (processed events, identity graph, profiles, orders, decision trail, outbox) as documents:
// collections "event", "identity", "identifier" (the identifier index), "profile", "order"; stream "decision".
internal sealed partial class DocumentSession : IProcessedEventRepository, IIdentityRepository, IProfileRepository, IOrderRepository, IDecisionRepository, IOutboxRepository
{
    internal const string EventCollection = "event";
    internal const string IdentityCollection = "identity";
    internal const string IdentifierCollection = "identifier";
    internal const string ProfileCollection = "profile";
    internal const string OrderCollection = "order";
    internal const string DecisionStream = "decision";

    public IProcessedEventRepository Events => this;

    public IIdentityRepository Identity => this;

    public IProfileRepository Profiles => this;

    public IOrderRepository Orders => this;

    public IDecisionRepository Decisions => this;

    public IOutboxRepository Outbox => this;

    // --- processed events: the event id is the key, so a second ingestion cannot commit.

    ValueTask<ProcessedEvent?> IProcessedEventRepository.FindAsync(EventId eventId, CancellationToken cancellationToken) =>
        LoadAsync(EventCollection, eventId.Value, DocumentJson.ProcessedEvent, cancellationToken);

    async ValueTask IProcessedEventRepository.AddAsync(ProcessedEvent processed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(processed);
        if (await LoadAsync(EventCollection, processed.EventId.Value, DocumentJson.ProcessedEvent, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new ConcurrencyConflictException($"Event {processed.EventId} was already ingested.");
        }

        Put(EventCollection, processed.EventId.Value, processed, 0, DocumentJson.ProcessedEvent, e => e.Customer?.Value);
    }

    async ValueTask IProcessedEventRepository.AnonymizeCustomerAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        var query = new DocumentQuery { Collection = EventCollection, Customer = customer.Value };
        foreach (var (key, e) in await QueryAsync(query, DocumentJson.ProcessedEvent, cancellationToken).ConfigureAwait(false))
        {
            await PutReadAsync(EventCollection, key, e with { Customer = null }, DocumentJson.ProcessedEvent, _ => null, cancellationToken).ConfigureAwait(false);
        }
    }

    // --- identity graph

    async ValueTask<CustomerId?> IIdentityRepository.FindByIdentifierAsync(Identifier identifier, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var holder = await LoadAsync(IdentifierCollection, IdentifierKey(identifier), DocumentJson.String, cancellationToken).ConfigureAwait(false);
        return holder is null ? null : new CustomerId(holder);
    }

    ValueTask<CustomerIdentity?> IIdentityRepository.GetAsync(CustomerId customer, CancellationToken cancellationToken) =>
        LoadAsync(IdentityCollection, customer.Value, DocumentJson.Identity, cancellationToken);

    async ValueTask IIdentityRepository.SaveAsync(CustomerIdentity identity, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (expectedVersion == 0)
        {
            KnownNew(identity.Customer.Value);
        }

        Put(IdentityCollection, identity.Customer.Value, identity with { Version = expectedVersion + 1 }, expectedVersion, DocumentJson.Identity, i => i.Customer.Value);
        foreach (var link in identity.Links)
        {
            var key = IdentifierKey(link.Identifier);
            var holder = await LoadAsync(IdentifierCollection, key, DocumentJson.String, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(holder, identity.Customer.Value, StringComparison.Ordinal))
            {
                // Checked against the holder this session read: two sessions claiming one new identifier conflict.
                await PutReadAsync(IdentifierCollection, key, identity.Customer.Value, DocumentJson.String, c => c, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    async ValueTask IIdentityRepository.EraseAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        await PutReadAsync<CustomerIdentity>(IdentityCollection, customer.Value, null, DocumentJson.Identity, null, cancellationToken).ConfigureAwait(false);
        var query = new DocumentQuery { Collection = IdentifierCollection, Customer = customer.Value };
        foreach (var (key, holder) in await QueryAsync(query, DocumentJson.String, cancellationToken).ConfigureAwait(false))
        {
            if (string.Equals(holder, customer.Value, StringComparison.Ordinal))
            {
                await PutReadAsync<string>(IdentifierCollection, key, null, DocumentJson.String, null, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    internal static string IdentifierKey(Identifier identifier) => Names.Join(identifier.Type.Name, identifier.Value);

    // --- profiles

    ValueTask<CustomerProfile?> IProfileRepository.GetAsync(CustomerId customer, CancellationToken cancellationToken) =>
        LoadAsync(ProfileCollection, customer.Value, DocumentJson.Profile, cancellationToken);

    ValueTask IProfileRepository.SaveAsync(CustomerProfile profile, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Put(ProfileCollection, profile.Customer.Value, profile with { Version = expectedVersion + 1 }, expectedVersion, DocumentJson.Profile, p => p.Customer.Value);
        return ValueTask.CompletedTask;
    }

    ValueTask IProfileRepository.DeleteAsync(CustomerId customer, CancellationToken cancellationToken) =>
        PutReadAsync<CustomerProfile>(ProfileCollection, customer.Value, null, DocumentJson.Profile, null, cancellationToken);

    // --- orders

    ValueTask<OrderRecord?> IOrderRepository.GetAsync(string orderId, CancellationToken cancellationToken) =>
        LoadAsync(OrderCollection, orderId, DocumentJson.Order, cancellationToken);

    ValueTask IOrderRepository.SaveAsync(OrderRecord order, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        Put(OrderCollection, order.OrderId, order with { Version = expectedVersion + 1 }, expectedVersion, DocumentJson.Order, o => o.Customer.Value);
        return ValueTask.CompletedTask;
    }

    async ValueTask<IReadOnlyList<OrderRecord>> IOrderRepository.ListByCustomerAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        var query = new DocumentQuery { Collection = OrderCollection, Customer = customer.Value };
        var all = await QueryAsync(query, DocumentJson.Order, cancellationToken).ConfigureAwait(false);
        return [.. all.Select(o => o.Value).Where(o => o.Customer == customer).OrderBy(o => o.PlacedAt)];
    }

    async ValueTask IOrderRepository.AnonymizeCustomerAsync(CustomerId customer, CustomerId pseudonym, CancellationToken cancellationToken)
    {
        foreach (var order in await ((IOrderRepository)this).ListByCustomerAsync(customer, cancellationToken).ConfigureAwait(false))
        {
            await PutReadAsync(OrderCollection, order.OrderId, order with { Customer = pseudonym, Identifiers = [] }, DocumentJson.Order, o => o.Customer.Value, cancellationToken).ConfigureAwait(false);
        }
    }

    // --- decision trail

    ValueTask IDecisionRepository.AppendAsync(IReadOnlyList<Decision> decisions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        foreach (var d in decisions)
        {
            Append(DecisionStream, d.Customer.Value, d.DecidedAt, d, DocumentJson.Decision);
        }

        return ValueTask.CompletedTask;
    }

    ValueTask<IReadOnlyList<Decision>> IDecisionRepository.ListAsync(CustomerId customer, int skip, int take, CancellationToken cancellationToken) =>
        ReadEntriesAsync(new EntryQuery { Stream = DecisionStream, Customer = customer.Value, Skip = skip, Take = take }, DocumentJson.Decision, cancellationToken);

    ValueTask IDecisionRepository.DeleteAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        RemovePendingEntries(e => e.Stream == DecisionStream && e.Customer == customer.Value);
        ChangeEntry(new EntryChange(DecisionStream, null, customer.Value, null));
        return ValueTask.CompletedTask;
    }

    // --- outbox

    async ValueTask<bool> IOutboxRepository.EnqueueAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (outbox.ContainsKey(message.Key) || await backend.OutboxContainsAsync(tenant, message.Key, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        outbox[message.Key] = message;
        return true;
    }

    ValueTask IOutboxRepository.CompleteAsync(string key, string owner, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        outboxCompletions[key] = owner;
        return ValueTask.CompletedTask;
    }

    ValueTask IOutboxRepository.CancelForCustomerAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        foreach (var key in outbox.Where(kv => kv.Value.Customer == customer).Select(kv => kv.Key).ToArray())
        {
            outbox.Remove(key);
        }

        outboxCancellations.Add(customer);
        return ValueTask.CompletedTask;
    }
}
