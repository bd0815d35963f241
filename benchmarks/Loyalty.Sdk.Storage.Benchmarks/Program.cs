using BenchmarkDotNet.Running;
using Loyalty.Sdk.Storage.Benchmarks;

// dotnet run -c Release --project benchmarks/Loyalty.Sdk.Storage.Benchmarks -- --filter '*' --job short
//
// In process unless told otherwise: the out-of-process toolchain rebuilds src/ into its default bin/obj folders,
// which clashes with other builds of the repository and ignores --artifacts-path. In process, one PostgreSQL server
// (a throwaway one unless LOYALTY_POSTGRES_CONNECTION is set) serves every benchmark and is stopped at the end.
string[] bdnArgs = args.Any(a => a is "--inProcess" or "-i" or "--toolchain" or "--runtimes" or "-r")
    ? args
    : [.. args, "--inProcess"];
try
{
    BenchmarkSwitcher.FromAssembly(typeof(IngestBenchmarks).Assembly).Run(bdnArgs);
}
finally
{
    BenchDatabases.Shutdown();
}

return 0;
