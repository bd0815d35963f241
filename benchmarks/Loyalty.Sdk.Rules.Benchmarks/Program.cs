using BenchmarkDotNet.Running;
using Loyalty.Sdk.Rules.Benchmarks;

if (args.Length > 0 && args[0] == "recompute")
{
    await RecomputeMeasurement.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000).ConfigureAwait(false);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(RuleEvaluationBenchmarks).Assembly).Run(args);
