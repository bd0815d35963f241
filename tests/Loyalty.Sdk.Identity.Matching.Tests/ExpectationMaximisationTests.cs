using Loyalty.Sdk.Identity.Matching.Model;

namespace Loyalty.Sdk.Identity.Matching.Tests;

public sealed class ExpectationMaximisationTests
{
    [Fact]
    public void Em_recovers_known_m_u_and_lambda_from_synthetic_comparison_vectors()
    {
        // Three conditionally independent fields with three levels each (exact, close, else).
        double[][] trueM = [[0.85, 0.10, 0.05], [0.70, 0.20, 0.10], [0.90, 0.05, 0.05]];
        double[][] trueU = [[0.02, 0.08, 0.90], [0.05, 0.15, 0.80], [0.01, 0.04, 0.95]];
        const double trueLambda = 0.15;
        var random = new Random(7);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var n = 0; n < 200_000; n++)
        {
            var table = random.NextDouble() < trueLambda ? trueM : trueU;
            var pattern = new sbyte[3];
            for (var f = 0; f < 3; f++)
            {
                var x = random.NextDouble();
                var level = 0;
                while (level < 2 && x > table[f][level])
                {
                    x -= table[f][level];
                    level++;
                }

                pattern[f] = (sbyte)level;
            }

            // A missing value now and then must not disturb the estimate.
            if (random.NextDouble() < 0.05)
            {
                pattern[random.Next(3)] = -1;
            }

            var key = string.Join(',', pattern);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        var ordered = counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        var patterns = ordered.Select(kv => kv.Key.Split(',').Select(sbyte.Parse).ToArray()).ToArray();
        var patternCounts = ordered.Select(kv => kv.Value).ToArray();
        double[][] m = [[0.6, 0.3, 0.1], [0.6, 0.3, 0.1], [0.6, 0.3, 0.1]];
        double[][] u = [[0.1, 0.2, 0.7], [0.1, 0.2, 0.7], [0.1, 0.2, 0.7]];

        var (lambda, iterations, converged) = ExpectationMaximisation.Run(
            patterns, patternCounts, [3, 3, 3], m, u, 0.5, fixU: false, maxIterations: 1000, tolerance: 1e-8, CancellationToken.None);

        Assert.True(converged, $"EM did not converge in {iterations} iterations");
        Assert.Equal(trueLambda, lambda, 0.01);
        for (var f = 0; f < 3; f++)
        {
            for (var l = 0; l < 3; l++)
            {
                Assert.Equal(trueM[f][l], m[f][l], 0.02);
                Assert.Equal(trueU[f][l], u[f][l], 0.02);
            }
        }
    }
}
