namespace Loyalty.Sdk.Identity.Matching.Evaluation;

/// <summary>Pairwise precision, recall and F1 against known truth.</summary>
/// <param name="TruePositives">Predicted pairs that are true pairs.</param>
/// <param name="FalsePositives">Predicted pairs that are not.</param>
/// <param name="FalseNegatives">True pairs not predicted.</param>
public sealed record LinkageMetrics(long TruePositives, long FalsePositives, long FalseNegatives)
{
    /// <summary>TP / (TP + FP); 1 when nothing was predicted.</summary>
    public double Precision => TruePositives + FalsePositives == 0 ? 1 : (double)TruePositives / (TruePositives + FalsePositives);

    /// <summary>TP / (TP + FN); 1 when there is nothing to find.</summary>
    public double Recall => TruePositives + FalseNegatives == 0 ? 1 : (double)TruePositives / (TruePositives + FalseNegatives);

    /// <summary>Harmonic mean of precision and recall.</summary>
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>Evaluates predicted pairs against a known entity per record.</summary>
public static class LinkageEvaluation
{
    /// <summary>Scores predicted pairs. Two records are a true pair when their entities are equal and not null.</summary>
    /// <param name="predicted">Predicted pairs (each unordered pair counted once).</param>
    /// <param name="entityOf">The true entity of every record id; null when unknown.</param>
    /// <param name="leftIds">All left (or, for deduplication, all) record ids.</param>
    /// <param name="rightIds">All right record ids when linking; null for deduplication.</param>
    /// <returns>The metrics.</returns>
    public static LinkageMetrics Evaluate(
        IEnumerable<ScoredPair> predicted,
        Func<string, string?> entityOf,
        IEnumerable<string> leftIds,
        IEnumerable<string>? rightIds = null)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(entityOf);
        ArgumentNullException.ThrowIfNull(leftIds);
        var left = leftIds.Select(entityOf).ToList();
        var leftCount = -1;
        if (rightIds is not null)
        {
            leftCount = left.Count;
            left.AddRange(rightIds.Select(entityOf));
        }

        var truePairs = CountTruePairs([.. left], leftCount);
        long tp = 0, fp = 0;
        var seen = new HashSet<(string, string)>();
        foreach (var pair in predicted)
        {
            var key = string.CompareOrdinal(pair.LeftId, pair.RightId) <= 0 ? (pair.LeftId, pair.RightId) : (pair.RightId, pair.LeftId);
            if (!seen.Add(key))
            {
                continue;
            }

            if (entityOf(pair.LeftId) is { } e && string.Equals(e, entityOf(pair.RightId), StringComparison.Ordinal))
            {
                tp++;
            }
            else
            {
                fp++;
            }
        }

        return new LinkageMetrics(tp, fp, Math.Max(0, truePairs - tp));
    }

    /// <summary>Counts true pairs: within one set (leftCount &lt; 0) or across [0, leftCount) × [leftCount, n).</summary>
    internal static long CountTruePairs(string?[] entities, int leftCount)
    {
        if (leftCount < 0)
        {
            return entities.Where(e => e is not null).GroupBy(e => e!, StringComparer.Ordinal)
                .Sum(g => (long)g.Count() * (g.Count() - 1) / 2);
        }

        var right = entities.Skip(leftCount).Where(e => e is not null).GroupBy(e => e!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        return entities.Take(leftCount).Where(e => e is not null).Sum(e => right.GetValueOrDefault(e!));
    }
}
