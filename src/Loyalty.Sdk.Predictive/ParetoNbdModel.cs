using Loyalty.Sdk.Predictive.Internal;
using MathNet.Numerics;

namespace Loyalty.Sdk.Predictive;

/// <summary>
/// The Pareto/NBD model (Schmittlein, Morrison and Colombo 1987): while alive a customer buys as a Poisson process with
/// rate λ ~ Gamma(r, α); the lifetime is exponential with rate μ ~ Gamma(s, β). An optional second model next to BG/NBD.
/// </summary>
/// <remarks>
/// On data like CDNOW the likelihood is very flat along β (and s): compare log-likelihoods between fits, not β.
/// </remarks>
public sealed record ParetoNbdModel
{
    /// <summary>Creates a model from its four parameters.</summary>
    /// <param name="r">Shape of the purchase-rate gamma distribution.</param>
    /// <param name="alpha">Scale of the purchase-rate gamma distribution (time unit).</param>
    /// <param name="s">Shape of the drop-out-rate gamma distribution.</param>
    /// <param name="beta">Scale of the drop-out-rate gamma distribution (time unit).</param>
    public ParetoNbdModel(double r, double alpha, double s, double beta)
    {
        R = r;
        Alpha = alpha;
        S = s;
        Beta = beta;
    }

    /// <summary>Shape r of the purchase-rate distribution.</summary>
    public double R { get; init => field = Guard.Positive(value, nameof(R)); }

    /// <summary>Scale α of the purchase-rate distribution.</summary>
    public double Alpha { get; init => field = Guard.Positive(value, nameof(Alpha)); }

    /// <summary>Shape s of the drop-out-rate distribution.</summary>
    public double S { get; init => field = Guard.Positive(value, nameof(S)); }

    /// <summary>Scale β of the drop-out-rate distribution.</summary>
    public double Beta { get; init => field = Guard.Positive(value, nameof(Beta)); }

    /// <summary>Probability that a customer with the given history is alive at T.</summary>
    /// <param name="frequency">x.</param>
    /// <param name="recency">t_x.</param>
    /// <param name="t">T.</param>
    /// <returns>A probability in [0, 1].</returns>
    public double ProbabilityAlive(double frequency, double recency, double t)
    {
        Guard.Summary(frequency, recency, t);
        return Alive(R, Alpha, S, Beta, frequency, frequency > 0 ? recency : 0, t);
    }

    /// <summary>Expected number of purchases in (T, T + horizon] given the customer's history.</summary>
    /// <param name="horizon">The length of the future period.</param>
    /// <param name="frequency">x.</param>
    /// <param name="recency">t_x.</param>
    /// <param name="t">T.</param>
    /// <returns>A non-negative expectation, non-decreasing in <paramref name="horizon"/>.</returns>
    public double ConditionalExpectedPurchases(double horizon, double frequency, double recency, double t)
    {
        Guard.NonNegative(horizon, nameof(horizon));
        Guard.Summary(frequency, recency, t);
        if (horizon == 0)
        {
            return 0;
        }

        var alive = Alive(R, Alpha, S, Beta, frequency, frequency > 0 ? recency : 0, t);
        var betaT = Beta + t;
        var growth = NumericMath.OneMinusPowerOverExponent(S - 1, -NumericMath.Log1P(horizon / betaT));
        return Math.Max(0, alive * (R + frequency) * betaT / (Alpha + t) * growth);
    }

    /// <summary>The log-likelihood of one customer.</summary>
    /// <param name="frequency">x.</param>
    /// <param name="recency">t_x.</param>
    /// <param name="t">T.</param>
    /// <returns>The log-likelihood without additive constants.</returns>
    public double LogLikelihood(double frequency, double recency, double t)
    {
        Guard.Summary(frequency, recency, t);
        return CustomerLogLikelihood(R, Alpha, S, Beta, frequency, frequency > 0 ? recency : 0, t)
            + SpecialFunctions.GammaLn(R + frequency) - SpecialFunctions.GammaLn(R);
    }

    /// <summary>The total log-likelihood of a set of customers.</summary>
    /// <param name="customers">The customer summaries.</param>
    /// <returns>The summed log-likelihood.</returns>
    public double LogLikelihood(ReadOnlySpan<CustomerSummary> customers)
    {
        var total = 0.0;
        foreach (var c in customers)
        {
            total += LogLikelihood(c.Frequency, c.Recency, c.T);
        }

        return total;
    }

    /// <summary>Fits the model by maximum likelihood (Nelder-Mead on the log-parameters, with restarts).</summary>
    /// <param name="customers">The customer summaries.</param>
    /// <param name="options">Fit options; <see cref="FitOptions.Default"/> when null.</param>
    /// <param name="cancellationToken">Cancels the fit.</param>
    /// <returns>The fitted model.</returns>
    public static ParetoNbdFitResult Fit(ReadOnlySpan<CustomerSummary> customers, FitOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= FitOptions.Default;
        options.Validate();
        if (customers.Length == 0)
        {
            throw new ArgumentException("At least one customer is needed.", nameof(customers));
        }

        var n = customers.Length;
        var x = new double[n];
        var recency = new double[n];
        var age = new double[n];
        var counts = new Dictionary<double, int>();
        for (var i = 0; i < n; i++)
        {
            customers[i].Validate();
            x[i] = customers[i].Frequency;
            recency[i] = x[i] > 0 ? customers[i].Recency : 0;
            age[i] = customers[i].T;
            counts[x[i]] = counts.GetValueOrDefault(x[i]) + 1;
        }

        var lambda = options.Penalizer;
        double Total(double r, double alpha, double s, double beta)
        {
            var ll = 0.0;
            for (var i = 0; i < n; i++)
            {
                ll += CustomerLogLikelihood(r, alpha, s, beta, x[i], recency[i], age[i]);
            }

            var lnGammaR = SpecialFunctions.GammaLn(r);
            foreach (var (value, count) in counts)
            {
                ll += count * (SpecialFunctions.GammaLn(r + value) - lnGammaR);
            }

            return ll;
        }

        double Objective(double[] logParams)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var p = logParams.Select(Math.Exp).ToArray();
            if (p.Any(v => !double.IsFinite(v) || v <= 0))
            {
                return double.PositiveInfinity;
            }

            var value = (-Total(p[0], p[1], p[2], p[3]) / n) + (lambda * p.Sum(v => v * v));
            return double.IsNaN(value) ? double.PositiveInfinity : value;
        }

        var meanAge = Math.Max(age.Average(), 1e-3);
        var start = new[] { 0.0, Math.Log(meanAge), 0.0, Math.Log(meanAge) };
        var result = Optimizers.NelderMead(Objective, start, 1e-13, options.MaxIterations * 40, cancellationToken);
        var est = result.Point.Select(Math.Exp).ToArray();
        var logLikelihood = Total(est[0], est[1], est[2], est[3]);
        var errors = new double[4];
        Array.Fill(errors, double.NaN);
        if (options.ComputeStandardErrors)
        {
            var hessian = Optimizers.NumericalHessian(q => -Total(q[0], q[1], q[2], q[3]) + (n * lambda * q.Sum(v => v * v)), est);
            errors = Optimizers.StandardErrors(hessian);
        }

        string[] names = ["r", "alpha", "s", "beta"];
        var estimates = names.Select((name, i) => new ParameterEstimate(name, est[i], errors[i])).ToArray();
        return new ParetoNbdFitResult(new ParetoNbdModel(est[0], est[1], est[2], est[3]), logLikelihood, estimates, n, result.Iterations, result.Converged, lambda);
    }

    /// <summary>Log-likelihood without the lnΓ(r+x) - lnΓ(r) term (added per distinct x by the caller).</summary>
    internal static double CustomerLogLikelihood(double r, double alpha, double s, double beta, double x, double recency, double t)
    {
        var logAlive = (-(r + x) * Math.Log(alpha + t)) - (s * Math.Log(beta + t));
        var logA0 = LogA0(r, alpha, s, beta, x, recency, t);
        var logDead = Math.Log(s) - Math.Log(r + s + x) + logA0;
        var max = Math.Max(logAlive, logDead);
        var sum = double.IsNegativeInfinity(logDead) ? logAlive : max + NumericMath.Log1P(Math.Exp(Math.Min(logAlive, logDead) - max));
        return (r * Math.Log(alpha)) + (s * Math.Log(beta)) + sum;
    }

    internal static double Alive(double r, double alpha, double s, double beta, double x, double recency, double t)
    {
        var logA0 = LogA0(r, alpha, s, beta, x, recency, t);
        if (double.IsNegativeInfinity(logA0))
        {
            return 1;
        }

        var logOdds = Math.Log(s) - Math.Log(r + s + x) + ((r + x) * Math.Log(alpha + t)) + (s * Math.Log(beta + t)) + logA0;
        return NumericMath.InverseOnePlusExp(logOdds);
    }

    /// <summary>ln A0 of Fader, Hardie and Lee's Pareto/NBD note, via Euler-transformed hypergeometric series.</summary>
    private static double LogA0(double r, double alpha, double s, double beta, double x, double recency, double t)
    {
        if (t <= recency)
        {
            return double.NegativeInfinity;
        }

        var first = LogTerm(r, alpha, s, beta, x, recency);
        var second = LogTerm(r, alpha, s, beta, x, t);
        var difference = second - first;
        return difference >= 0 ? double.NegativeInfinity : first + Math.Log(-NumericMath.ExpM1(difference));
    }

    /// <summary>ln of ρ ∫_y^∞ (α+u)^-(r+x) (β+u)^-(s+1) du, ρ = r+s+x.</summary>
    private static double LogTerm(double r, double alpha, double s, double beta, double x, double y)
    {
        var rho = r + s + x;
        if (alpha >= beta)
        {
            var z = (alpha - beta) / (alpha + y);
            return (-s * Math.Log(beta + y)) - ((r + x) * Math.Log(alpha + y)) + Math.Log(Series(r + x, rho + 1, z));
        }
        else
        {
            var z = (beta - alpha) / (beta + y);
            return ((1 - r - x) * Math.Log(alpha + y)) - ((s + 1) * Math.Log(beta + y)) + Math.Log(Series(s + 1, rho + 1, z));
        }
    }

    /// <summary>2F1(1, b; c; z) = Σ (b)_k / (c)_k z^k for 0 ≤ z &lt; 1 and b &lt; c (all terms positive).</summary>
    private static double Series(double b, double c, double z)
    {
        var term = 1.0;
        var sum = 1.0;
        for (var k = 0; k < BgNbdMath.MaxSeriesTerms; k++)
        {
            term *= (b + k) / (c + k) * z;
            sum += term;
            if (term <= 1e-17 * sum)
            {
                break;
            }
        }

        return sum;
    }
}

/// <summary>The result of fitting a <see cref="ParetoNbdModel"/>.</summary>
/// <param name="Model">The fitted model.</param>
/// <param name="LogLikelihood">The total (unpenalised) log-likelihood.</param>
/// <param name="Estimates">r, alpha, s, beta with their standard errors (β is poorly identified on many data sets).</param>
/// <param name="CustomerCount">The number of customers fitted.</param>
/// <param name="Evaluations">Objective evaluations used.</param>
/// <param name="Converged">Whether the simplex met its tolerance.</param>
/// <param name="Penalizer">The L2 penalizer coefficient used.</param>
public sealed record ParetoNbdFitResult(
    ParetoNbdModel Model,
    double LogLikelihood,
    IReadOnlyList<ParameterEstimate> Estimates,
    int CustomerCount,
    int Evaluations,
    bool Converged,
    double Penalizer);
