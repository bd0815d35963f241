using Loyalty.Sdk.Pipeline;

namespace Loyalty.Sdk.Storage.InMemory;

// GDPR export and erasure support of the core repositories (identity, profiles, orders, decisions, processed events,
// outbox), kept apart from the core session code. Erasures are buffered and applied on commit.
public sealed partial class InMemoryLoyaltyStore
{
    internal sealed partial class InMemorySession
    {
        private InMemoryErasurePart Erasure => Part(d => new InMemoryErasurePart(d));

        ValueTask IProcessedEventRepository.AnonymizeCustomerAsync(CustomerId customer, CancellationToken cancellationToken)
        {
            Erasure.Events.Add(customer);
            return ValueTask.CompletedTask;
        }

        ValueTask IIdentityRepository.EraseAsync(CustomerId customer, CancellationToken cancellationToken)
        {
            Erasure.Identities.Add(customer);
            foreach (var key in index.Where(kv => kv.Value == customer).Select(kv => kv.Key).ToArray())
            {
                index.Remove(key);
            }

            identities.Remove(customer);
            return ValueTask.CompletedTask;
        }

        ValueTask<IReadOnlyList<OrderRecord>> IOrderRepository.ListByCustomerAsync(CustomerId customer, CancellationToken cancellationToken)
        {
            var result = data.Orders.Values.Where(o => o.Customer == customer && !orders.ContainsKey(o.OrderId))
                .Concat(orders.Values.Select(o => o.Value).Where(o => o.Customer == customer))
                .OrderBy(o => o.PlacedAt)
                .ToArray();
            return ValueTask.FromResult<IReadOnlyList<OrderRecord>>(result);
        }

        ValueTask IOrderRepository.AnonymizeCustomerAsync(CustomerId customer, CustomerId pseudonym, CancellationToken cancellationToken)
        {
            Erasure.Orders.Add((customer, pseudonym));
            foreach (var (id, (value, expected)) in orders.Where(kv => kv.Value.Value.Customer == customer).ToArray())
            {
                orders[id] = (value with { Customer = pseudonym, Identifiers = [] }, expected);
            }

            return ValueTask.CompletedTask;
        }

        ValueTask IDecisionRepository.DeleteAsync(CustomerId customer, CancellationToken cancellationToken)
        {
            Erasure.Decisions.Add(customer);
            decisions.RemoveAll(d => d.Customer == customer);
            return ValueTask.CompletedTask;
        }

        ValueTask IOutboxRepository.CancelForCustomerAsync(CustomerId customer, CancellationToken cancellationToken)
        {
            Erasure.Outbox.Add(customer);
            foreach (var key in outbox.Where(kv => kv.Value.Customer == customer).Select(kv => kv.Key).ToArray())
            {
                outbox.Remove(key);
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Buffered erasures of the core repositories.</summary>
    internal sealed class InMemoryErasurePart(TenantData data) : IInMemoryPart
    {
        public HashSet<CustomerId> Events { get; } = [];

        public HashSet<CustomerId> Identities { get; } = [];

        public List<(CustomerId Customer, CustomerId Pseudonym)> Orders { get; } = [];

        public HashSet<CustomerId> Decisions { get; } = [];

        public HashSet<CustomerId> Outbox { get; } = [];

        public void Validate()
        {
        }

        public void Apply()
        {
            if (Events.Count > 0)
            {
                foreach (var (id, e) in data.Events.Where(kv => kv.Value.Customer is { } c && Events.Contains(c)).ToArray())
                {
                    data.Events[id] = e with { Customer = null };
                }
            }

            foreach (var customer in Identities)
            {
                data.Identities.Remove(customer);
                foreach (var key in data.IdentifierIndex.Where(kv => kv.Value == customer).Select(kv => kv.Key).ToArray())
                {
                    data.IdentifierIndex.Remove(key);
                }
            }

            foreach (var (customer, pseudonym) in Orders)
            {
                foreach (var order in data.Orders.Values.Where(o => o.Customer == customer).ToArray())
                {
                    data.Orders[order.OrderId] = order with { Customer = pseudonym, Identifiers = [] };
                }
            }

            foreach (var customer in Decisions)
            {
                data.Decisions.Remove(customer);
            }

            if (Outbox.Count > 0)
            {
                lock (data.OutboxLock)
                {
                    foreach (var key in data.Outbox.Where(kv => Outbox.Contains(kv.Value.Message.Customer)).Select(kv => kv.Key).ToArray())
                    {
                        data.Outbox.Remove(key);
                    }
                }
            }
        }

        public void Clear()
        {
            Events.Clear();
            Identities.Clear();
            Orders.Clear();
            Decisions.Clear();
            Outbox.Clear();
        }
    }
}
