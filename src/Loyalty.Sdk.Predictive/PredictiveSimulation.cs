using MathNet.Numerics.Distributions;

namespace Loyalty.Sdk.Predictive;

/// <summary>Deterministic simulation of customer histories from known model parameters (for tests, benchmarks and demos).</summary>
public static class PredictiveSimulation
{
    /// <summary>
    /// Simulates BG/NBD customers: λ ~ Gamma(r, α), p ~ Beta(a, b); purchases follow a Poisson process with rate λ, and after
    /// each repeat purchase the customer drops out with probability p. With a spend model, each repeat purchase value is
    /// Gamma(p, ν) with ν ~ Gamma(q, v) per customer and <see cref="CustomerSummary.MonetaryValue"/> is their mean.
    /// </summary>
    /// <param name="purchases">The purchase model.</param>
    /// <param name="spend">An optional spend model.</param>
    /// <param name="customers">The number of customers.</param>
    /// <param name="minAge">The smallest customer age T.</param>
    /// <param name="maxAge">The largest customer age T (ages are uniform in between).</param>
    /// <param name="seed">The random seed; the same seed gives the same data.</param>
    /// <param name="timeResolution">When positive, T and t_x are rounded down to multiples of it (1/7 for days in weeks).</param>
    /// <returns>The simulated summaries with ids "1", "2", ...</returns>
    public static CustomerSummary[] SimulateBgNbd(
        BgNbdModel purchases,
        GammaGammaModel? spend,
        int customers,
        double minAge,
        double maxAge,
        int seed,
        double timeResolution = 0)
    {
        ArgumentNullException.ThrowIfNull(purchases);
        ArgumentOutOfRangeException.ThrowIfNegative(customers);
        if (!(minAge >= 0 && maxAge >= minAge && double.IsFinite(maxAge)))
        {
            throw new ArgumentOutOfRangeException(nameof(maxAge), maxAge, "Ages must satisfy 0 ≤ minAge ≤ maxAge.");
        }

#pragma warning disable CA5394 // Simulation, not security: a seeded generator is the point.
        var random = new Random(seed);
        var result = new CustomerSummary[customers];
        for (var i = 0; i < customers; i++)
        {
            var age = Quantize(minAge + ((maxAge - minAge) * random.NextDouble()), timeResolution);
            var lambda = Gamma.Sample(random, purchases.R, purchases.Alpha);
            var dropout = Beta.Sample(random, purchases.A, purchases.B);
            var time = 0.0;
            var x = 0;
            var last = 0.0;
            while (true)
            {
                time += -Math.Log(1 - random.NextDouble()) / lambda;
                if (time > age)
                {
                    break;
                }

                x++;
                last = time;
                if (random.NextDouble() < dropout)
                {
                    break;
                }
            }

            var monetary = 0.0;
            if (spend is not null && x > 0)
            {
                var nu = Gamma.Sample(random, spend.Q, spend.V);
                var sum = 0.0;
                for (var k = 0; k < x; k++)
                {
                    sum += Gamma.Sample(random, spend.P, nu);
                }

                monetary = sum / x;
            }
#pragma warning restore CA5394

            var recency = Math.Min(Quantize(last, timeResolution), age);
            result[i] = new CustomerSummary((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), x, recency, age, monetary);
        }

        return result;
    }

    private static double Quantize(double value, double resolution) =>
        resolution > 0 ? Math.Floor(value / resolution) * resolution : value;
}
