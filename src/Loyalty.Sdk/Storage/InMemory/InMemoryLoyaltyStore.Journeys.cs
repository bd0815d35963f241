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

        public JourneyTimers Due { get; } = new();

        public DueLeases<(CustomerId Customer, string Journey)> Leases { get; } = new();

        public Dictionary<string, Dictionary<string, long>> Counters { get; } = new(StringComparer.Ordinal);

        public Dictionary<CustomerId, CustomerChannelResponse> Responses { get; } = [];
    }

    /// <summary>
    /// The journey timers of a tenant: the due time of each (customer, journey) in a hash table, and a binary heap
    /// ordered by (due, customer, journey) for listing. A changed or removed timer leaves its old heap entry behind
    /// (checked against the table and dropped when listing reaches it; the heap is rebuilt when stale entries
    /// outnumber live ones), so changing a timer costs one heap insertion and no node allocation.
    /// </summary>
    internal sealed class JourneyTimers
    {
        private readonly Dictionary<(string Customer, string Journey), long> due = [];
        private readonly PriorityQueue<(string Customer, string Journey, long Due), (long Due, string Customer, string Journey)> heap = new(JourneyDueComparer.Instance);

        public void Set(string customer, string journey, long? ticks)
        {
            if (ticks is not { } t)
            {
                due.Remove((customer, journey));
                return;
            }

            ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(due, (customer, journey), out var exists);
            if (exists && slot == t)
            {
                return;
            }

            slot = t;
            heap.Enqueue((customer, journey, t), (t, customer, journey));
            if (heap.Count > 1024 && heap.Count > 2 * due.Count)
            {
                // Rebuilt in one pass (an empty queue heapifies a range in linear time).
                heap.Clear();
                heap.EnqueueRange(due.Select(kv => ((kv.Key.Customer, kv.Key.Journey, kv.Value), (kv.Value, kv.Key.Customer, kv.Key.Journey))));
            }
        }

        /// <summary>Up to <paramref name="max"/> timers due at or before <paramref name="limit"/>, earliest first
        /// (then by customer and journey, ordinal).</summary>
        public IReadOnlyList<(string Customer, string Journey)> List(long limit, int max)
        {
            var result = new List<(string Customer, string Journey)>();
            var kept = new List<(string Customer, string Journey, long Due)>();
            var seen = new HashSet<(string, string)>();
            while (result.Count < max && heap.TryPeek(out var e, out var p) && p.Due <= limit)
            {
                heap.Dequeue();
                if (due.TryGetValue((e.Customer, e.Journey), out var t) && t == e.Due && seen.Add((e.Customer, e.Journey)))
                {
                    result.Add((e.Customer, e.Journey));
                    kept.Add(e);
                }
            }

            foreach (var e in kept)
            {
                heap.Enqueue(e, (e.Due, e.Customer, e.Journey));
            }

            return result;
        }
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

    private sealed class IdentityPairComparer : IEqualityComparer<(string, string)>
    {
        public static readonly IdentityPairComparer Instance = new();

        public bool Equals((string, string) x, (string, string) y) => ReferenceEquals(x.Item1, y.Item1) && ReferenceEquals(x.Item2, y.Item2);

        public int GetHashCode((string, string) obj) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Item1), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Item2));
    }

    /// <summary>The session's buffered journey writes.</summary>
    internal sealed class JourneyPart(JourneyData data) : IInMemoryPart, IJourneyRepository
    {
        // Pending instance writes per customer (a customer has a handful: a list searched by journey id), in the order
        // they were first written.
        private readonly Dictionary<CustomerId, List<Pending>> pending = [];
        // Counter increments of the session. Keyed by string identity (the journey code passes the same cached strings
        // again and again, so this is one cheap lookup); two equal strings that are different objects make two entries,
        // which commit adds up to the same stored counter.
        private readonly Dictionary<(string, string), long> counts = new(IdentityPairComparer.Instance);
        private readonly Dictionary<CustomerId, (CustomerChannelResponse Value, long Expected)> responses = [];
        private readonly HashSet<CustomerId> deleted = [];

        public void Validate()
        {
            foreach (var (customer, (_, expected)) in responses)
            {
                InMemorySession.CheckVersion(data.Responses.TryGetValue(customer, out var r) ? r.Version : 0, expected, $"channel response of {customer}");
            }

            foreach (var (customer, writes) in pending)
            {
                data.Instances.TryGetValue(customer, out var map);
                foreach (var w in writes)
                {
                    var stored = map is not null && map.TryGetValue(w.Journey, out var i) ? i.Version : 0;
                    if (stored != w.Expected)
                    {
                        InMemorySession.CheckVersion(stored, w.Expected, $"journey {w.Journey} of {customer}");
                    }
                }
            }
        }

        public void Apply()
        {
            foreach (var (customer, (value, _)) in responses)
            {
                data.Responses[customer] = value;
            }

            foreach (var (customer, writes) in pending)
            {
                if (!data.Instances.TryGetValue(customer, out var map))
                {
                    data.Instances[customer] = map = new Dictionary<string, JourneyInstance>(StringComparer.Ordinal);
                }

                foreach (var (journey, value, _) in writes)
                {
                    ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(map, journey, out _);
                    var oldDue = slot?.WakeAt;
                    slot = value;

                    data.Leases.End((customer, journey));

                    // The timer index changes only when the timer does (a conversion, for one, keeps it).
                    if (oldDue != value.WakeAt)
                    {
                        data.Due.Set(customer.Value, journey, value.WakeAt?.ToUnixTimeTicks());
                    }
                }
            }

            foreach (var customer in deleted)
            {
                if (data.Instances.Remove(customer, out var gone))
                {
                    foreach (var (journey, _) in gone)
                    {
                        data.Due.Set(customer.Value, journey, null);
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
            responses.Clear();
            deleted.Clear();
        }

        public ValueTask<IReadOnlyList<JourneyInstance>> ListForCustomerAsync(CustomerId customer, CancellationToken cancellationToken = default)
        {
            if (deleted.Count > 0 && deleted.Contains(customer))
            {
                return ValueTask.FromResult<IReadOnlyList<JourneyInstance>>([]);
            }

            data.Instances.TryGetValue(customer, out var map);
            pending.TryGetValue(customer, out var writes);
            var list = new List<JourneyInstance>((map?.Count ?? 0) + (writes?.Count ?? 0));
            if (map is not null)
            {
                foreach (var (journey, instance) in map)
                {
                    list.Add(writes is not null && Find(writes, journey) is var k and >= 0 ? writes[k].Value : instance);
                }
            }

            if (writes is not null)
            {
                foreach (var w in writes)
                {
                    if (map is null || !map.ContainsKey(w.Journey))
                    {
                        list.Add(w.Value);
                    }
                }
            }

            return ValueTask.FromResult<IReadOnlyList<JourneyInstance>>(list);
        }

        public ValueTask<JourneyInstance?> GetAsync(CustomerId customer, string journey, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(pending.TryGetValue(customer, out var writes) && Find(writes, journey) is var k and >= 0
                ? writes[k].Value
                : !deleted.Contains(customer) && data.Instances.TryGetValue(customer, out var map) ? map.GetValueOrDefault(journey) : null);

        public ValueTask SaveAsync(JourneyInstance instance, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(instance);
            ref var writes = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(pending, instance.Customer, out _);
            writes ??= new List<Pending>(16);
            var saved = instance with { Version = expectedVersion + 1 };
            var k = Find(writes, instance.Journey);
            if (k >= 0)
            {
                // The first expectation of the session is the one checked on commit.
                writes[k] = writes[k] with { Value = saved };
            }
            else
            {
                writes.Add(new Pending(instance.Journey, saved, expectedVersion));
            }

            return ValueTask.CompletedTask;
        }

        private static int Find(List<Pending> writes, string journey)
        {
            for (var k = 0; k < writes.Count; k++)
            {
                if (string.Equals(writes[k].Journey, journey, StringComparison.Ordinal))
                {
                    return k;
                }
            }

            return -1;
        }

        private readonly record struct Pending(string Journey, JourneyInstance Value, long Expected);

        public ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default)
        {
            var limit = now.ToUnixTimeTicks();
            IReadOnlyList<(CustomerId, string)> due = [.. data.Due.List(limit, max).Select(d => (new CustomerId(d.Customer), d.Journey))];
            return ValueTask.FromResult(due);
        }

        public ValueTask<IReadOnlyList<(CustomerId Customer, string Journey)>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
        {
            // Enough due timers to fill max after skipping every leased one.
            var candidates = data.Due.List(now.ToUnixTimeTicks(), (int)Math.Min(int.MaxValue, (long)max + data.Leases.Count));
            return ValueTask.FromResult<IReadOnlyList<(CustomerId Customer, string Journey)>>(data.Leases.Claim(candidates.Select(d => (new CustomerId(d.Customer), d.Journey)), max, owner, now, now + lease));
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
            pending.Remove(customer);
            responses.Remove(customer);
            deleted.Add(customer);
            return ValueTask.CompletedTask;
        }

        public ValueTask CountAsync(string journey, string counter, long delta = 1, CancellationToken cancellationToken = default)
        {
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, (journey, counter), out _) += delta;
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
