using BenchmarkDotNet.Running;

namespace Loyalty.Sdk.Predictive.Benchmarks;

public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
