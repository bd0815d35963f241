using BenchmarkDotNet.Running;
using Loyalty.Sdk.Benchmarks;

// dotnet run -c Release --project benchmarks/Loyalty.Sdk.Benchmarks -- memory [--customers N]   → bytes per customer
// dotnet run -c Release --project benchmarks/Loyalty.Sdk.Benchmarks -- loop [--events N]         → plain loop, for profilers
// dotnet run -c Release --project benchmarks/Loyalty.Sdk.Benchmarks -- --filter '*' --job short → BenchmarkDotNet
switch (args)
{
    case ["memory", .. var rest]:
        return await MemoryPerCustomer.RunAsync(rest);
    case ["loop", .. var rest]:
        return await ThroughputLoop.RunAsync(rest);
}

// In process unless told otherwise: the out-of-process toolchain rebuilds src/ into its default bin/obj folders,
// which clashes with other builds of the repository and ignores --artifacts-path.
string[] bdnArgs = args.Any(a => a is "--inProcess" or "-i" or "--toolchain" or "--runtimes" or "-r")
    ? args
    : [.. args, "--inProcess"];
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(bdnArgs);
return 0;
