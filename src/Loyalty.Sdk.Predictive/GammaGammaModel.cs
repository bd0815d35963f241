using Loyalty.Sdk.Predictive.Internal;
using MathNet.Numerics;

namespace Loyalty.Sdk.Predictive;

/// <summary>
/// The Gamma-Gamma model of spend per transaction (Fader, Hardie and Lee 2005, "RFM and CLV"): each transaction value of a
/// customer is Gamma(p, ν) and ν ~ Gamma(q, v) across customers. It assumes that spend is independent of purchase frequency;
/// <see cref="GammaGammaFitResult.CorrelationWarning"/> flags data where that looks doubtful.
/// </summary>
public sealed record GammaGammaModel
{
    /// <summary>Creates a model from its three parameters.</summary>
    /// <param name="p">Shape of the per-transaction spend distribution.</param>
    /// <param name="q">Shape of the gamma mixing distribution.</param>
    /// <param name="v">Scale of the gamma mixing distribution (in the currency unit).</param>
    public GammaGammaModel(double p, double q, double v)
    {
        P = p;
        Q = q;
        V = v;
    }

    /// <summary>Shape p of the per-transaction spend distribution.</summary>
    public double P { get; init => field = Guard.Positive(value, nameof(P)); }

    /// <summary>Shape q of the mixing distribution.</summary>
    public double Q { get; init => field = Guard.Positive(value, nameof(Q)); }

    /// <summary>Scale v (often written γ) of the mixing distribution.</summary>
    public double V { get; init => field = Guard.Positive(value, nameof(V)); }

    /// <summary>The population mean spend per transaction, p v / (q - 1) (infinite when q ≤ 1).</summary>
    public double ExpectedAverageSpend => Q > 1 ? P * V / (Q - 1) : double.PositiveInfinity;

    /// <summary>
    /// E[spend per transaction | x, zbar] = (p (v + x zbar)) / (p x + q - 1): a weighted average of the population mean and the
    /// customer's observed mean. For x = 0 it is the population mean.
    /// </summary>
    /// <param name="frequency">x, the number of repeat transactions the mean is over.</param>
    /// <param name="monetaryValue">zbar, the observed mean spend (ignored when x = 0).</param>
    /// <returns>The expected spend per future transaction; infinite when q ≤ 1 and x = 0.</returns>
    public double ConditionalExpectedAverageSpend(double frequency, double monetaryValue)
    {
        Guard.NonNegative(frequency, nameof(frequency));
        Guard.NonNegative(monetaryValue, nameof(monetaryValue));
        return Conditional(P, Q, V, frequency, monetaryValue);
    }

    internal static double Conditional(double p, double q, double v, double x, double m)
    {
        var denominator = (p * x) + q - 1;
        return denominator > 0 ? p * (v + (x * (x > 0 ? m : 0))) / denominator : double.PositiveInfinity;
    }

    /// <summary>The log-likelihood of one repeat customer's mean spend.</summary>
    /// <param name="frequency">x &gt; 0.</param>
    /// <param name="monetaryValue">zbar &gt; 0.</param>
    /// <returns>The log density of zbar given x.</returns>
    public double LogLikelihood(double frequency, double monetaryValue)
    {
        Guard.Positive(frequency, nameof(frequency));
        Guard.Positive(monetaryValue, nameof(monetaryValue));
        var x = frequency;
        var m = monetaryValue;
        return SpecialFunctions.GammaLn((P * x) + Q) - SpecialFunctions.GammaLn(P * x) - SpecialFunctions.GammaLn(Q)
            + (Q * Math.Log(V)) + (((P * x) - 1) * Math.Log(m)) + (P * x * Math.Log(x)) - (((P * x) + Q) * Math.Log(V + (x * m)));
    }

    /// <summary>
    /// Fits the model by maximum likelihood on the repeat customers (x &gt; 0 and monetary value &gt; 0); other customers are
    /// ignored. Also measures the Pearson correlation between frequency and monetary value.
    /// </summary>
    /// <param name="customers">Customer summaries with <see cref="CustomerSummary.MonetaryValue"/> set.</param>
    /// <param name="options">Fit options; <see cref="FitOptions.Default"/> when null.</param>
    /// <param name="correlationThreshold">|r| above which <see cref="GammaGammaFitResult.CorrelationWarning"/> is set (default 0.3).</param>
    /// <param name="cancellationToken">Cancels the fit.</param>
    /// <returns>The fitted model.</returns>
    /// <exception cref="ArgumentException">Fewer than two repeat customers, or an invalid summary.</exception>
    public static GammaGammaFitResult Fit(
        ReadOnlySpan<CustomerSummary> customers,
        FitOptions? options = null,
        double correlationThreshold = 0.3,
        CancellationToken cancellationToken = default)
    {
        options ??= FitOptions.Default;
        options.Validate();
        var data = GammaGammaLikelihood.Create(customers, cancellationToken);
        var n = data.Count;
        var lambda = options.Penalizer;
        var natural = new double[3];
        var grad = new double[3];

        double Objective(ReadOnlySpan<double> logParams, Span<double> gradient)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var i = 0; i < 3; i++)
            {
                natural[i] = Math.Exp(logParams[i]);
                if (!double.IsFinite(natural[i]) || natural[i] <= 0)
                {
                    return double.NaN;
                }
            }

            var ll = data.Evaluate(natural[0], natural[1], natural[2], grad);
            var penalty = 0.0;
            for (var i = 0; i < 3; i++)
            {
                penalty += natural[i] * natural[i];
                gradient[i] = natural[i] * ((-grad[i] / n) + (2 * lambda * natural[i]));
            }

            return (-ll / n) + (lambda * penalty);
        }

        var result = Optimizers.Bfgs(Objective, [0.0, 0.0, Math.Log(data.MeanSpend)], options.Tolerance, options.MaxIterations, cancellationToken);
        var p = result.Point.Select(Math.Exp).ToArray();
        var logLikelihood = data.Evaluate(p[0], p[1], p[2], default);
        var errors = new double[3];
        Array.Fill(errors, double.NaN);
        if (options.ComputeStandardErrors)
        {
            var hessian = Optimizers.NumericalHessian(q => -data.Evaluate(q[0], q[1], q[2], default) + (n * lambda * q.Sum(v => v * v)), p);
            errors = Optimizers.StandardErrors(hessian);
        }

        string[] names = ["p", "q", "v"];
        var estimates = names.Select((name, i) => new ParameterEstimate(name, p[i], errors[i])).ToArray();
        var correlation = data.FrequencySpendCorrelation;
        return new GammaGammaFitResult(
            new GammaGammaModel(p[0], p[1], p[2]),
            logLikelihood,
            estimates,
            n,
            result.Iterations,
            result.Converged,
            lambda,
            correlation,
            correlationThreshold,
            Math.Abs(correlation) > correlationThreshold);
    }
}

/// <summary>The result of fitting a <see cref="GammaGammaModel"/>.</summary>
/// <param name="Model">The fitted model.</param>
/// <param name="LogLikelihood">The total (unpenalised) log-likelihood over the repeat customers.</param>
/// <param name="Estimates">p, q, v with their standard errors.</param>
/// <param name="CustomerCount">The number of repeat customers fitted.</param>
/// <param name="Iterations">Optimiser iterations used.</param>
/// <param name="Converged">Whether the optimiser met its tolerance.</param>
/// <param name="Penalizer">The L2 penalizer coefficient used.</param>
/// <param name="FrequencySpendCorrelation">Pearson correlation between frequency and mean spend over the fitted customers (NaN when undefined).</param>
/// <param name="CorrelationThreshold">The |r| threshold used for <paramref name="CorrelationWarning"/>.</param>
/// <param name="CorrelationWarning">
/// True when |<paramref name="FrequencySpendCorrelation"/>| exceeds the threshold: the model's independence assumption is
/// doubtful and its spend (and CLV) predictions should be treated with care.
/// </param>
public sealed record GammaGammaFitResult(
    GammaGammaModel Model,
    double LogLikelihood,
    IReadOnlyList<ParameterEstimate> Estimates,
    int CustomerCount,
    int Iterations,
    bool Converged,
    double Penalizer,
    double FrequencySpendCorrelation,
    double CorrelationThreshold,
    bool CorrelationWarning);
