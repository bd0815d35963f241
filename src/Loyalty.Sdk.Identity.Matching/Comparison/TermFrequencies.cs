namespace Loyalty.Sdk.Identity.Matching.Comparison;

/// <summary>
/// Term-frequency adjustment for exact matches. For a value v with relative frequency p(v), two random records agree
/// on some value with probability Σp², and on v with probability p(v)²; a true match shows v with probability p(v).
/// The exact level's weight log2(m/u) assumes the average value, so an exact match on v adds log2(Σp² / p(v)) bits:
/// positive for rare values, negative for common ones.
/// </summary>
internal static class TermFrequencies
{
    public static float[] Compute(string?[] values)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var total = 0;
        foreach (var value in values)
        {
            if (value is not null)
            {
                counts[value] = counts.GetValueOrDefault(value) + 1;
                total++;
            }
        }

        var result = new float[values.Length];
        if (total == 0)
        {
            return result;
        }

        double sumSquares = 0;
        foreach (var count in counts.Values.Order())
        {
            var p = (double)count / total;
            sumSquares += p * p;
        }

        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { } value)
            {
                var p = (double)counts[value] / total;
                result[i] = (float)Math.Log2(sumSquares / p);
            }
        }

        return result;
    }
}
