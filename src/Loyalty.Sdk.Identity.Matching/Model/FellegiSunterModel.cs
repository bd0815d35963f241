using System.Collections.Immutable;

namespace Loyalty.Sdk.Identity.Matching.Model;

/// <summary>
/// The m and u probabilities of one comparison level. m = P(level | same person), u = P(level | different people).
/// </summary>
/// <param name="Name">The level description, e.g. <c>exact</c> or <c>jaro-winkler &gt;= 0.92</c>.</param>
/// <param name="M">Probability of the level among matches.</param>
/// <param name="U">Probability of the level among non-matches.</param>
public sealed record ComparisonLevelParameters(string Name, double M, double U)
{
    /// <summary>The partial match weight of the level: log2(m / u), in bits.</summary>
    public double Weight => Math.Log2(M / U);
}

/// <summary>The comparison levels of one field with their learnt parameters. The null level (a value missing on either side) has weight 0 and is not listed.</summary>
/// <param name="Field">The schema field name.</param>
/// <param name="Kind">The field kind.</param>
/// <param name="Levels">Levels from the most to the least similar; the last is "else".</param>
/// <param name="TermFrequencyAdjusted">Whether exact matches are adjusted for how common the value is.</param>
public sealed record FieldModel(string Field, FieldKind Kind, ImmutableArray<ComparisonLevelParameters> Levels, bool TermFrequencyAdjusted);

/// <summary>
/// A trained Fellegi–Sunter model. The match weight of a pair is the prior weight plus, for each field, the weight of
/// the level the pair falls in (plus a term-frequency adjustment for exact matches on adjusted fields); the match
/// probability is 2^w / (1 + 2^w).
/// </summary>
/// <param name="Prior">λ: the estimated proportion of matches among the candidate pairs produced by blocking.</param>
/// <param name="Fields">One entry per schema field, in schema order.</param>
/// <param name="Iterations">EM iterations run.</param>
/// <param name="Converged">Whether EM stopped because the parameters stopped moving (not on the iteration cap).</param>
/// <param name="TrainingPairs">Number of candidate pairs EM was run on.</param>
public sealed record FellegiSunterModel(
    double Prior,
    ImmutableArray<FieldModel> Fields,
    int Iterations,
    bool Converged,
    long TrainingPairs)
{
    /// <summary>The prior weight log2(λ / (1 − λ)), in bits: the starting point of every pair's match weight.</summary>
    public double PriorWeight => Math.Log2(Prior / (1 - Prior));

    /// <summary>Expected number of true matches among the training pairs (λ × pairs).</summary>
    public double ExpectedMatches => Prior * TrainingPairs;

    /// <summary>Converts a match weight (bits) to a match probability.</summary>
    /// <param name="matchWeight">The weight in bits.</param>
    /// <returns>2^w / (1 + 2^w).</returns>
    public static double ToProbability(double matchWeight) => 1.0 / (1.0 + Math.Pow(2, -matchWeight));

    /// <summary>Converts a match probability to a match weight in bits.</summary>
    /// <param name="probability">A probability in (0, 1).</param>
    /// <returns>log2(p / (1 − p)).</returns>
    public static double ToWeight(double probability) => Math.Log2(probability / (1 - probability));
}
