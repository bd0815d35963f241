using BenchmarkDotNet.Attributes;

namespace Loyalty.Sdk.Predictive.Benchmarks;

/// <summary>
/// Scores 1,000,000 synthetic customers (ages on a daily grid over two years, as real data have): P(alive), expected
/// purchases in 90 days, expected spend and a 52-week discounted CLV.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ScoringBenchmarks
{
    private CustomerSummary[] _customers = [];
    private CustomerScore[] _results = [];
    private CustomerScorer _scorer = null!;

    [Params(1_000_000)]
    public int Customers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var purchases = new BgNbdModel(0.243, 4.414, 0.793, 2.426);
        var spend = new GammaGammaModel(6.25, 3.74, 15.44);
        _customers = PredictiveSimulation.SimulateBgNbd(purchases, spend, Customers, 0, 104, seed: 7, timeResolution: 1.0 / 7);
        _results = new CustomerScore[Customers];
        _scorer = new CustomerScorer(purchases, spend, ScoringOptions.ForUnit(TimeUnit.Week));
    }

    [Benchmark(Baseline = true)]
    public void ScoreSingleThread() => _scorer.Score(_customers, _results);

    [Benchmark]
    public void ScoreParallel() => _scorer.ScoreParallel(_customers, _results);
}
