using Loyalty.Sdk.Predictive.Internal;

namespace Loyalty.Sdk.Predictive;

/// <summary>Customer lifetime value, the straightforward way, and percentiles of CLV across customers.</summary>
public static class ClvCalculator
{
    /// <summary>
    /// CLV over <paramref name="periods"/> time-unit periods: Σ_{i=1..periods} (E[Y(i)] - E[Y(i-1)]) × spend / (1 + rate)^i,
    /// with E[Y(t)] the BG/NBD conditional expected purchases and spend the Gamma-Gamma conditional expected spend
    /// (the approach of the lifetimes library). <see cref="CustomerScorer"/> computes the same value much faster.
    /// </summary>
    /// <param name="purchases">The fitted BG/NBD model.</param>
    /// <param name="spend">The fitted Gamma-Gamma model.</param>
    /// <param name="customer">The customer's summary (in the models' time unit).</param>
    /// <param name="periods">The number of periods in the horizon.</param>
    /// <param name="discountRate">The discount rate per period.</param>
    /// <returns>The discounted expected value of the customer's purchases over the horizon.</returns>
    public static double CustomerLifetimeValue(BgNbdModel purchases, GammaGammaModel spend, in CustomerSummary customer, int periods, double discountRate)
    {
        ArgumentNullException.ThrowIfNull(purchases);
        ArgumentNullException.ThrowIfNull(spend);
        ArgumentOutOfRangeException.ThrowIfNegative(periods);
        Guard.NonNegative(discountRate, nameof(discountRate));
        customer.Validate();
        var expectedSpend = spend.ConditionalExpectedAverageSpend(customer.Frequency, customer.MonetaryValue);
        var total = 0.0;
        var previous = 0.0;
        for (var i = 1; i <= periods; i++)
        {
            var cumulative = purchases.ConditionalExpectedPurchases(i, customer.Frequency, customer.Recency, customer.T);
            total += (cumulative - previous) / Math.Pow(1 + discountRate, i);
            previous = cumulative;
        }

        return total * expectedSpend;
    }

    /// <summary>The percentile rank (0 to 100) of each value within <paramref name="values"/>; ties share their mid-rank.</summary>
    /// <param name="values">For example the CLV of every customer.</param>
    /// <returns>For each value, 100 × (number below + half the number equal) / count.</returns>
    public static double[] PercentileRanks(ReadOnlySpan<double> values)
    {
        var n = values.Length;
        var result = new double[n];
        if (n == 0)
        {
            return result;
        }

        var order = new int[n];
        var keys = values.ToArray();
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        Array.Sort(keys, order);
        var start = 0;
        while (start < n)
        {
            var end = start;
            while (end + 1 < n && keys[end + 1].Equals(keys[start]))
            {
                end++;
            }

            var rank = 100.0 * (start + (0.5 * (end - start + 1))) / n;
            for (var k = start; k <= end; k++)
            {
                result[order[k]] = rank;
            }

            start = end + 1;
        }

        return result;
    }

    /// <summary>Quantiles of <paramref name="values"/> with linear interpolation between order statistics (type 7).</summary>
    /// <param name="values">The values, in any order.</param>
    /// <param name="probabilities">Probabilities in [0, 1], for example 0.5, 0.9, 0.99.</param>
    /// <returns>One quantile per probability.</returns>
    public static double[] Quantiles(ReadOnlySpan<double> values, ReadOnlySpan<double> probabilities)
    {
        if (values.Length == 0)
        {
            throw new ArgumentException("At least one value is needed.", nameof(values));
        }

        var sorted = values.ToArray();
        Array.Sort(sorted);
        var result = new double[probabilities.Length];
        for (var k = 0; k < probabilities.Length; k++)
        {
            var p = probabilities[k];
            if (!(p >= 0 && p <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(probabilities), p, "Probabilities must be in [0, 1].");
            }

            var h = (sorted.Length - 1) * p;
            var lo = (int)Math.Floor(h);
            var hi = Math.Min(lo + 1, sorted.Length - 1);
            result[k] = sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
        }

        return result;
    }
}
