namespace Loyalty.Sdk.Predictive.Internal;

/// <summary>Numerically stable BG/NBD building blocks shared by the model, the scorer and the evaluator.</summary>
internal static class BgNbdMath
{
    /// <summary>Hard cap on hypergeometric series terms (reached only for horizons far longer than the customer's age).</summary>
    public const int MaxSeriesTerms = 2_000_000;

    /// <summary>
    /// Log-odds D of "dropped out after the last purchase" versus "still alive" for a customer with x &gt; 0:
    /// P(alive) = 1 / (1 + exp(D)).
    /// </summary>
    public static double LogDeathOdds(double r, double alpha, double a, double b, double x, double recency, double t) =>
        Math.Log(a) - Math.Log(b + x - 1) + ((r + x) * (Math.Log(alpha + t) - Math.Log(alpha + recency)));

    /// <summary>P(alive | x, t_x, T).</summary>
    public static double ProbabilityAlive(double r, double alpha, double a, double b, double x, double recency, double t) =>
        x <= 0 ? 1.0 : NumericMath.InverseOnePlusExp(LogDeathOdds(r, alpha, a, b, x, recency, t));

    /// <summary>
    /// Expected number of purchases in the next <paramref name="horizon"/> time units for a customer known to be alive,
    /// whose posterior is described by x and beta = alpha + T. With x = 0 and beta = alpha it is the unconditional E[X(t)].
    /// </summary>
    /// <remarks>
    /// The textbook expression is (a+b+x-1)/(a-1) [1 - ((beta)/(beta+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)], z = t/(beta+t).
    /// Euler's transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns the product into
    /// (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): the large exponent r+x cancels exactly, nothing overflows for any x, and
    /// the series converges faster as x grows. Factoring (a-1) out of the series terms makes the result continuous at a = 1.
    /// </remarks>
    public static double AliveExpectation(double r, double a, double b, double x, double beta, double horizon)
    {
        if (horizon <= 0)
        {
            return 0;
        }

        var bb = a - 1;
        var aa = a + b - 1 - r;
        var cc = a + b - 1 + x;
        var z = horizon / (beta + horizon);
        var logOneMinusZ = -NumericMath.Log1P(horizon / beta);
        var head = NumericMath.OneMinusPowerOverExponent(bb, logOneMinusZ);
        var tail = SeriesTail(aa, bb, cc, z);
        return cc * (head - (Math.Exp(bb * logOneMinusZ) * tail));
    }

    /// <summary>Sum over n ≥ 1 of c_n z^n with c_1 = A/C and c_(n+1) = c_n (A+n)(B+n) / ((C+n)(n+1)).</summary>
    public static double SeriesTail(double aa, double bb, double cc, double z)
    {
        var term = aa / cc * z;
        var sum = term;
        for (var n = 1; n < MaxSeriesTerms; n++)
        {
            var ratio = (aa + n) * (bb + n) / ((cc + n) * (n + 1)) * z;
            term *= ratio;
            sum += term;
            if (Math.Abs(term) <= 1e-17 * Math.Abs(sum) && Math.Abs(ratio) < 1)
            {
                break;
            }

            if (term == 0)
            {
                break;
            }
        }

        return sum;
    }
}
