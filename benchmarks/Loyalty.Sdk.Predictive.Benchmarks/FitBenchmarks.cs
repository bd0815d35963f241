using BenchmarkDotNet.Attributes;

namespace Loyalty.Sdk.Predictive.Benchmarks;

/// <summary>Fits BG/NBD and Gamma-Gamma (with standard errors) on 100,000 synthetic customers.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class FitBenchmarks
{
    private CustomerSummary[] _customers = [];

    [Params(100_000)]
    public int Customers { get; set; }

    [GlobalSetup]
    public void Setup() =>
        _customers = PredictiveSimulation.SimulateBgNbd(
            new BgNbdModel(0.25, 4.4, 0.8, 2.4),
            new GammaGammaModel(6.25, 3.74, 15.44),
            Customers,
            minAge: 0,
            maxAge: 104,
            seed: 2024,
            timeResolution: 1.0 / 7);

    [Benchmark]
    public double FitBgNbdAndGammaGamma()
    {
        var bgnbd = BgNbdModel.Fit(_customers);
        var gammaGamma = GammaGammaModel.Fit(_customers);
        return bgnbd.LogLikelihood + gammaGamma.LogLikelihood;
    }

    [Benchmark]
    public double FitBgNbdOnly() => BgNbdModel.Fit(_customers).LogLikelihood;
}
