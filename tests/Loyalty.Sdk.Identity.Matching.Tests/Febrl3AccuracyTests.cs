using System.Globalization;
using Loyalty.Sdk.Identity.Matching.Cli;
using Xunit.Abstractions;

namespace Loyalty.Sdk.Identity.Matching.Tests;

/// <summary>Unsupervised accuracy on FEBRL3 (5,000 records, 6,538 true pairs), through the CLI runner.</summary>
public sealed class Febrl3AccuracyTests(ITestOutputHelper output)
{
    [Fact]
    public void Unsupervised_model_beats_published_F1_at_probability_one_half()
    {
        var folder = TestData.Febrl3Folder(output);
        if (folder is null)
        {
            return;
        }

        var options = new DedupeOptions(Path.Combine(folder, "dataset3.csv"), "rec_id")
        {
            Threshold = 0.5,
            Truth = new IdPatternTruth(@"rec-(\d+)-"),
        };
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        var result = DedupeCommandRunner.Run(options, writer, CancellationToken.None);

        var metrics = result.Metrics!;
        var blocking = result.BlockingRecall!;
        output.WriteLine($"records={result.LeftRecords} candidates={result.Blocking.CandidatePairs} written={result.PairsWritten}");
        output.WriteLine($"lambda={result.Model.Prior:G6} iterations={result.Model.Iterations} converged={result.Model.Converged}");
        output.WriteLine($"TP={metrics.TruePositives} FP={metrics.FalsePositives} FN={metrics.FalseNegatives}");
        output.WriteLine($"precision={metrics.Precision:F4} recall={metrics.Recall:F4} F1={metrics.F1:F4}");
        output.WriteLine($"blocking recall={blocking.Recall:F4} ({blocking.TruePairsInCandidates}/{blocking.TruePairs})");
        foreach (var rule in result.Blocking.Rules)
        {
            output.WriteLine($"  rule {rule.Rule}: {rule.NewPairs} new pairs, {rule.SkippedBlocks} skipped blocks");
        }

        foreach (var field in result.Model.Fields)
        {
            output.WriteLine($"  {field.Field}: " + string.Join("; ", field.Levels.Select(l => $"{l.Name} m={l.M:F4} u={l.U:F5} w={l.Weight:F2}")));
        }

        Assert.Equal(5000, result.LeftRecords);
        Assert.Equal(6538, blocking.TruePairs);
        // Measured: blocking recall 0.9988 (6,530 / 6,538); precision 1.0000, recall 0.9985, F1 0.9992 (6,528 TP, 0 FP).
        // Floors sit a small margin below; F1 must beat the published Splink figure (0.9929) and 0.99.
        Assert.True(blocking.Recall >= 0.998, $"blocking recall {blocking.Recall:F4}");
        Assert.True(metrics.Precision >= 0.998, $"precision {metrics.Precision:F4}");
        Assert.True(metrics.Recall >= 0.995, $"recall {metrics.Recall:F4}");
        Assert.True(metrics.F1 >= 0.996, $"F1 {metrics.F1:F4}");
        Assert.True(metrics.F1 >= 0.99);
        Assert.True(result.Model.Converged);
    }
}
