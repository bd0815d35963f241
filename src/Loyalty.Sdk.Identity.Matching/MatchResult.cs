using System.Collections.Immutable;
using Loyalty.Sdk.Identity.Matching.Blocking;
using Loyalty.Sdk.Identity.Matching.Clustering;
using Loyalty.Sdk.Identity.Matching.Model;

namespace Loyalty.Sdk.Identity.Matching;

/// <summary>A scored candidate pair.</summary>
/// <param name="LeftId">Id of the first record (in linking: from the left set; in deduplication: the smaller id, ordinal).</param>
/// <param name="RightId">Id of the second record.</param>
/// <param name="MatchWeight">log2 Bayes factor including the prior, in bits.</param>
/// <param name="MatchProbability">2^w / (1 + 2^w).</param>
/// <param name="Decision">What the policy decides for the pair.</param>
public sealed record ScoredPair(string LeftId, string RightId, double MatchWeight, double MatchProbability, MatchDecision Decision);

/// <summary>How one field contributed to a pair's match weight.</summary>
/// <param name="Field">The schema field name.</param>
/// <param name="Kind">The field kind.</param>
/// <param name="LevelIndex">The level index (0 = most similar), or -1 when a value is missing (weight 0).</param>
/// <param name="LevelName">The level description, or <c>null</c> (missing).</param>
/// <param name="LeftValue">The normalised left value.</param>
/// <param name="RightValue">The normalised right value.</param>
/// <param name="LevelWeight">log2(m / u) of the level.</param>
/// <param name="TermFrequencyAdjustment">Extra bits for an exact match on a rare (positive) or common (negative) value.</param>
public sealed record FieldContribution(
    string Field,
    FieldKind Kind,
    int LevelIndex,
    string LevelName,
    string? LeftValue,
    string? RightValue,
    double LevelWeight,
    double TermFrequencyAdjustment)
{
    /// <summary>The field's partial weight: level weight plus term-frequency adjustment.</summary>
    public double PartialWeight => LevelWeight + TermFrequencyAdjustment;
}

/// <summary>
/// Why a pair got its weight: <see cref="MatchWeight"/> = <see cref="PriorWeight"/> + the sum of the fields'
/// <see cref="FieldContribution.PartialWeight"/>.
/// </summary>
/// <param name="LeftId">Id of the first record.</param>
/// <param name="RightId">Id of the second record.</param>
/// <param name="PriorWeight">log2(λ / (1 − λ)).</param>
/// <param name="Fields">One contribution per field, in schema order.</param>
/// <param name="MatchWeight">The total weight.</param>
/// <param name="MatchProbability">The match probability.</param>
public sealed record MatchExplanation(
    string LeftId,
    string RightId,
    double PriorWeight,
    ImmutableArray<FieldContribution> Fields,
    double MatchWeight,
    double MatchProbability);

/// <summary>The outcome of deduplicating one record set or linking two.</summary>
public sealed class MatchResult
{
    private readonly IdentityMatcher.Engine _engine;
    private readonly long[] _candidates;

    internal MatchResult(
        IdentityMatcher.Engine engine,
        long[] candidates,
        FellegiSunterModel model,
        BlockingSummary blocking,
        ImmutableArray<ScoredPair> pairs,
        ClusteringResult clustering,
        bool isLink)
    {
        _engine = engine;
        _candidates = candidates;
        Model = model;
        Blocking = blocking;
        Pairs = pairs;
        Clustering = clustering;
        IsLink = isLink;
    }

    /// <summary>The model used for scoring (trained by EM unless one was supplied).</summary>
    public FellegiSunterModel Model { get; }

    /// <summary>Candidate pair statistics.</summary>
    public BlockingSummary Blocking { get; }

    /// <summary>
    /// Scored pairs at or above <see cref="MatcherSettings.MinimumReportedProbability"/>, sorted by descending
    /// match weight, then left id and right id (ordinal).
    /// </summary>
    public ImmutableArray<ScoredPair> Pairs { get; }

    /// <summary>Clusters built from the auto-merge pairs under the cluster size guard.</summary>
    public ClusteringResult Clustering { get; }

    /// <summary>True when two sets were linked, false for deduplication.</summary>
    public bool IsLink { get; }

    /// <summary>Pairs whose probability is at least <paramref name="threshold"/>, in <see cref="Pairs"/> order.</summary>
    /// <param name="threshold">The probability threshold.</param>
    /// <returns>The pairs.</returns>
    public IEnumerable<ScoredPair> PairsAbove(double threshold) => Pairs.Where(p => p.MatchProbability >= threshold);

    /// <summary>Explains the weight of a pair of records (any two records of the input, not only candidates).</summary>
    /// <param name="leftId">Id of one record.</param>
    /// <param name="rightId">Id of the other record.</param>
    /// <returns>The per-field explanation.</returns>
    /// <exception cref="KeyNotFoundException">An id is unknown.</exception>
    public MatchExplanation Explain(string leftId, string rightId) => _engine.Explain(leftId, rightId);

    /// <summary>Explains a scored pair.</summary>
    /// <param name="pair">The pair.</param>
    /// <returns>The per-field explanation.</returns>
    public MatchExplanation Explain(ScoredPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return _engine.Explain(pair.LeftId, pair.RightId);
    }

    /// <summary>
    /// Fraction of the true pairs that blocking made candidates (the recall ceiling of the whole pipeline).
    /// </summary>
    /// <param name="entityOf">The true entity of a record id, or null when unknown (the record matches nothing).</param>
    /// <returns>The blocking recall and pair counts.</returns>
    public BlockingRecall EvaluateBlocking(Func<string, string?> entityOf)
    {
        ArgumentNullException.ThrowIfNull(entityOf);
        var ids = _engine.Records.Ids;
        var entities = ids.Select(entityOf).ToArray();
        long found = 0;
        foreach (var pair in _candidates)
        {
            var (i, j) = Blocker.Unpack(pair);
            if (entities[i] is { } e && string.Equals(e, entities[j], StringComparison.Ordinal))
            {
                found++;
            }
        }

        var truePairs = Evaluation.LinkageEvaluation.CountTruePairs(entities, IsLink ? _engine.Records.LeftCount : -1);
        return new BlockingRecall(found, truePairs, _candidates.LongLength);
    }
}

/// <summary>How many true pairs survived blocking.</summary>
/// <param name="TruePairsInCandidates">True pairs among the candidates.</param>
/// <param name="TruePairs">All true pairs.</param>
/// <param name="CandidatePairs">All candidate pairs.</param>
public sealed record BlockingRecall(long TruePairsInCandidates, long TruePairs, long CandidatePairs)
{
    /// <summary>TruePairsInCandidates / TruePairs (1 when there are no true pairs).</summary>
    public double Recall => TruePairs == 0 ? 1 : (double)TruePairsInCandidates / TruePairs;
}
