using Loyalty.Sdk.Predictive.Internal;
using MathNet.Numerics;

namespace Loyalty.Sdk.Predictive;

/// <summary>
/// The BG/NBD ("beta-geometric / negative binomial distribution") model of Fader, Hardie and Lee (2005): while alive, a
/// customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each repeat purchase the customer drops out for good
/// with probability p ~ Beta(a, b). Times are in the time unit the model was fitted in (α carries that unit).
/// </summary>
/// <remarks>Immutable and thread-safe. All predictions are computed in log space or with transformed series and never overflow.</remarks>
public sealed record BgNbdModel
{
    /// <summary>Creates a model from its four parameters.</summary>
    /// <param name="r">Shape of the purchase-rate gamma distribution.</param>
    /// <param name="alpha">Scale of the purchase-rate gamma distribution, in the model's time unit.</param>
    /// <param name="a">First shape parameter of the drop-out beta distribution.</param>
    /// <param name="b">Second shape parameter of the drop-out beta distribution.</param>
    public BgNbdModel(double r, double alpha, double a, double b)
    {
        R = r;
        Alpha = alpha;
        A = a;
        B = b;
    }

    /// <summary>Shape r of the purchase-rate gamma distribution.</summary>
    public double R { get; init => field = Guard.Positive(value, nameof(R)); }

    /// <summary>Scale α of the purchase-rate gamma distribution (in the model's time unit).</summary>
    public double Alpha { get; init => field = Guard.Positive(value, nameof(Alpha)); }

    /// <summary>Shape a of the drop-out probability beta distribution.</summary>
    public double A { get; init => field = Guard.Positive(value, nameof(A)); }

    /// <summary>Shape b of the drop-out probability beta distribution.</summary>
    public double B { get; init => field = Guard.Positive(value, nameof(B)); }

    /// <summary>Probability that a customer with the given history is still alive at T.</summary>
    /// <param name="frequency">x, the number of repeat purchases.</param>
    /// <param name="recency">t_x, the time of the last purchase.</param>
    /// <param name="t">T, the customer's age.</param>
    /// <returns>A probability in [0, 1]; exactly 1 when x = 0.</returns>
    public double ProbabilityAlive(double frequency, double recency, double t)
    {
        Guard.Summary(frequency, recency, t);
        return BgNbdMath.ProbabilityAlive(R, Alpha, A, B, frequency, recency, t);
    }

    /// <summary>Expected number of purchases in (T, T + horizon] given the customer's history (FHL 2005, eq. 10).</summary>
    /// <param name="horizon">The length of the future period.</param>
    /// <param name="frequency">x.</param>
    /// <param name="recency">t_x.</param>
    /// <param name="t">T.</param>
    /// <returns>A non-negative expectation, non-decreasing in <paramref name="horizon"/>.</returns>
    public double ConditionalExpectedPurchases(double horizon, double frequency, double recency, double t)
    {
        Guard.NonNegative(horizon, nameof(horizon));
        Guard.Summary(frequency, recency, t);
        var alive = BgNbdMath.ProbabilityAlive(R, Alpha, A, B, frequency, recency, t);
        return Math.Max(0, alive * BgNbdMath.AliveExpectation(R, A, B, frequency, Alpha + t, horizon));
    }

    /// <summary>Unconditional expected number of repeat purchases E[X(t)] of a new customer in (0, t] (FHL 2005, eq. 9).</summary>
    /// <param name="t">The length of the period since the first purchase.</param>
    /// <returns>A non-negative expectation.</returns>
    public double ExpectedPurchases(double t)
    {
        Guard.NonNegative(t, nameof(t));
        return Math.Max(0, BgNbdMath.AliveExpectation(R, A, B, 0, Alpha, t));
    }

    /// <summary>Probability that a new customer makes exactly <paramref name="n"/> repeat purchases in (0, t] (FHL 2005, eq. 8).</summary>
    /// <param name="n">The number of purchases.</param>
    /// <param name="t">The length of the period.</param>
    /// <returns>A probability in [0, 1].</returns>
    public double ProbabilityOfPurchases(int n, double t)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        Guard.NonNegative(t, nameof(t));
        if (t == 0)
        {
            return n == 0 ? 1 : 0;
        }

        var lnBetaAb = SpecialFunctions.BetaLn(A, B);
        var lnP0 = -NumericMath.Log1P(t / Alpha);   // ln(alpha / (alpha + t))
        var lnP1 = -NumericMath.Log1P(Alpha / t);   // ln(t / (alpha + t))
        var first = Math.Exp(
            SpecialFunctions.BetaLn(A, B + n) - lnBetaAb
            + SpecialFunctions.GammaLn(R + n) - SpecialFunctions.GammaLn(R) - SpecialFunctions.GammaLn(n + 1.0)
            + (R * lnP0) + (n * lnP1));
        if (n == 0)
        {
            return Math.Clamp(first, 0, 1);
        }

        // 1 - (negative-binomial CDF at n - 1) is the regularized incomplete beta I_{t/(alpha+t)}(n, r).
        var tail = SpecialFunctions.BetaRegularized(n, R, t / (Alpha + t));
        var second = Math.Exp(SpecialFunctions.BetaLn(A + 1, B + n - 1) - lnBetaAb) * tail;
        return Math.Clamp(first + second, 0, 1);
    }

    /// <summary>The log-likelihood of one customer's (x, t_x, T).</summary>
    /// <param name="frequency">x.</param>
    /// <param name="recency">t_x.</param>
    /// <param name="t">T.</param>
    /// <returns>The log-likelihood (FHL 2005, eq. 6) without additive constants.</returns>
    public double LogLikelihood(double frequency, double recency, double t)
    {
        Guard.Summary(frequency, recency, t);
        var x = frequency;
        var ll = SpecialFunctions.GammaLn(R + x) - SpecialFunctions.GammaLn(R) + (R * Math.Log(Alpha))
            + SpecialFunctions.GammaLn(A + B) + SpecialFunctions.GammaLn(B + x) - SpecialFunctions.GammaLn(B) - SpecialFunctions.GammaLn(A + B + x)
            - ((R + x) * Math.Log(Alpha + t));
        if (x > 0)
        {
            ll += NumericMath.Log1PExp(BgNbdMath.LogDeathOdds(R, Alpha, A, B, x, recency, t));
        }

        return ll;
    }

    /// <summary>The total log-likelihood of a set of customers.</summary>
    /// <param name="customers">The customer summaries.</param>
    /// <returns>The sum of the customers' log-likelihoods.</returns>
    public double LogLikelihood(ReadOnlySpan<CustomerSummary> customers)
    {
        var data = BgNbdLikelihood.Create(customers, CancellationToken.None);
        return data.Evaluate(R, Alpha, A, B, default);
    }

    /// <summary>Fits the model by maximum likelihood (BFGS on the log-parameters with the analytic gradient).</summary>
    /// <param name="customers">The customer summaries (all customers, including those with x = 0).</param>
    /// <param name="options">Fit options; <see cref="FitOptions.Default"/> when null.</param>
    /// <param name="cancellationToken">Cancels the fit.</param>
    /// <returns>The fitted model with its log-likelihood and standard errors.</returns>
    /// <exception cref="ArgumentException">No customers, or a summary is invalid.</exception>
    public static BgNbdFitResult Fit(ReadOnlySpan<CustomerSummary> customers, FitOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= FitOptions.Default;
        options.Validate();
        var data = BgNbdLikelihood.Create(customers, cancellationToken);
        var n = data.Count;
        var lambda = options.Penalizer;
        var start = new[] { 0.0, Math.Log(data.MeanAge > 0 ? data.MeanAge : 1), 0.0, 0.0 };
        var natural = new double[4];
        var grad = new double[4];

        double Objective(ReadOnlySpan<double> logParams, Span<double> gradient)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var i = 0; i < 4; i++)
            {
                natural[i] = Math.Exp(logParams[i]);
                if (!double.IsFinite(natural[i]) || natural[i] <= 0)
                {
                    return double.NaN;
                }
            }

            var ll = data.Evaluate(natural[0], natural[1], natural[2], natural[3], grad);
            var penalty = 0.0;
            for (var i = 0; i < 4; i++)
            {
                penalty += natural[i] * natural[i];
                gradient[i] = natural[i] * ((-grad[i] / n) + (2 * lambda * natural[i]));
            }

            return (-ll / n) + (lambda * penalty);
        }

        var result = Optimizers.Bfgs(Objective, start, options.Tolerance, options.MaxIterations, cancellationToken);
        var p = result.Point.Select(Math.Exp).ToArray();
        var model = new BgNbdModel(p[0], p[1], p[2], p[3]);
        var logLikelihood = data.Evaluate(p[0], p[1], p[2], p[3], default);
        var errors = new double[4];
        Array.Fill(errors, double.NaN);
        if (options.ComputeStandardErrors)
        {
            var hessian = Optimizers.NumericalHessian(
                q => -data.Evaluate(q[0], q[1], q[2], q[3], default) + (n * lambda * q.Sum(v => v * v)),
                p);
            errors = Optimizers.StandardErrors(hessian);
        }

        string[] names = ["r", "alpha", "a", "b"];
        var estimates = names.Select((name, i) => new ParameterEstimate(name, p[i], errors[i])).ToArray();
        return new BgNbdFitResult(model, logLikelihood, estimates, n, result.Iterations, result.Converged, lambda);
    }
}

/// <summary>The result of fitting a <see cref="BgNbdModel"/>.</summary>
/// <param name="Model">The fitted model.</param>
/// <param name="LogLikelihood">The total (unpenalised) log-likelihood at the estimate, summed over customers.</param>
/// <param name="Estimates">r, alpha, a, b with their standard errors.</param>
/// <param name="CustomerCount">The number of customers fitted.</param>
/// <param name="Iterations">Optimiser iterations used.</param>
/// <param name="Converged">Whether the optimiser met its tolerance.</param>
/// <param name="Penalizer">The L2 penalizer coefficient used.</param>
public sealed record BgNbdFitResult(
    BgNbdModel Model,
    double LogLikelihood,
    IReadOnlyList<ParameterEstimate> Estimates,
    int CustomerCount,
    int Iterations,
    bool Converged,
    double Penalizer);
