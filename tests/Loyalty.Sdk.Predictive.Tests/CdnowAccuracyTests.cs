using Xunit.Abstractions;

namespace Loyalty.Sdk.Predictive.Tests;

public sealed class CdnowAccuracyTests(ITestOutputHelper output)
{
    [Fact]
    public void BgNbd_fit_reproduces_published_parameters_and_log_likelihood()
    {
        if (CdnowData.Require(output) is not { } folder)
        {
            return;
        }

        var customers = CdnowData.ReadSummary(folder);
        Assert.Equal(2357, customers.Length);
        var fit = BgNbdModel.Fit(customers);
        var m = fit.Model;
        output.WriteLine($"r={m.R:F6} alpha={m.Alpha:F6} a={m.A:F6} b={m.B:F6} LL={fit.LogLikelihood:F6} iterations={fit.Iterations} converged={fit.Converged}");
        foreach (var e in fit.Estimates)
        {
            output.WriteLine($"{e.Name}: {e.Value:F4} (se {e.StandardError:F4})");
        }

        Assert.True(fit.Converged);
        Assert.Equal(0.243, m.R, 0.0005);
        Assert.Equal(4.414, m.Alpha, 0.0005);
        Assert.Equal(0.793, m.A, 0.0005);
        Assert.Equal(2.426, m.B, 0.0005);
        Assert.Equal(-9582.4, fit.LogLikelihood, 0.05);
        Assert.Equal(-9582.4, Math.Round(fit.LogLikelihood, 1), 0.01);
        Assert.Equal(fit.LogLikelihood, m.LogLikelihood(customers), 1e-6);

        // Standard errors (published by the lifetimes reference implementation: 0.013, 0.378, 0.185, 0.705).
        Assert.Equal(0.013, fit.Estimates[0].StandardError, 0.002);
        Assert.Equal(0.378, fit.Estimates[1].StandardError, 0.03);
        Assert.Equal(0.185, fit.Estimates[2].StandardError, 0.02);
        Assert.Equal(0.705, fit.Estimates[3].StandardError, 0.07);
    }

    [Fact]
    public void GammaGamma_fit_reproduces_published_parameters()
    {
        if (CdnowData.Require(output) is not { } folder)
        {
            return;
        }

        var customers = CdnowData.ReadSummaryWithTransactions(folder);
        var fit = GammaGammaModel.Fit(customers);
        var m = fit.Model;
        output.WriteLine($"p={m.P:F6} q={m.Q:F6} v={m.V:F6} LL={fit.LogLikelihood:F4} n={fit.CustomerCount} corr={fit.FrequencySpendCorrelation:F4}");
        Assert.Equal(946, fit.CustomerCount);
        Assert.True(fit.Converged);
        Assert.Equal(6.25, m.P, 0.005);
        Assert.Equal(3.74, m.Q, 0.005);
        Assert.Equal(15.44, m.V, 0.01);
        Assert.False(fit.CorrelationWarning);
        Assert.InRange(fit.FrequencySpendCorrelation, -0.3, 0.3);
    }

    [Fact]
    public void Conditional_expectation_matches_published_example()
    {
        var model = new BgNbdModel(0.243, 4.414, 0.793, 2.426);
        var expected = model.ConditionalExpectedPurchases(39, 2, 30.43, 38.86);
        output.WriteLine($"E = {expected:F6}");
        Assert.Equal(1.226, expected, 0.001);
    }

    [Fact]
    public void ParetoNbd_fit_reaches_published_log_likelihood()
    {
        if (CdnowData.Require(output) is not { } folder)
        {
            return;
        }

        var customers = CdnowData.ReadSummary(folder);
        var fit = ParetoNbdModel.Fit(customers);
        var m = fit.Model;
        output.WriteLine($"r={m.R:F4} alpha={m.Alpha:F4} s={m.S:F4} beta={m.Beta:F4} LL={fit.LogLikelihood:F4} evaluations={fit.Evaluations}");
        Assert.Equal(-9595.0, fit.LogLikelihood, 0.1);
        Assert.Equal(0.553, m.R, 0.01);
        Assert.Equal(10.578, m.Alpha, 0.2);

        // The likelihood is flat in beta: the published parameters give (almost) the same log-likelihood.
        var published = new ParetoNbdModel(0.553, 10.578, 0.606, 11.669);
        Assert.Equal(-9595.0, published.LogLikelihood(customers), 0.1);
    }
}

public sealed class CdnowTransactionTests(ITestOutputHelper output)
{
    [Fact]
    public void Summaries_derived_from_transactions_equal_the_published_summary()
    {
        if (CdnowData.Require(output) is not { } folder)
        {
            return;
        }

        var transactions = CdnowData.ReadTransactions(folder);
        Assert.Equal(6919, transactions.Length);
        var derived = SummaryBuilder.Build(transactions, CdnowData.CalibrationEnd, TimeUnit.Week).ToDictionary(s => s.Id);
        var published = CdnowData.ReadSummaryWithTransactions(folder);
        Assert.Equal(2357, published.Length);
        Assert.Equal(published.Length, derived.Count);
        foreach (var p in published)
        {
            var d = derived[p.Id];
            Assert.Equal(p.Frequency, d.Frequency);
            Assert.True(Math.Abs(p.Recency - d.Recency) <= 0.005 + 1e-9, $"t_x of {p.Id}: {d.Recency} vs {p.Recency}");
            Assert.True(Math.Abs(p.T - d.T) <= 0.005 + 1e-9, $"T of {p.Id}: {d.T} vs {p.T}");
            Assert.True(Math.Abs(p.MonetaryValue - d.MonetaryValue) <= 0.005 + 1e-9, $"zbar of {p.Id}: {d.MonetaryValue} vs {p.MonetaryValue}");
        }

        Assert.Equal(946, derived.Values.Count(s => s.Frequency > 0));
        Assert.Equal(2457, derived.Values.Sum(s => s.Frequency));

        // The Gamma-Gamma fit on the unrounded spend is as close to the published figures.
        var gg = GammaGammaModel.Fit(derived.Values.ToArray()).Model;
        output.WriteLine($"Gamma-Gamma on derived summaries: p={gg.P:F4} q={gg.Q:F4} v={gg.V:F4}");
        Assert.Equal(6.25, gg.P, 0.01);
        Assert.Equal(3.74, gg.Q, 0.01);
        Assert.Equal(15.44, gg.V, 0.02);
    }

    [Fact]
    public void Incremental_accumulator_agrees_with_the_batch_builder()
    {
        if (CdnowData.Require(output) is not { } folder)
        {
            return;
        }

        var transactions = CdnowData.ReadTransactions(folder);
        var batch = SummaryBuilder.Build(transactions, CdnowData.CalibrationEnd, TimeUnit.Week).ToDictionary(s => s.Id);
        var state = new Dictionary<string, CustomerSummaryAccumulator>();
        foreach (var t in transactions.Where(t => t.Date <= CdnowData.CalibrationEnd).OrderBy(t => t.Date))
        {
            state[t.CustomerId] = state.GetValueOrDefault(t.CustomerId).Add(t.Date, t.Amount);
        }

        Assert.Equal(batch.Count, state.Count);
        foreach (var (id, acc) in state)
        {
            Assert.Equal(batch[id], acc.ToSummary(id, CdnowData.CalibrationEnd, TimeUnit.Week));
        }
    }

    [Fact]
    public void Holdout_cumulative_forecast_is_about_four_percent_below_actual_at_week_78()
    {
        if (CdnowData.Require(output) is not { } folder)
        {
            return;
        }

        var model = BgNbdModel.Fit(CdnowData.ReadSummary(folder)).Model;
        var evaluation = HoldoutEvaluator.Evaluate(model, CdnowData.ReadTransactions(folder), CdnowData.CalibrationEnd, CdnowData.HoldoutEnd, TimeUnit.Week);
        Assert.Equal(78, evaluation.Cumulative.Count);
        var week39 = evaluation.Cumulative[38];
        var week78 = evaluation.Cumulative[77];
        output.WriteLine($"week 39: actual {week39.Actual} predicted {week39.Predicted:F1} (end {week39.End})");
        output.WriteLine($"week 78: actual {week78.Actual} predicted {week78.Predicted:F1} (end {week78.End}); error {evaluation.FinalPercentageError:F2}%");
        output.WriteLine($"cumulative MAE {evaluation.CumulativeMeanAbsoluteError:F1}, MAPE {evaluation.CumulativeMeanAbsolutePercentageError:F2}%, bucket MAE {evaluation.BucketMeanAbsoluteError:F3}");
        foreach (var b in evaluation.FrequencyBuckets)
        {
            output.WriteLine($"x={b.Label,-3} n={b.Customers,5} actual={b.ActualMean:F3} predicted={b.PredictedMean:F3}");
        }

        Assert.Equal(new NodaTime.LocalDate(1998, 6, 30), week78.End);
        Assert.Equal(2457, week39.Actual);
        Assert.Equal(4339, week78.Actual);
        Assert.InRange(evaluation.FinalPercentageError, -6.0, -2.0);
        Assert.Equal(8, evaluation.FrequencyBuckets.Count);
        Assert.Equal(2357, evaluation.FrequencyBuckets.Sum(b => b.Customers));
        Assert.InRange(evaluation.BucketMeanAbsoluteError, 0, 0.5);
    }
}
