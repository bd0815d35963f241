using System.Collections.Concurrent;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Storage.InMemory;

/// <summary>
/// The in-memory adapter: thread-safe, one writer per tenant at a time, every session applied atomically on commit.
/// Data lives as long as the process. Use it for tests, simulations and single-process hosts that keep their own
/// event history for replay.
/// </summary>
public sealed partial class InMemoryLoyaltyStore : ILoyaltyStore
{
    private readonly ConcurrentDictionary<TenantId, TenantData> tenants = new();

    /// <summary>Creates an empty store.</summary>
    public InMemoryLoyaltyStore() => Outbox = new InMemoryOutboxStore(this);

    /// <inheritdoc />
    public IOutboxStore Outbox { get; }

    /// <summary>Tenants that have data.</summary>
    public IReadOnlyCollection<TenantId> Tenants => tenants.Keys.ToArray();

    /// <inheritdoc />
    public async ValueTask<ILoyaltyStoreSession> OpenSessionAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        if (tenant.Value is null)
        {
            throw new ArgumentException("A tenant is required.", nameof(tenant));
        }

        var data = tenants.GetOrAdd(tenant, _ => new TenantData());
        await data.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new InMemorySession(tenant, data);
    }

    internal TenantData Data(TenantId tenant) => tenants.GetOrAdd(tenant, _ => new TenantData());

    internal IEnumerable<(TenantId Tenant, TenantData Data)> AllTenants() => tenants.Select(kv => (kv.Key, kv.Value));

    /// <summary>All data of one tenant; guarded by <see cref="Gate"/> for writes.</summary>
    internal sealed class TenantData
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public Dictionary<EventId, ProcessedEvent> Events { get; } = [];

        public IdentifierIndex<CustomerId> IdentifierIndex { get; } = new();

        public Dictionary<CustomerId, CustomerIdentity> Identities { get; } = [];

        public Dictionary<CustomerId, CustomerProfile> Profiles { get; } = [];

        public Dictionary<string, OrderRecord> Orders { get; } = new(StringComparer.Ordinal);

        public Dictionary<CustomerId, List<Decision>> Decisions { get; } = [];

        public object OutboxLock { get; } = new();

        public Dictionary<string, InMemoryOutboxStore.Entry> Outbox { get; } = new(StringComparer.Ordinal);

        /// <summary>Per-capability data, keyed by its type (see <see cref="InMemorySession.Part{T}"/>).</summary>
        public ConcurrentDictionary<Type, object> Extensions { get; } = new();

        public T Extension<T>()
            where T : new() => (T)Extensions.GetOrAdd(typeof(T), _ => new T());
    }

    /// <summary>
    /// The in-memory side of one capability within a session: it buffers writes, checks them before anything is
    /// applied (<see cref="Validate"/>), applies them on commit, and forgets them on clear.
    /// </summary>
    internal interface IInMemoryPart
    {
        /// <summary>Throws (e.g. a concurrency conflict) if the buffered writes cannot be applied.</summary>
        void Validate();

        /// <summary>Applies the buffered writes to the tenant's data.</summary>
        void Apply();

        /// <summary>Forgets the buffered writes.</summary>
        void Clear();
    }

    internal sealed partial class InMemorySession(TenantId tenant, TenantData data) : ILoyaltyStoreSession,
        IProcessedEventRepository, IIdentityRepository, IProfileRepository, IOrderRepository, IDecisionRepository, IOutboxRepository
    {
        private readonly Dictionary<EventId, ProcessedEvent> events = [];
        private readonly IdentifierIndex<CustomerId> index = new();
        private readonly Dictionary<CustomerId, (CustomerIdentity Value, long Expected)> identities = [];
        private readonly Dictionary<CustomerId, (CustomerProfile? Value, long Expected)> profiles = [];
        private readonly Dictionary<string, (OrderRecord Value, long Expected)> orders = new(StringComparer.Ordinal);
        private readonly List<Decision> decisions = [];
        private readonly Dictionary<string, OutboxMessage> outbox = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> completions = new(StringComparer.Ordinal);
        private readonly Dictionary<Type, IInMemoryPart> parts = [];
        private bool disposed;

        public TenantId Tenant => tenant;

        public IProcessedEventRepository Events => this;

        public IIdentityRepository Identity => this;

        public IProfileRepository Profiles => this;

        public IOrderRepository Orders => this;

        public IDecisionRepository Decisions => this;

        public IOutboxRepository Outbox => this;

        public ValueTask CommitAsync(CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(disposed, this);

            // Check every expected version first so that nothing is applied when one conflicts.
            foreach (var (id, (_, expected)) in identities)
            {
                CheckVersion(data.Identities.TryGetValue(id, out var stored) ? stored.Version : 0, expected, $"identity {id}");
            }

            foreach (var (id, (_, expected)) in profiles)
            {
                CheckVersion(data.Profiles.TryGetValue(id, out var stored) ? stored.Version : 0, expected, $"profile {id}");
            }

            foreach (var (id, (_, expected)) in orders)
            {
                CheckVersion(data.Orders.TryGetValue(id, out var stored) ? stored.Version : 0, expected, $"order {id}");
            }

            foreach (var part in parts.Values)
            {
                part.Validate();
            }

            // Completions are checked and applied under the outbox lock, so no claim can come in between.
            var outboxLocked = false;
            try
            {
                if (completions.Count > 0)
                {
                    Monitor.Enter(data.OutboxLock, ref outboxLocked);
                    foreach (var (key, owner) in completions)
                    {
                        if (!data.Outbox.TryGetValue(key, out var entry) || entry.Owner != owner || entry.Done)
                        {
                            throw new ConcurrencyConflictException($"Outbox message '{key}' is no longer claimed by '{owner}'.");
                        }
                    }

                    foreach (var key in completions.Keys)
                    {
                        data.Outbox[key].Done = true;
                    }
                }
            }
            finally
            {
                if (outboxLocked)
                {
                    Monitor.Exit(data.OutboxLock);
                }
            }

            foreach (var (id, e) in events)
            {
                data.Events[id] = e;
            }

            foreach (var part in parts.Values)
            {
                part.Apply();
            }

            foreach (var (id, (value, _)) in identities)
            {
                data.Identities[id] = value;
            }

            foreach (var (identifier, customer) in index)
            {
                data.IdentifierIndex[identifier] = customer;
            }

            foreach (var (id, (value, _)) in profiles)
            {
                if (value is null)
                {
                    data.Profiles.Remove(id);
                }
                else
                {
                    data.Profiles[id] = value;
                }
            }

            foreach (var (id, (value, _)) in orders)
            {
                data.Orders[id] = value;
            }

            foreach (var d in decisions)
            {
                if (!data.Decisions.TryGetValue(d.Customer, out var list))
                {
                    data.Decisions[d.Customer] = list = [];
                }

                list.Add(d);
            }

            if (outbox.Count > 0)
            {
                lock (data.OutboxLock)
                {
                    foreach (var (key, message) in outbox)
                    {
                        data.Outbox.TryAdd(key, new InMemoryOutboxStore.Entry(message));
                    }
                }
            }

            Clear();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            if (!disposed)
            {
                disposed = true;
                Clear();
                data.Gate.Release();
            }

            return ValueTask.CompletedTask;
        }

        ValueTask<ProcessedEvent?> IProcessedEventRepository.FindAsync(EventId eventId, CancellationToken cancellationToken) =>
            ValueTask.FromResult(events.TryGetValue(eventId, out var e) || data.Events.TryGetValue(eventId, out e) ? e : null);

        ValueTask IProcessedEventRepository.AddAsync(ProcessedEvent processed, CancellationToken cancellationToken)
        {
            if (events.ContainsKey(processed.EventId) || data.Events.ContainsKey(processed.EventId))
            {
                throw new ConcurrencyConflictException($"Event {processed.EventId} was already ingested.");
            }

            events[processed.EventId] = processed;
            return ValueTask.CompletedTask;
        }

        ValueTask<CustomerId?> IIdentityRepository.FindByIdentifierAsync(Identifier identifier, CancellationToken cancellationToken) =>
            ValueTask.FromResult<CustomerId?>(index.TryGetValue(identifier, out var c) || data.IdentifierIndex.TryGetValue(identifier, out c) ? c : null);

        ValueTask<CustomerIdentity?> IIdentityRepository.GetAsync(CustomerId customer, CancellationToken cancellationToken) =>
            ValueTask.FromResult(identities.TryGetValue(customer, out var e) ? e.Value : data.Identities.GetValueOrDefault(customer));

        ValueTask IIdentityRepository.SaveAsync(CustomerIdentity identity, long expectedVersion, CancellationToken cancellationToken)
        {
            var first = identities.TryGetValue(identity.Customer, out var pending) ? pending.Expected : expectedVersion;
            identities[identity.Customer] = (identity with { Version = expectedVersion + 1 }, first);
            foreach (var link in identity.Links)
            {
                index[link.Identifier] = identity.Customer;
            }

            return ValueTask.CompletedTask;
        }

        ValueTask<CustomerProfile?> IProfileRepository.GetAsync(CustomerId customer, CancellationToken cancellationToken) =>
            ValueTask.FromResult(profiles.TryGetValue(customer, out var e) ? e.Value : data.Profiles.GetValueOrDefault(customer));

        ValueTask IProfileRepository.SaveAsync(CustomerProfile profile, long expectedVersion, CancellationToken cancellationToken)
        {
            var first = profiles.TryGetValue(profile.Customer, out var pending) ? pending.Expected : expectedVersion;
            profiles[profile.Customer] = (profile with { Version = expectedVersion + 1 }, first);
            return ValueTask.CompletedTask;
        }

        ValueTask IProfileRepository.DeleteAsync(CustomerId customer, CancellationToken cancellationToken)
        {
            var stored = data.Profiles.TryGetValue(customer, out var s) ? s.Version : 0;
            profiles[customer] = (null, profiles.TryGetValue(customer, out var pending) ? pending.Expected : stored);
            return ValueTask.CompletedTask;
        }

        ValueTask<OrderRecord?> IOrderRepository.GetAsync(string orderId, CancellationToken cancellationToken) =>
            ValueTask.FromResult(orders.TryGetValue(orderId, out var e) ? e.Value : data.Orders.GetValueOrDefault(orderId));

        ValueTask IOrderRepository.SaveAsync(OrderRecord order, long expectedVersion, CancellationToken cancellationToken)
        {
            var first = orders.TryGetValue(order.OrderId, out var pending) ? pending.Expected : expectedVersion;
            orders[order.OrderId] = (order with { Version = expectedVersion + 1 }, first);
            return ValueTask.CompletedTask;
        }

        ValueTask IDecisionRepository.AppendAsync(IReadOnlyList<Decision> list, CancellationToken cancellationToken)
        {
            decisions.AddRange(list);
            return ValueTask.CompletedTask;
        }

        ValueTask<IReadOnlyList<Decision>> IDecisionRepository.ListAsync(CustomerId customer, int skip, int take, CancellationToken cancellationToken)
        {
            var stored = data.Decisions.TryGetValue(customer, out var list) ? list : [];
            IReadOnlyList<Decision> page = stored.Concat(decisions.Where(d => d.Customer == customer)).Skip(skip).Take(take).ToArray();
            return ValueTask.FromResult(page);
        }

        ValueTask IOutboxRepository.CompleteAsync(string key, string owner, CancellationToken cancellationToken)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            ArgumentException.ThrowIfNullOrEmpty(owner);
            completions[key] = owner;
            return ValueTask.CompletedTask;
        }

        ValueTask<bool> IOutboxRepository.EnqueueAsync(OutboxMessage message, CancellationToken cancellationToken)
        {
            bool exists;
            lock (data.OutboxLock)
            {
                exists = data.Outbox.ContainsKey(message.Key);
            }

            return ValueTask.FromResult(!exists && outbox.TryAdd(message.Key, message));
        }

        /// <summary>The session's part of type <typeparamref name="T"/>, created on first use.</summary>
        internal T Part<T>(Func<TenantData, T> create)
            where T : IInMemoryPart
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (!parts.TryGetValue(typeof(T), out var part))
            {
                parts[typeof(T)] = part = create(data);
            }

            return (T)part;
        }

        internal static void CheckVersion(long stored, long expected, string what)
        {
            if (stored != expected)
            {
                throw new ConcurrencyConflictException($"The {what} is at version {stored}, not {expected}: another writer changed it.");
            }
        }

        private void Clear()
        {
            events.Clear();
            completions.Clear();
            index.Clear();
            identities.Clear();
            profiles.Clear();
            orders.Clear();
            decisions.Clear();
            outbox.Clear();
            foreach (var part in parts.Values)
            {
                part.Clear();
            }
        }
    }
}
