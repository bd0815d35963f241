using CsCheck;
using Loyalty.Sdk.Predictive.Internal;

namespace Loyalty.Sdk.Predictive.Tests;

public sealed class PropertyTests
{
    private static readonly Gen<BgNbdModel> BgNbdModels =
        from r in Gen.Double[0.05, 5]
        from alpha in Gen.Double[0.1, 50]
        from a in Gen.Double[0.05, 5]
        from b in Gen.Double[0.05, 10]
        select new BgNbdModel(r, alpha, a, b);

    private static readonly Gen<(double X, double Recency, double T)> Histories =
        from x in Gen.Int[0, 10_000]
        from t in Gen.Double[0, 200]
        from share in Gen.Double[0, 1]
        select ((double)x, x == 0 ? 0 : t * share, t);

    [Fact]
    public void BgNbd_probability_alive_is_a_probability()
    {
        Gen.Select(BgNbdModels, Histories).Sample((m, h) =>
        {
            var p = m.ProbabilityAlive(h.X, h.Recency, h.T);
            return p >= 0 && p <= 1 && double.IsFinite(p);
        }, iter: 2_000);
    }

    [Fact]
    public void BgNbd_conditional_expectation_is_finite_non_negative_and_monotone_in_t()
    {
        Gen.Select(BgNbdModels, Histories, Gen.Double[0, 100], Gen.Double[0, 100]).Sample((m, h, t1, t2) =>
        {
            var (lo, hi) = t1 <= t2 ? (t1, t2) : (t2, t1);
            var e1 = m.ConditionalExpectedPurchases(lo, h.X, h.Recency, h.T);
            var e2 = m.ConditionalExpectedPurchases(hi, h.X, h.Recency, h.T);
            return double.IsFinite(e1) && double.IsFinite(e2) && e1 >= 0 && e2 >= e1 - (1e-9 * (1 + Math.Abs(e2)));
        }, iter: 2_000);
    }

    [Fact]
    public void BgNbd_unconditional_expectation_is_monotone_and_probabilities_sum_to_one()
    {
        Gen.Select(BgNbdModels, Gen.Double[0.1, 60]).Sample((m, t) =>
        {
            var e = m.ExpectedPurchases(t);
            var eLater = m.ExpectedPurchases(t * 1.5);
            double total = 0, mean = 0;
            for (var n = 0; n < 200_000; n++)
            {
                var p = m.ProbabilityOfPurchases(n, t);
                total += p;
                mean += n * p;
                if (total > 1 - 1e-13 && n > 10)
                {
                    break;
                }
            }

            return e >= 0 && eLater >= e && Math.Abs(total - 1) < 1e-6 && Math.Abs(mean - e) < 1e-4 * Math.Max(1, e);
        }, iter: 200);
    }

    [Fact]
    public void Hypergeometric_expectation_is_stable_for_large_frequencies()
    {
        Gen.Select(BgNbdModels, Gen.Int[0, 10_000], Gen.Double[0, 500], Gen.Double[0, 1000]).Sample((m, x, t, horizon) =>
        {
            var e = BgNbdMath.AliveExpectation(m.R, m.A, m.B, x, m.Alpha + t, horizon);
            var conditional = m.ConditionalExpectedPurchases(horizon, x, t, t);
            return double.IsFinite(e) && e >= -1e-9 && double.IsFinite(conditional);
        }, iter: 1_000);

        // For a huge frequency at the last moment the customer is surely alive and buys at rate ~ (r+x)/(alpha+T).
        var model = new BgNbdModel(0.243, 4.414, 0.793, 2.426);
        var big = model.ConditionalExpectedPurchases(1, 10_000, 38.86, 38.86);
        Assert.True(double.IsFinite(big));
        Assert.InRange(big, 200, 260);
    }

    [Fact]
    public void Transformed_series_matches_the_textbook_hypergeometric_formula()
    {
        Gen.Select(BgNbdModels, Gen.Int[0, 6], Gen.Double[0, 40], Gen.Double[0.1, 30]).Sample((m, x, t, horizon) =>
        {
            if (Math.Abs(m.A - 1) < 1e-3)
            {
                return true;
            }

            var beta = m.Alpha + t;
            var z = horizon / (beta + horizon);
            if (z > 0.8)
            {
                return true;
            }

            // (a+b+x-1)/(a-1) [1 - (beta/(beta+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] with the plain series.
            double term = 1, sum = 1;
            for (var k = 0; k < 20_000; k++)
            {
                term *= (m.R + x + k) * (m.B + x + k) / ((m.A + m.B + x - 1 + k) * (k + 1)) * z;
                sum += term;
                if (Math.Abs(term) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }

            var textbook = (m.A + m.B + x - 1) / (m.A - 1) * (1 - (Math.Pow(beta / (beta + horizon), m.R + x) * sum));
            var stable = BgNbdMath.AliveExpectation(m.R, m.A, m.B, x, beta, horizon);
            return Math.Abs(textbook - stable) <= 1e-7 * Math.Max(1, Math.Abs(textbook));
        }, iter: 1_000);
    }

    [Fact]
    public void ParetoNbd_predictions_are_probabilities_and_monotone()
    {
        var models =
            from r in Gen.Double[0.05, 5]
            from alpha in Gen.Double[0.1, 50]
            from s in Gen.Double[0.05, 5]
            from beta in Gen.Double[0.1, 50]
            select new ParetoNbdModel(r, alpha, s, beta);
        Gen.Select(models, Histories, Gen.Double[0, 100]).Sample((m, h, horizon) =>
        {
            var p = m.ProbabilityAlive(h.X, h.Recency, h.T);
            var e1 = m.ConditionalExpectedPurchases(horizon, h.X, h.Recency, h.T);
            var e2 = m.ConditionalExpectedPurchases(horizon + 1, h.X, h.Recency, h.T);
            return p >= 0 && p <= 1 && double.IsFinite(e1) && e1 >= 0 && e2 >= e1;
        }, iter: 1_000);
    }

    [Fact]
    public void GammaGamma_expected_spend_lies_between_population_and_customer_mean()
    {
        var models = from p in Gen.Double[0.5, 20] from q in Gen.Double[1.1, 20] from v in Gen.Double[0.5, 100] select new GammaGammaModel(p, q, v);
        Gen.Select(models, Gen.Int[1, 1000], Gen.Double[0.01, 1000]).Sample((m, x, zbar) =>
        {
            var e = m.ConditionalExpectedAverageSpend(x, zbar);
            var lo = Math.Min(m.ExpectedAverageSpend, zbar);
            var hi = Math.Max(m.ExpectedAverageSpend, zbar);
            return e >= lo * (1 - 1e-12) && e <= hi * (1 + 1e-12);
        }, iter: 1_000);
    }

    [Fact]
    public void Percentile_ranks_are_between_0_and_100_and_order_preserving()
    {
        Gen.Double[-1000, 1000].Array[1, 200].Sample(values =>
        {
            var ranks = ClvCalculator.PercentileRanks(values);
            for (var i = 0; i < values.Length; i++)
            {
                for (var j = 0; j < values.Length; j++)
                {
                    if (values[i] < values[j] && !(ranks[i] < ranks[j]))
                    {
                        return false;
                    }
                }
            }

            return ranks.All(r => r > 0 && r <= 100);
        }, iter: 200);
    }
}
