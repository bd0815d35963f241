using System.Diagnostics;
using Loyalty.Sdk.Identity.Matching.Evaluation;
using Loyalty.Sdk.Identity.Matching.Synthetic;
using Xunit.Abstractions;

namespace Loyalty.Sdk.Identity.Matching.Tests;

public sealed class MatcherTests(ITestOutputHelper output)
{
    [Fact]
    public void Explanation_weights_add_up_to_the_match_weight()
    {
        var data = SyntheticPersonGenerator.Generate(new SyntheticDataOptions { RecordCount = 2000, Seed = 11 });
        var result = new IdentityMatcher().Deduplicate(data.Records);
        Assert.NotEmpty(result.Pairs);
        foreach (var pair in result.Pairs.Take(200).Concat(result.Pairs.TakeLast(50)))
        {
            var explanation = result.Explain(pair);
            var sum = explanation.PriorWeight + explanation.Fields.Sum(f => f.PartialWeight);
            Assert.Equal(pair.MatchWeight, explanation.MatchWeight, 9);
            Assert.Equal(pair.MatchWeight, sum, 9);
            Assert.Equal(pair.MatchProbability, explanation.MatchProbability, 12);
            Assert.All(explanation.Fields.Where(f => f.LevelIndex < 0), f => Assert.Equal(0, f.PartialWeight));
            Assert.All(explanation.Fields.Where(f => f.TermFrequencyAdjustment != 0), f => Assert.Equal(0, f.LevelIndex));
        }
    }

    [Fact]
    public void Pairs_are_sorted_deterministic_and_respect_the_policy()
    {
        var data = SyntheticPersonGenerator.Generate(new SyntheticDataOptions { RecordCount = 3000, Seed = 2 });
        var settings = new MatcherSettings { Policy = new MatchPolicy(0.6, 0.99), MinimumReportedProbability = 0.6 };
        var a = new IdentityMatcher(settings).Deduplicate(data.Records);
        var b = new IdentityMatcher(settings with { MaxDegreeOfParallelism = 1 }).Deduplicate(data.Records);
        Assert.Equal(a.Pairs.ToArray(), b.Pairs.ToArray());
        Assert.Equal(a.Model.Prior, b.Model.Prior);
        Assert.All(a.Pairs, p => Assert.True(p.MatchProbability >= 0.6));
        Assert.All(a.Pairs, p => Assert.Equal(p.MatchProbability >= 0.99 ? MatchDecision.AutoMerge : MatchDecision.Review, p.Decision));
        Assert.All(a.Pairs, p => Assert.True(string.CompareOrdinal(p.LeftId, p.RightId) < 0));
        for (var i = 1; i < a.Pairs.Length; i++)
        {
            Assert.True(a.Pairs[i - 1].MatchWeight >= a.Pairs[i].MatchWeight);
        }

        var clustered = a.Clustering.Clusters.Sum(c => c.Size);
        Assert.True(clustered > 0);
        Assert.True(a.Clustering.LargestClusterSize <= settings.MaxClusterSize);
    }

    [Fact]
    public void Term_frequency_adjustment_favours_rare_values()
    {
        var schema = RecordSchema.Create(("given", FieldKind.GivenName), ("surname", FieldKind.Surname), ("dob", FieldKind.BirthDate));
        var records = new List<PersonRecord>();
        for (var i = 0; i < 200; i++)
        {
            records.Add(PersonRecord.Create($"s{i:D3}", $"name{i % 50}", "smith", $"19{50 + (i % 40)}0{1 + (i % 9)}1{i % 10}"));
        }

        records.Add(PersonRecord.Create("r1", "ann", "zyxwicz", "19800101"));
        records.Add(PersonRecord.Create("r2", "bob", "zyxwicz", "19900202"));
        var result = new IdentityMatcher(new MatcherSettings { MinimumReportedProbability = 0 }).Deduplicate(new RecordSet(schema, records));
        var rare = result.Explain("r1", "r2").Fields[1];
        var common = result.Explain("s000", "s001").Fields[1];
        Assert.Equal(0, rare.LevelIndex);
        Assert.Equal(0, common.LevelIndex);
        Assert.True(rare.TermFrequencyAdjustment > 0);
        Assert.True(common.TermFrequencyAdjustment < 0);
        Assert.True(rare.PartialWeight > common.PartialWeight);
    }

    [Fact]
    public void Generalises_to_an_unseen_synthetic_population()
    {
        var data = SyntheticPersonGenerator.Generate(new SyntheticDataOptions { RecordCount = 20_000, Seed = 42 });
        var stopwatch = Stopwatch.StartNew();
        var result = new IdentityMatcher().Deduplicate(data.Records);
        stopwatch.Stop();

        Func<string, string?> entityOf = id => data.EntityByRecordId[id];
        var metrics = LinkageEvaluation.Evaluate(result.PairsAbove(0.5), entityOf, data.Records.Records.Select(r => r.Id));
        var blocking = result.EvaluateBlocking(entityOf);
        output.WriteLine($"20k records: {stopwatch.Elapsed.TotalSeconds:F1} s (the 100k-record speed target is measured by DedupeBenchmarks), candidates={result.Blocking.CandidatePairs}, λ={result.Model.Prior:G4}, EM iterations={result.Model.Iterations}");
        output.WriteLine($"precision={metrics.Precision:F4} recall={metrics.Recall:F4} F1={metrics.F1:F4} blocking recall={blocking.Recall:F4}");
        output.WriteLine($"clusters={result.Clustering.Clusters.Length} largest={result.Clustering.LargestClusterSize} dropped edges={result.Clustering.DroppedEdges.Length}");

        Assert.Equal(data.TruePairs, blocking.TruePairs);
        Assert.True(blocking.Recall >= 0.97, $"blocking recall {blocking.Recall:F4}");
        Assert.True(metrics.F1 >= 0.95, $"F1 {metrics.F1:F4}");
    }

    [Fact]
    public void Cancellation_is_observed()
    {
        var data = SyntheticPersonGenerator.Generate(new SyntheticDataOptions { RecordCount = 500 });
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new IdentityMatcher().Deduplicate(data.Records, cts.Token));
    }
}
