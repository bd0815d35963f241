using Loyalty.Sdk.Identity.Matching.Clustering;

namespace Loyalty.Sdk.Identity.Matching.Tests;

public sealed class ClusteringTests
{
    private static ScoredPair Edge(string a, string b, double weight)
        => new(a, b, weight, Model.FellegiSunterModel.ToProbability(weight), MatchDecision.AutoMerge);

    [Fact]
    public void Size_guard_breaks_a_chain_at_its_weakest_links()
    {
        // Two tight triangles joined by one weak link, then a weak tail: unguarded it is one component of 7.
        ScoredPair[] edges =
        [
            Edge("a1", "a2", 20), Edge("a2", "a3", 19), Edge("a1", "a3", 18),
            Edge("b1", "b2", 20), Edge("b2", "b3", 19), Edge("b1", "b3", 18),
            Edge("a3", "b1", 5),
            Edge("b3", "c1", 4),
        ];

        var unguarded = ClusterBuilder.Build(edges, 100);
        Assert.Single(unguarded.Clusters);
        Assert.Equal(7, unguarded.LargestClusterSize);
        Assert.False(unguarded.GuardTriggered);

        var guarded = ClusterBuilder.Build(edges, 4);
        Assert.True(guarded.GuardTriggered);
        Assert.True(guarded.LargestClusterSize <= 4);
        Assert.Contains(guarded.DroppedEdges, e => e.LeftId == "a3" && e.RightId == "b1");
        Assert.Equal(["a1", "a2", "a3"], guarded.Clusters[0].RecordIds.ToArray());
        Assert.Equal(["b1", "b2", "b3", "c1"], guarded.Clusters[1].RecordIds.ToArray());
        Assert.DoesNotContain(guarded.DroppedEdges, e => e.MatchWeight >= 18);
    }

    [Fact]
    public void Clusters_are_deterministic_whatever_the_edge_order()
    {
        ScoredPair[] edges = [Edge("x", "y", 3), Edge("y", "z", 3), Edge("p", "q", 9)];
        var a = ClusterBuilder.Build(edges, 10);
        var b = ClusterBuilder.Build(edges.Reverse(), 10);
        Assert.Equal(a.Clusters.Select(c => string.Join(',', c.RecordIds)), b.Clusters.Select(c => string.Join(',', c.RecordIds)));
    }
}
