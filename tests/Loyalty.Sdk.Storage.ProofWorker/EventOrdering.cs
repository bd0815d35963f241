using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;

namespace Loyalty.Sdk.Storage.Proof;

/// <summary>
/// The order the proofs keep: events that can affect one another are applied in file order, everything else may
/// interleave freely across nodes. Two events are related when they share an identifier (raw or normalized) or a
/// natural key (order, return, cart, ticket, message id), directly or through other events (union-find over the whole
/// file), which over-approximates everything that links customers in the engine (resolution, merges, sharing counts
/// and automatic blocks of shared values, orders followed by their completion, cancellation or return). This is the
/// order a queue partitioned by identity component delivers; the final state is then the same as a serial run in file
/// order.
/// </summary>
public sealed class EventOrdering
{
    private EventOrdering(int[] predecessor, int[] component, int components)
    {
        Predecessor = predecessor;
        Component = component;
        ComponentCount = components;
    }

    /// <summary>For each event, the index of the previous event of its component (-1 for the first).</summary>
    public IReadOnlyList<int> Predecessor { get; }

    /// <summary>For each event, its component (numbered by first appearance).</summary>
    public IReadOnlyList<int> Component { get; }

    /// <summary>How many components there are.</summary>
    public int ComponentCount { get; }

    /// <summary>Computes the components of <paramref name="events"/> (identifiers normalized with <paramref name="region"/>).</summary>
    public static EventOrdering Compute(IReadOnlyList<LoyaltyEvent> events, string region)
    {
        ArgumentNullException.ThrowIfNull(events);
        var parent = new List<int>();
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        var node = new int[events.Count];

        int Find(int x)
        {
            while (parent[x] != x)
            {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }

            return x;
        }

        int Key(string key)
        {
            if (!keys.TryGetValue(key, out var k))
            {
                keys[key] = k = parent.Count;
                parent.Add(k);
            }

            return k;
        }

        void Union(int a, int b)
        {
            var (ra, rb) = (Find(a), Find(b));
            if (ra != rb)
            {
                parent[Math.Max(ra, rb)] = Math.Min(ra, rb);
            }
        }

        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            node[i] = Key("event\u001f" + e.Id.Value); // a re-sent event joins its first copy
            foreach (var key in NaturalKeys(e))
            {
                Union(node[i], Key(key));
            }

            foreach (var id in e.Identifiers)
            {
                Union(node[i], Key($"{id.Type.Name}\u001f{id.Value}"));
                if (IdentifierNormalizer.Normalize(id, region).Identifier is { } normalized)
                {
                    Union(node[i], Key($"{normalized.Type.Name}\u001f{normalized.Value}"));
                }
            }
        }

        var predecessor = new int[events.Count];
        var component = new int[events.Count];
        var last = new Dictionary<int, int>();
        var numbers = new Dictionary<int, int>();
        for (var i = 0; i < events.Count; i++)
        {
            var root = Find(node[i]);
            predecessor[i] = last.TryGetValue(root, out var p) ? p : -1;
            last[root] = i;
            if (!numbers.TryGetValue(root, out var n))
            {
                numbers[root] = n = numbers.Count;
            }

            component[i] = n;
        }

        return new EventOrdering(predecessor, component, numbers.Count);
    }

    private static IEnumerable<string> NaturalKeys(LoyaltyEvent e) => e switch
    {
        OrderPlaced o => ["order\u001f" + o.OrderId],
        OrderCompleted o => ["order\u001f" + o.OrderId],
        OrderCancelled o => ["order\u001f" + o.OrderId],
        OrderReturned o => ["order\u001f" + o.OrderId, "return\u001f" + o.ReturnId],
        CartAbandoned c => ["cart\u001f" + c.CartId],
        SupportTicket t => ["ticket\u001f" + t.TicketId],
        Interaction { MessageId: { } m } => ["message\u001f" + m],
        _ => [],
    };
}
