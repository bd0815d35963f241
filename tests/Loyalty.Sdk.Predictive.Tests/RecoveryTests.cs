using Xunit.Abstractions;

namespace Loyalty.Sdk.Predictive.Tests;

public sealed class RecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public void BgNbd_recovers_simulated_parameters()
    {
        var truth = new BgNbdModel(0.5, 6.0, 0.8, 2.5);
        var data = PredictiveSimulation.SimulateBgNbd(truth, null, 20_000, 26, 78, seed: 20240601);
        var fit = BgNbdModel.Fit(data);
        double[] expected = [truth.R, truth.Alpha, truth.A, truth.B];
        for (var i = 0; i < 4; i++)
        {
            var e = fit.Estimates[i];
            output.WriteLine($"{e.Name}: true {expected[i]} estimate {e.Value:F4} se {e.StandardError:F4}");
            Assert.True(Math.Abs(e.Value - expected[i]) <= 4 * e.StandardError, $"{e.Name} {e.Value} is more than 4 standard errors from {expected[i]}");
            Assert.True(Math.Abs(e.Value - expected[i]) <= 0.15 * expected[i], $"{e.Name} {e.Value} is more than 15% from {expected[i]}");
        }
    }

    [Fact]
    public void GammaGamma_recovers_simulated_parameters()
    {
        var purchases = new BgNbdModel(2.0, 8.0, 0.5, 4.0);
        var truth = new GammaGammaModel(6.0, 4.0, 15.0);
        var data = PredictiveSimulation.SimulateBgNbd(purchases, truth, 20_000, 26, 78, seed: 7);
        var fit = GammaGammaModel.Fit(data);
        output.WriteLine($"repeat customers {fit.CustomerCount}, correlation {fit.FrequencySpendCorrelation:F3}");
        double[] expected = [truth.P, truth.Q, truth.V];
        for (var i = 0; i < 3; i++)
        {
            var e = fit.Estimates[i];
            output.WriteLine($"{e.Name}: true {expected[i]} estimate {e.Value:F4} se {e.StandardError:F4}");
            Assert.True(Math.Abs(e.Value - expected[i]) <= 4 * e.StandardError, $"{e.Name} {e.Value} is more than 4 standard errors from {expected[i]}");
        }

        Assert.False(fit.CorrelationWarning);
    }

    [Fact]
    public void Simulation_is_deterministic_for_a_seed()
    {
        var model = new BgNbdModel(0.5, 6.0, 0.8, 2.5);
        var first = PredictiveSimulation.SimulateBgNbd(model, new GammaGammaModel(6, 4, 15), 500, 10, 50, seed: 3);
        var second = PredictiveSimulation.SimulateBgNbd(model, new GammaGammaModel(6, 4, 15), 500, 10, 50, seed: 3);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Penalizer_shrinks_parameters_and_lowers_the_log_likelihood()
    {
        var truth = new BgNbdModel(0.5, 6.0, 0.8, 2.5);
        var data = PredictiveSimulation.SimulateBgNbd(truth, null, 5_000, 26, 78, seed: 11);
        var plain = BgNbdModel.Fit(data);
        var penalized = BgNbdModel.Fit(data, new FitOptions { Penalizer = 0.01 });
        output.WriteLine($"plain alpha {plain.Model.Alpha:F3}, penalized alpha {penalized.Model.Alpha:F3}");
        Assert.True(penalized.Model.Alpha < plain.Model.Alpha);
        Assert.True(penalized.LogLikelihood < plain.LogLikelihood);
        Assert.Equal(0.01, penalized.Penalizer);
    }

    [Fact]
    public void Fit_honours_cancellation()
    {
        var data = PredictiveSimulation.SimulateBgNbd(new BgNbdModel(0.5, 6.0, 0.8, 2.5), null, 1_000, 26, 78, seed: 5);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => BgNbdModel.Fit(data, cancellationToken: cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => GammaGammaModel.Fit(data, cancellationToken: cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => ParetoNbdModel.Fit(data, cancellationToken: cts.Token));
    }
}
