namespace Loyalty.Sdk.Identity.Matching.Model;

/// <summary>
/// Unsupervised estimation of m, u and λ by expectation–maximisation over comparison patterns (distinct comparison
/// vectors with their counts), assuming the fields are independent given the match status.
/// </summary>
internal static class ExpectationMaximisation
{
    /// <summary>Smallest probability a level may take, so that no weight becomes infinite.</summary>
    internal const double Floor = 1e-6;

    /// <param name="patterns">Level per field per pattern (-1 = null), one row per pattern.</param>
    /// <param name="counts">How many pairs have each pattern.</param>
    /// <param name="levelCounts">Number of non-null levels per field.</param>
    /// <param name="m">Initial m (updated in place).</param>
    /// <param name="u">Initial u (updated in place unless <paramref name="fixU"/>).</param>
    /// <param name="lambda">Initial λ.</param>
    /// <param name="fixU">Keep u as given.</param>
    /// <param name="maxIterations">Iteration cap.</param>
    /// <param name="tolerance">Stop when no parameter moves by more than this.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="mPriorPairs">Strength of a Dirichlet prior on m centred on the initial m, in pairs: the M step adds
    /// <c>mPriorPairs × m₀</c> to the expected counts (a maximum a posteriori estimate). A field the matches rarely
    /// observe on both sides (one record of most true pairs lacks it) keeps the prior's "matches agree" instead of
    /// drifting to u, where a disagreement would weigh nothing; with many observed matches the prior is negligible.</param>
    /// <returns>λ, the iterations run and whether EM converged.</returns>
    public static (double Lambda, int Iterations, bool Converged) Run(
        sbyte[][] patterns,
        long[] counts,
        int[] levelCounts,
        double[][] m,
        double[][] u,
        double lambda,
        bool fixU,
        int maxIterations,
        double tolerance,
        CancellationToken ct,
        double mPriorPairs = 0)
    {
        var fields = levelCounts.Length;
        var m0 = m.Select(row => row.ToArray()).ToArray();
        var mAcc = levelCounts.Select(l => new double[l]).ToArray();
        var uAcc = levelCounts.Select(l => new double[l]).ToArray();
        for (var iteration = 1; iteration <= maxIterations; iteration++)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var a in mAcc)
            {
                Array.Clear(a);
            }

            foreach (var a in uAcc)
            {
                Array.Clear(a);
            }

            double matchMass = 0, total = 0;
            for (var p = 0; p < patterns.Length; p++)
            {
                var pattern = patterns[p];
                double logM = Math.Log(lambda), logU = Math.Log(1 - lambda);
                for (var f = 0; f < fields; f++)
                {
                    var level = pattern[f];
                    if (level >= 0)
                    {
                        logM += Math.Log(m[f][level]);
                        logU += Math.Log(u[f][level]);
                    }
                }

                var posterior = 1.0 / (1.0 + Math.Exp(logU - logM));
                var n = (double)counts[p];
                var matchWeight = posterior * n;
                var nonMatchWeight = (1 - posterior) * n;
                matchMass += matchWeight;
                total += n;
                for (var f = 0; f < fields; f++)
                {
                    var level = pattern[f];
                    if (level >= 0)
                    {
                        mAcc[f][level] += matchWeight;
                        uAcc[f][level] += nonMatchWeight;
                    }
                }
            }

            var change = 0.0;
            var newLambda = Math.Clamp(matchMass / total, Floor, 1 - Floor);
            change = Math.Max(change, Math.Abs(newLambda - lambda));
            lambda = newLambda;
            for (var f = 0; f < fields; f++)
            {
                for (var l = 0; l < mAcc[f].Length; l++)
                {
                    mAcc[f][l] += mPriorPairs * m0[f][l];
                }

                change = Math.Max(change, Normalise(mAcc[f], m[f]));
                if (!fixU)
                {
                    change = Math.Max(change, Normalise(uAcc[f], u[f]));
                }
            }

            if (change < tolerance)
            {
                return (lambda, iteration, true);
            }
        }

        return (lambda, maxIterations, false);
    }

    /// <summary>Writes the normalised, floored accumulator into <paramref name="target"/> and returns the largest change.</summary>
    internal static double Normalise(double[] accumulator, double[] target)
    {
        var sum = accumulator.Sum();
        if (sum <= 0)
        {
            return 0;
        }

        var change = 0.0;
        var flooredSum = 0.0;
        for (var l = 0; l < accumulator.Length; l++)
        {
            flooredSum += Math.Max(accumulator[l] / sum, Floor);
        }

        for (var l = 0; l < accumulator.Length; l++)
        {
            var value = Math.Max(accumulator[l] / sum, Floor) / flooredSum;
            change = Math.Max(change, Math.Abs(value - target[l]));
            target[l] = value;
        }

        return change;
    }
}
