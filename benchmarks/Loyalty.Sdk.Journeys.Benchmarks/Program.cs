using BenchmarkDotNet.Running;
using Loyalty.Sdk.Journeys.Benchmarks;

// `dotnet run -c Release -- --filter '*'` runs journey evaluation with 20 active journeys for every mix
// (JourneyStageBenchmark.Mix); JOURNEY_BENCH_MIX=mixed,orders selects some. The target is at least 200,000 events/s on
// the default (mixed) workload: see the events/s column (from the median).
BenchmarkSwitcher.FromAssembly(typeof(JourneyStageBenchmark).Assembly).Run(args);
