using System.Collections.Immutable;

namespace Loyalty.Sdk.Identity.Matching.Clustering;

/// <summary>A group of records judged to be the same person.</summary>
/// <param name="RecordIds">Member ids, sorted (ordinal).</param>
public sealed record IdentityCluster(ImmutableArray<string> RecordIds)
{
    /// <summary>The number of records in the cluster.</summary>
    public int Size => RecordIds.Length;
}

/// <summary>The clusters of accepted pairs and what the size guard did.</summary>
/// <param name="Clusters">Clusters of two or more records, sorted by their first id (ordinal).</param>
/// <param name="DroppedEdges">Accepted pairs left out because merging them would exceed the size cap (weakest first is how they were met: strongest edges are merged first).</param>
/// <param name="MaxClusterSize">The cap in force.</param>
public sealed record ClusteringResult(ImmutableArray<IdentityCluster> Clusters, ImmutableArray<ScoredPair> DroppedEdges, int MaxClusterSize)
{
    /// <summary>True when the size guard dropped at least one edge.</summary>
    public bool GuardTriggered => !DroppedEdges.IsEmpty;

    /// <summary>The size of the largest cluster (0 when there is none).</summary>
    public int LargestClusterSize => Clusters.IsEmpty ? 0 : Clusters.Max(c => c.Size);
}

/// <summary>
/// Union–find clustering with a size guard. Edges are merged from the strongest to the weakest; an edge whose merge
/// would create a cluster larger than the cap is dropped (and reported). A chain of weak links therefore cannot
/// glue strong clusters into a giant component: the weakest links are the ones cut.
/// </summary>
public static class ClusterBuilder
{
    /// <summary>Clusters accepted pairs.</summary>
    /// <param name="acceptedPairs">The pairs to merge.</param>
    /// <param name="maxClusterSize">The largest cluster allowed (at least 2).</param>
    /// <returns>The clusters and dropped edges.</returns>
    public static ClusteringResult Build(IEnumerable<ScoredPair> acceptedPairs, int maxClusterSize)
    {
        ArgumentNullException.ThrowIfNull(acceptedPairs);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxClusterSize, 2);
        var edges = acceptedPairs.ToList();
        edges.Sort(static (a, b) =>
        {
            var c = b.MatchWeight.CompareTo(a.MatchWeight);
            if (c == 0)
            {
                c = string.CompareOrdinal(a.LeftId, b.LeftId);
            }

            return c != 0 ? c : string.CompareOrdinal(a.RightId, b.RightId);
        });

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var ids = new List<string>();
        int IndexOf(string id)
        {
            if (!index.TryGetValue(id, out var i))
            {
                i = ids.Count;
                index.Add(id, i);
                ids.Add(id);
            }

            return i;
        }

        foreach (var edge in edges)
        {
            IndexOf(edge.LeftId);
            IndexOf(edge.RightId);
        }

        var parent = Enumerable.Range(0, ids.Count).ToArray();
        var size = Enumerable.Repeat(1, ids.Count).ToArray();
        int Find(int x)
        {
            while (parent[x] != x)
            {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }

            return x;
        }

        var dropped = ImmutableArray.CreateBuilder<ScoredPair>();
        foreach (var edge in edges)
        {
            var a = Find(index[edge.LeftId]);
            var b = Find(index[edge.RightId]);
            if (a == b)
            {
                continue;
            }

            if (size[a] + size[b] > maxClusterSize)
            {
                dropped.Add(edge);
                continue;
            }

            if (size[a] < size[b])
            {
                (a, b) = (b, a);
            }

            parent[b] = a;
            size[a] += size[b];
        }

        var clusters = Enumerable.Range(0, ids.Count)
            .GroupBy(Find)
            .Where(g => g.Count() > 1)
            .Select(g => new IdentityCluster([.. g.Select(i => ids[i]).Order(StringComparer.Ordinal)]))
            .OrderBy(c => c.RecordIds[0], StringComparer.Ordinal)
            .ToImmutableArray();
        return new ClusteringResult(clusters, dropped.ToImmutable(), maxClusterSize);
    }
}
