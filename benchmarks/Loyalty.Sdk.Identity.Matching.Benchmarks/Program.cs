using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Short job (1 launch, 3 warm-up, 3 measured iterations), run in-process so that no extra project is generated and
// built next to the sources. Any BenchmarkDotNet command-line option (--filter, --job, ...) still applies.
var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
BenchmarkSwitcher.FromAssembly(typeof(Loyalty.Sdk.Identity.Matching.Benchmarks.DedupeBenchmarks).Assembly).Run(args, config);
