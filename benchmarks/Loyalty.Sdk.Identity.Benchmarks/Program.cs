using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Loyalty.Sdk.Identity.Benchmarks.ResolutionBenchmarks).Assembly).Run(args);
