using Loyalty.Sdk.Segments;
using NodaTime;

namespace Loyalty.Sdk.Storage.InMemory;

/// <summary>The segmentation capability's in-memory storage.</summary>
public sealed partial class InMemoryLoyaltyStore
{
    /// <summary>One tenant's segment data.</summary>
    internal sealed class SegmentData
    {
        public Dictionary<CustomerId, CustomerSegmentState> States { get; } = [];

        public SortedSet<(long Due, string Customer)> Due { get; } = new(SegmentDueComparer.Instance);

        public DueLeases<CustomerId> Leases { get; } = new();

        public Dictionary<string, HashSet<CustomerId>> Members { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (long Entered, long Exited)> Flow { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, List<SegmentSizePoint>> History { get; } = new(StringComparer.Ordinal);

        public CustomerSegmentState[]? Snapshot { get; set; }

        public void Enter(string segment, CustomerId customer)
        {
            if (!Members.TryGetValue(segment, out var set))
            {
                Members[segment] = set = [];
            }

            if (set.Add(customer))
            {
                var f = Flow.GetValueOrDefault(segment);
                Flow[segment] = (f.Entered + 1, f.Exited);
            }
        }

        public void Exit(string segment, CustomerId customer)
        {
            if (Members.TryGetValue(segment, out var set) && set.Remove(customer))
            {
                var f = Flow.GetValueOrDefault(segment);
                Flow[segment] = (f.Entered, f.Exited + 1);
            }
        }
    }

    private sealed class SegmentDueComparer : IComparer<(long Due, string Customer)>
    {
        public static readonly SegmentDueComparer Instance = new();

        public int Compare((long Due, string Customer) x, (long Due, string Customer) y)
        {
            var c = x.Due.CompareTo(y.Due);
            return c != 0 ? c : string.CompareOrdinal(x.Customer, y.Customer);
        }
    }

    /// <summary>The session's buffered segment writes.</summary>
    internal sealed class SegmentPart(SegmentData data) : IInMemoryPart, ISegmentRepository
    {
        private readonly Dictionary<CustomerId, (CustomerSegmentState? Value, long Expected)> states = [];
        private readonly List<SegmentMembershipChange> changes = [];
        private readonly List<Instant> records = [];

        public void Validate()
        {
            foreach (var (id, (_, expected)) in states)
            {
                InMemorySession.CheckVersion(data.States.TryGetValue(id, out var stored) ? stored.Version : 0, expected, $"segment state of {id}");
            }
        }

        public void Apply()
        {
            if (states.Count > 0 || changes.Count > 0)
            {
                data.Snapshot = null;
            }

            foreach (var (id, (value, _)) in states)
            {
                var old = data.States.GetValueOrDefault(id);
                data.Leases.End(id);
                if (old?.DueAt is { } oldDue)
                {
                    data.Due.Remove((oldDue.ToUnixTimeTicks(), id.Value));
                }

                foreach (var segment in old?.Memberships.Keys ?? Enumerable.Empty<string>())
                {
                    if (value is null || !value.Memberships.ContainsKey(segment))
                    {
                        data.Exit(segment, id);
                    }
                }

                if (value is null)
                {
                    data.States.Remove(id);
                    continue;
                }

                foreach (var segment in value.Memberships.Keys)
                {
                    if (old is null || !old.Memberships.ContainsKey(segment))
                    {
                        data.Enter(segment, id);
                    }
                }

                data.States[id] = value;
                if (value.DueAt is { } due)
                {
                    data.Due.Add((due.ToUnixTimeTicks(), id.Value));
                }
            }

            foreach (var c in changes)
            {
                if (!data.States.TryGetValue(c.Customer, out var state))
                {
                    continue;
                }

                if (c.Entered)
                {
                    state.Memberships[c.Segment] = c.At;
                    data.Enter(c.Segment, c.Customer);
                }
                else
                {
                    state.Memberships.Remove(c.Segment);
                    data.Exit(c.Segment, c.Customer);
                }
            }

            foreach (var at in records)
            {
                foreach (var segment in data.Members.Keys.Concat(data.Flow.Keys).Distinct().ToArray())
                {
                    var flow = data.Flow.GetValueOrDefault(segment);
                    if (!data.History.TryGetValue(segment, out var list))
                    {
                        data.History[segment] = list = [];
                    }

                    list.Add(new SegmentSizePoint(at, data.Members.TryGetValue(segment, out var set) ? set.Count : 0, flow.Entered, flow.Exited));
                    data.Flow[segment] = (0, 0);
                }
            }
        }

        public void Clear()
        {
            states.Clear();
            changes.Clear();
            records.Clear();
        }

        public ValueTask<CustomerSegmentState?> GetAsync(CustomerId customer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(states.TryGetValue(customer, out var pending) ? pending.Value?.Clone() : data.States.GetValueOrDefault(customer)?.Clone());

        public ValueTask SaveAsync(CustomerSegmentState state, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(state);
            var first = states.TryGetValue(state.Customer, out var pending) ? pending.Expected : expectedVersion;
            state.Version = expectedVersion + 1;
            states[state.Customer] = (state, first);
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(CustomerId customer, CancellationToken cancellationToken = default)
        {
            var stored = data.States.TryGetValue(customer, out var s) ? s.Version : 0;
            states[customer] = (null, states.TryGetValue(customer, out var pending) ? pending.Expected : stored);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<CustomerId>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default)
        {
            var limit = now.ToUnixTimeTicks();
            IReadOnlyList<CustomerId> due = data.Due.TakeWhile(d => d.Due <= limit).Take(max).Select(d => new CustomerId(d.Customer)).ToArray();
            return ValueTask.FromResult(due);
        }

        public ValueTask<IReadOnlyList<CustomerId>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
        {
            var limit = now.ToUnixTimeTicks();
            return ValueTask.FromResult<IReadOnlyList<CustomerId>>(data.Leases.Claim(data.Due.TakeWhile(d => d.Due <= limit).Select(d => new CustomerId(d.Customer)), max, owner, now, now + lease));
        }

        public ValueTask<IReadOnlyList<CustomerSegmentState>> ListAsync(int skip, int take, CancellationToken cancellationToken = default)
        {
            var snapshot = data.Snapshot ??= data.States.Values.ToArray();
            // Not `[]`: next to an ArraySegment it would be a default ArraySegment, which throws when enumerated.
            IReadOnlyList<CustomerSegmentState> page = skip >= snapshot.Length ? Array.Empty<CustomerSegmentState>() : new ArraySegment<CustomerSegmentState>(snapshot, skip, Math.Min(take, snapshot.Length - skip));
            return ValueTask.FromResult(page);
        }

        public ValueTask<int> CountAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(data.States.Count);

        public ValueTask ApplyChangesAsync(IReadOnlyList<SegmentMembershipChange> list, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(list);
            changes.AddRange(list);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyDictionary<string, long>> GetSizesAsync(CancellationToken cancellationToken = default)
        {
            IReadOnlyDictionary<string, long> sizes = data.Members.ToDictionary(kv => kv.Key, kv => (long)kv.Value.Count, StringComparer.Ordinal);
            return ValueTask.FromResult(sizes);
        }

        public ValueTask<IReadOnlyList<CustomerId>> ListMembersAsync(string segment, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<CustomerId> members = data.Members.TryGetValue(segment, out var set) ? set.ToArray() : [];
            return ValueTask.FromResult(members);
        }

        public ValueTask RecordSizesAsync(Instant at, CancellationToken cancellationToken = default)
        {
            records.Add(at);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<SegmentSizePoint>> GetSizeHistoryAsync(string segment, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<SegmentSizePoint> history = data.History.TryGetValue(segment, out var list) ? list.ToArray() : [];
            return ValueTask.FromResult(history);
        }
    }

    internal sealed partial class InMemorySession
    {
        public ISegmentRepository Segments => Part(d => new SegmentPart(d.Extension<SegmentData>()));
    }
}
