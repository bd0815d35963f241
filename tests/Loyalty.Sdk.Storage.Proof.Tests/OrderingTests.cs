namespace Loyalty.Sdk.Storage.Proof.Tests;

/// <summary>
/// The premise of the multi-node proof, without any storage in the way: the final state does not depend on how the
/// identity components (<see cref="EventOrdering"/>) interleave, only on each component's own order. If this failed,
/// a multi-node difference would be the engine's semantics, not the store.
/// </summary>
public sealed class OrderingTests(ProofEvents source) : IClassFixture<ProofEvents>
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 16)]
    public async Task Another_interleaving_of_identity_components_gives_the_reference_digest(int seed, int batch)
    {
        await using var host = ProofHost.Create("memory:in-process");
        var summary = await new ProofIngestion(host, source.Events, new ProofShare { Shuffle = seed, Batch = batch }, TextWriter.Null, TextWriter.Null).RunAsync();
        var digest = await StateDigest.ComputeAsync(host, source.Events);
        Assert.Equal(0, summary.Rejected);
        Assert.Empty(digest.Problems);
        Assert.Equal(source.Reference.Sha256, digest.Sha256);
    }

    [Fact]
    public void An_order_and_its_completion_are_in_one_component_even_without_a_shared_identifier()
    {
        var placed = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < source.Events.Count; i++)
        {
            if (source.Events[i] is Events.OrderPlaced o)
            {
                placed.TryAdd(o.OrderId, i); // the first copy (the source re-sends some events)
            }
        }

        var ordering = EventOrdering.Compute(source.Events, "FR");
        for (var i = 0; i < source.Events.Count; i++)
        {
            if (source.Events[i] is Events.OrderCompleted c)
            {
                Assert.Equal(ordering.Component[placed[c.OrderId]], ordering.Component[i]);
                Assert.True(ordering.Predecessor[i] >= placed[c.OrderId]);
            }
        }

        Assert.True(ordering.ComponentCount > 100, $"only {ordering.ComponentCount} components: little room for concurrency");
    }
}
