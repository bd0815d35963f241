using System.Diagnostics;
using BenchmarkDotNet.Running;
using Loyalty.Sdk.Consent.Benchmarks;

// `dotnet run -c Release -- --quick` measures checks per second on one thread without BenchmarkDotNet (a few seconds);
// otherwise BenchmarkDotNet runs (pass its arguments, e.g. --filter '*' --job short).
if (args.Contains("--quick"))
{
    var bench = new SendGateBenchmarks();
    bench.Setup();
    foreach (var (name, run) in new (string, Func<object>)[] { ("Send", bench.Send), ("QuietHours", bench.QuietHours), ("CapHit", bench.CapHit) })
    {
        for (var i = 0; i < 200_000; i++)
        {
            run();
        }

        var rates = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            const int N = 1_000_000;
            for (var i = 0; i < N; i++)
            {
                run();
            }

            rates.Add(N / watch.Elapsed.TotalSeconds);
            if (round == 4)
            {
                Console.WriteLine($"{name,-11} median {rates.Order().ElementAt(2):N0} checks/s, {(GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)N:N0} B/check");
            }
        }
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(SendGateBenchmarks).Assembly).Run(args);
