using BenchmarkDotNet.Attributes;
using Loyalty.Sdk.Identity.Matching.Synthetic;

namespace Loyalty.Sdk.Identity.Matching.Benchmarks;

/// <summary>End to end: prepare, block, compare, EM, score, cluster 100,000 synthetic person records.</summary>
[MemoryDiagnoser]
public class DedupeBenchmarks
{
    private RecordSet _records = null!;

    [Params(100_000)]
    public int Records { get; set; }

    [GlobalSetup]
    public void Setup() =>
        _records = SyntheticPersonGenerator.Generate(new SyntheticDataOptions { RecordCount = Records, Seed = 42 }).Records;

    [Benchmark]
    public int Deduplicate() => new IdentityMatcher().Deduplicate(_records).Pairs.Length;
}
