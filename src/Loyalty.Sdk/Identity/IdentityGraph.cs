namespace Loyalty.Sdk.Identity;

/// <summary>
/// Replays a customer's identity graph from its recorded provenance (<see cref="CustomerIdentity.Evidence"/>): the
/// identifiers of one evidence record are connected to each other, and connectivity is transitive.
/// </summary>
internal static class IdentityGraph
{
    /// <summary>
    /// The connected components of <paramref name="identity"/>'s identifiers once <paramref name="removed"/> is taken
    /// out of every evidence record. The first component holds the earliest remaining identifier (it stays with the
    /// customer); the others follow in order of their earliest identifier; the removed identifier's own link comes
    /// last, alone. Each component's links keep the customer's order. Identifiers no evidence mentions (records written
    /// before evidence was kept) stay in the first component: nothing says they were tied through the removed one.
    /// </summary>
    public static List<List<IdentityLink>> Components(CustomerIdentity identity, Identifier removed)
    {
        var links = identity.Links;
        var index = new Dictionary<Identifier, int>(links.Count);
        for (var i = 0; i < links.Count; i++)
        {
            index.TryAdd(links[i].Identifier, i);
        }

        var removedIndex = index.GetValueOrDefault(removed, -1);
        var parent = new int[links.Count];
        for (var i = 0; i < parent.Length; i++)
        {
            parent[i] = i;
        }

        var attested = new bool[links.Count];
        foreach (var edge in identity.Evidence)
        {
            var first = -1;
            foreach (var id in edge.Identifiers)
            {
                if (!index.TryGetValue(id, out var i) || i == removedIndex)
                {
                    continue;
                }

                attested[i] = true;
                if (first < 0)
                {
                    first = i;
                }
                else
                {
                    Union(parent, first, i);
                }
            }
        }

        var anchor = -1;
        for (var i = 0; i < links.Count; i++)
        {
            if (i != removedIndex && (anchor < 0 || links[i].LinkedAt < links[anchor].LinkedAt))
            {
                anchor = i;
            }
        }

        var components = new List<List<IdentityLink>>();
        if (anchor < 0)
        {
            components.Add([]);
        }
        else
        {
            for (var i = 0; i < links.Count; i++)
            {
                if (i != removedIndex && !attested[i])
                {
                    Union(parent, anchor, i);
                }
            }

            // Components keyed by root; the anchor's first, then by earliest identifier (ties by position).
            var byRoot = new Dictionary<int, List<IdentityLink>>();
            var order = Enumerable.Range(0, links.Count).Where(i => i != removedIndex).OrderBy(i => links[i].LinkedAt).ThenBy(i => i).ToList();
            var anchorRoot = Find(parent, anchor);
            byRoot[anchorRoot] = [];
            components.Add(byRoot[anchorRoot]);
            foreach (var i in order)
            {
                var root = Find(parent, i);
                if (!byRoot.ContainsKey(root))
                {
                    byRoot[root] = [];
                    components.Add(byRoot[root]);
                }
            }

            for (var i = 0; i < links.Count; i++)
            {
                if (i != removedIndex)
                {
                    byRoot[Find(parent, i)].Add(links[i]);
                }
            }
        }

        if (removedIndex >= 0)
        {
            components.Add([links[removedIndex]]);
        }

        return components;
    }

    /// <summary>The evidence records restricted to <paramref name="identifiers"/>, keeping those that still tie two or
    /// more of them.</summary>
    public static IReadOnlyList<LinkEvidence> Restrict(IReadOnlyList<LinkEvidence> evidence, IReadOnlySet<Identifier> identifiers)
    {
        var kept = new List<LinkEvidence>();
        foreach (var edge in evidence)
        {
            var inside = edge.Identifiers.Where(identifiers.Contains).Distinct().ToArray();
            if (inside.Length > 1)
            {
                kept.Add(inside.Length == edge.Identifiers.Count ? edge : edge with { Identifiers = inside });
            }
        }

        return kept;
    }

    /// <summary>Whether one of <paramref name="evidence"/>'s records already ties every one of
    /// <paramref name="identifiers"/> (then a new record with them would change no replay). Allocation-free.</summary>
    public static bool Covers(IReadOnlyList<LinkEvidence> evidence, IReadOnlyList<Identifier> identifiers)
    {
        for (var r = 0; r < evidence.Count; r++)
        {
            var tied = evidence[r].Identifiers;
            var all = true;
            for (var i = 0; i < identifiers.Count && all; i++)
            {
                var found = false;
                for (var j = 0; j < tied.Count && !found; j++)
                {
                    found = tied[j] == identifiers[i];
                }

                all = found;
            }

            if (all)
            {
                return true;
            }
        }

        return false;
    }

    private static int Find(int[] parent, int i)
    {
        while (parent[i] != i)
        {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }

        return i;
    }

    private static void Union(int[] parent, int a, int b)
    {
        var ra = Find(parent, a);
        var rb = Find(parent, b);
        if (ra != rb)
        {
            // The smaller index becomes the root: deterministic.
            if (ra < rb)
            {
                parent[rb] = ra;
            }
            else
            {
                parent[ra] = rb;
            }
        }
    }
}
