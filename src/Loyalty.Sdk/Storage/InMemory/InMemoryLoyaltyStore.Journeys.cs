using Loyalty.Sdk.Journeys;
using NodaTime;

namespace Loyalty.Sdk.Storage.InMemory;

/// <summary>The journeys capability's in-memory storage.</summary>
public sealed partial class InMemoryLoyaltyStore
{
    /// <summary>One tenant's journey data.</summary>
    internal sealed class JourneyData
    {
        public Dictionary<CustomerId, Dictionary<string, JourneyInstance>> Instances { get; } = [];

        public SortedSet<(long Due, string Customer, string Journey)> Due { get; } = new(JourneyDueComparer.Instance);

        public DueLeases<(CustomerId Customer, string Journey)> Leases { get; } = new();

        public Dictionary<string, Dictionary<string, long>> Counters { get; } = new(StringComparer.Ordinal);

        public Dictionary<CustomerId, CustomerChannelResponse> Responses { get; } = [];
    }

    private sealed class JourneyDueComparer : IComparer<(long Due, string Customer, string Journey)>
    {
        public static readonly JourneyDueComparer Instance = new();

        public int Compare((long Due, string Customer, string Journey) x, (long Due, string Customer, string Journey) y)
        {
            var c = x.Due.CompareTo(y.Due);
            if (c == 0)
            {
                c = string.CompareOrdinal(x.Customer, y.Customer);
            }

            return c != 0 ? c : string.CompareOrdinal(x.Journey, y.Journey);
        }
    }

    /// <summary>The session's buffered journey writes.</summary>
    internal sealed class JourneyPart(JourneyData data) : IInMemoryPart, IJourneyRepository
    {
        private readonly Dictionary<(CustomerId, string), (JourneyInstance Value, long Expected)> pending = [];
        private readonly Dictionary<(string, string), long> counts = [];
        private readonly Dictionary<CustomerId, List<string>> pendingByCustomer = [];
        private readonly Dictionary<CustomerId, (CustomerChannelResponse Value, long Expected)> responses = [];
        private readonly HashSet<CustomerId> deleted = [];

        public void Validate()
        {
            foreach (var (customer, (_, expected)) in responses)
            {
                InMemorySession.CheckVersion(data.Responses.TryGetValue(customer, out var r) ? r.Version : 0, expected, $"channel response of {customer}");
            }

            foreach (var ((customer, journey), (_, expected)) in pending)
            {
                var stored = data.Instances.TryGetValue(customer, out var map) && map.TryGetValue(journey, out var i) ? i.Version : 0;
                InMemorySession.CheckVersion(stored, expected, $"journey {journey} of {customer}");
            }
        }

        public void Apply()
        {
            foreach (var (customer, (value, _)) in responses)
            {
                data.Responses[customer] = value;
            }

            foreach (var ((customer, journey), (value, _)) in pending)
            {
                if (!data.Instances.TryGetValue(customer, out var map))
                {
                    data.Instances[customer] = map = new Dictionary<string, JourneyInstance>(StringComparer.Ordinal);
                }

                if (map.TryGetValue(journey, out var old) && old.WakeAt is { } oldDue)
                {
                    data.Due.Remove((oldDue.ToUnixTimeTicks(), customer.Value, journey));
                }

                map[journey] = value;
                data.Leases.End((customer, journey));
                if (value.WakeAt is { } due)
                {
                    data.Due.Add((due.ToUnixTimeTicks(), customer.Value, journey));
                }
            }

            foreach (var customer in deleted)
            {
                if (data.Instances.Remove(customer, out var gone))
                {
                    foreach (var (journey, instance) in gone)
                    {
                        if (instance.WakeAt is { } due)
                        {
                            data.Due.Remove((due.ToUnixTimeTicks(), customer.Value, journey));
                        }
                    }
                }

                data.Responses.Remove(customer);
            }

            foreach (var ((journey, counter), delta) in counts)
            {
                if (!data.Counters.TryGetValue(journey, out var c))
                {
                    data.Counters[journey] = c = new Dictionary<string, long>(StringComparer.Ordinal);
                }

                c[counter] = c.GetValueOrDefault(counter) + delta;
            }
        }

        public void Clear()
        {
            pending.Clear();
            counts.Clear();
            pendingByCustomer.Clear();
            responses.Clear();
            deleted.Clear();
        }

        public ValueTask<IReadOnlyList<JourneyInstance>> ListForCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default)
        {
            var list = new List<JourneyInstance>();
            if (deleted.Contains(customer))
            {
                return ValueTask.FromResult<IReadOnlyList<JourneyInstance>>(list);
            }

            if (data.Instances.TryGetValue(customer, out var map))
            {
                foreach (var (journey, instance) in map)
                {
                    list.Add(pending.TryGetValue((customer, journey), out var p) ? p.Value : instance);
                }
            }

            if (pendingByCustomer.TryGetValue(customer, out var journeys))
            {
                foreach (var journey in journeys)
                {
                    if (map is null || !map.ContainsKey(journey))
                    {
                        list.Add(pending[(customer, journey)].Value);
                    }
                }
            }

            return ValueTask.FromResult<IReadOnlyList<JourneyInstance>>(list);
        }

        public ValueTask<JourneyInstance?> GetAsync(CustomerId customer, string journey, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(pending.TryGetValue((customer, journey), out var p)
                ? p.Value
                : !deleted.Contains(customer) && data.Instances.TryGetValue(customer, out var map) ? map.GetValueOrDefault(journey) : null);

        public ValueTask SaveAsync(JourneyInstance instance, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(instance);
            var key = (instance.Customer, instance.Journey);
            var first = expectedVersion;
            if (pending.TryGetValue(key, out var p))
            {
                first = p.Expected;
            }
            else
            {
                if (!pendingByCustomer.TryGetValue(instance.Customer, out var journeys))
                {
                    pendingByCustomer[instance.Customer] = journeys = [];
                }

                journeys.Add(instance.Journey);
            }

            pending[key] = (instance with { Version = expectedVersion + 1 }, first);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default)
        {
            var limit = now.ToUnixTimeTicks();
            IReadOnlyList<(CustomerId, string)> due = data.Due.TakeWhile(d => d.Due <= limit).Take(max).Select(d => (new CustomerId(d.Customer), d.Journey)).ToArray();
            return ValueTask.FromResult(due);
        }

        public ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
        {
            var limit = now.ToUnixTimeTicks();
            return ValueTask.FromResult<IReadOnlyList<(CustomerId Customer, string Journey)>>(data.Leases.Claim(data.Due.TakeWhile(d => d.Due <= limit).Select(d => (new CustomerId(d.Customer), d.Journey)), max, owner, now, now + lease));
        }

        public ValueTask<CustomerChannelResponse?> GetResponseAsync(CustomerId customer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(responses.TryGetValue(customer, out var p) ? p.Value : deleted.Contains(customer) ? null : data.Responses.GetValueOrDefault(customer));

        public ValueTask SaveResponseAsync(CustomerChannelResponse response, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(response);
            var first = responses.TryGetValue(response.Customer, out var p) ? p.Expected : expectedVersion;
            responses[response.Customer] = (response with { Version = expectedVersion + 1 }, first);
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default)
        {
            // Writes of this session for the customer are dropped; what is stored goes on commit.
            foreach (var key in pending.Keys.Where(k => k.Item1 == customer).ToArray())
            {
                pending.Remove(key);
            }

            pendingByCustomer.Remove(customer);
            responses.Remove(customer);
            deleted.Add(customer);
            return ValueTask.CompletedTask;
        }

        public ValueTask CountAsync(string journey, string counter, long delta = 1, CancellationToken cancellationToken = default)
        {
            counts[(journey, counter)] = counts.GetValueOrDefault((journey, counter)) + delta;
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<JourneyStats>> GetStatsAsync(CancellationToken cancellationToken = default)
        {
            IReadOnlyList<JourneyStats> stats = data.Counters
                .OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => new JourneyStats { Journey = kv.Key, Counters = new Dictionary<string, long>(kv.Value, StringComparer.Ordinal) })
                .ToArray();
            return ValueTask.FromResult(stats);
        }
    }

    internal sealed partial class InMemorySession
    {
        public IJourneyRepository Journeys => Part(d => new JourneyPart(d.Extension<JourneyData>()));
    }
}
