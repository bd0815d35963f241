using BenchmarkDotNet.Attributes;
using Loyalty.Sdk.Identity.Matching.Blocking;
using Loyalty.Sdk.Identity.Matching.Comparison;
using Loyalty.Sdk.Identity.Matching.Synthetic;

namespace Loyalty.Sdk.Identity.Matching.Benchmarks;

/// <summary>Comparing candidate pairs field by field into a comparison vector (the inner loop of matching).</summary>
[MemoryDiagnoser]
public class PairComparisonBenchmarks
{
    private const int PairCount = 1024;
    private IdentityMatcher.Engine _engine = null!;
    private long[] _pairs = null!;

    [GlobalSetup]
    public void Setup()
    {
        var data = SyntheticPersonGenerator.Generate(new SyntheticDataOptions { RecordCount = 5000, Seed = 1 });
        var settings = MatcherSettings.Default;
        var prepared = FieldNormalizer.Prepare(data.Records, null, null, CancellationToken.None);
        _engine = new IdentityMatcher.Engine(settings, data.Records.Schema, prepared);
        var (candidates, _) = Blocker.Generate(data.Records.Schema, prepared, BlockingRule.DefaultsFor(data.Records.Schema), 1000, CancellationToken.None);
        _pairs = [.. candidates.Take(PairCount)];
    }

    /// <summary>One operation = comparing 1,024 candidate pairs on all 11 fields.</summary>
    [Benchmark(OperationsPerInvoke = PairCount)]
    public ulong ComparePair()
    {
        ulong acc = 0;
        foreach (var pair in _pairs)
        {
            var (i, j) = Blocker.Unpack(pair);
            acc ^= _engine.Compare(i, j);
        }

        return acc;
    }
}
