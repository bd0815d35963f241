using System.Collections.Immutable;
using Loyalty.Sdk.Identity.Matching.Blocking;
using Loyalty.Sdk.Identity.Matching.Comparison;

namespace Loyalty.Sdk.Identity.Matching;

/// <summary>What to do with a scored pair.</summary>
public enum MatchDecision
{
    /// <summary>Below the review threshold: the records stay apart.</summary>
    NoMatch = 0,

    /// <summary>Between the review and auto-merge thresholds: a person should look at it.</summary>
    Review,

    /// <summary>At or above the auto-merge threshold: the records are merged (subject to the cluster size guard).</summary>
    AutoMerge,
}

/// <summary>
/// Two match-probability thresholds: below <see cref="ReviewThreshold"/> nothing merges; from it up to
/// <see cref="AutoMergeThreshold"/> a pair goes to review; at or above <see cref="AutoMergeThreshold"/> it merges.
/// Setting both to the same value gives a single merge threshold with no review band.
/// </summary>
/// <param name="ReviewThreshold">Lowest probability that is not a <see cref="MatchDecision.NoMatch"/>.</param>
/// <param name="AutoMergeThreshold">Lowest probability that merges automatically.</param>
public sealed record MatchPolicy(double ReviewThreshold = 0.5, double AutoMergeThreshold = 0.95)
{
    /// <summary>The default policy: review from 0.5, auto-merge from 0.95.</summary>
    public static MatchPolicy Default { get; } = new();

    /// <summary>Classifies a probability.</summary>
    /// <param name="probability">The match probability.</param>
    /// <returns>The decision.</returns>
    public MatchDecision Decide(double probability) =>
        probability >= AutoMergeThreshold ? MatchDecision.AutoMerge
        : probability >= ReviewThreshold ? MatchDecision.Review
        : MatchDecision.NoMatch;

    internal void Validate()
    {
        if (ReviewThreshold is < 0 or > 1 || AutoMergeThreshold is < 0 or > 1 || AutoMergeThreshold < ReviewThreshold)
        {
            throw new ArgumentException(
                $"Thresholds must satisfy 0 <= review ({ReviewThreshold}) <= auto-merge ({AutoMergeThreshold}) <= 1.");
        }
    }
}

/// <summary>Settings of an <see cref="IdentityMatcher"/>. Every value has a generic default; none is fitted to a data set.</summary>
public sealed record MatcherSettings
{
    /// <summary>The default settings.</summary>
    public static MatcherSettings Default { get; } = new();

    /// <summary>Comparison level thresholds.</summary>
    public ComparisonSettings Comparison { get; init; } = ComparisonSettings.Default;

    /// <summary>Blocking rules; empty means <see cref="BlockingRule.DefaultsFor"/> the schema.</summary>
    public ImmutableArray<BlockingRule> BlockingRules { get; init; } = [];

    /// <summary>Blocks with more records than this are skipped (and counted in the blocking statistics).</summary>
    public int MaxBlockSize { get; init; } = 1000;

    /// <summary>Field kinds whose exact matches are adjusted for the frequency of the value (rare values weigh more).</summary>
    public ImmutableArray<FieldKind> TermFrequencyKinds { get; init; } =
        [FieldKind.GivenName, FieldKind.Surname, FieldKind.FullName, FieldKind.Locality, FieldKind.Street];

    /// <summary>Random record pairs compared to initialise the u probabilities.</summary>
    public int RandomPairSampleSize { get; init; } = 200_000;

    /// <summary>When true, u stays at its random-pair estimate and EM learns only m and λ.</summary>
    public bool FixUFromRandomPairs { get; init; }

    /// <summary>Strength, in pairs, of the prior that keeps m near its starting point ("matches agree") for fields
    /// the data says little about: EM adds this many pseudo-pairs spread as the initial m to its expected counts. Zero
    /// is plain maximum likelihood. With thousands of matches the default changes nothing; with few (the duplicates
    /// deterministic resolution left over) it keeps a disagreement on a field, such as the birth date, a real
    /// penalty when EM saw too few matches with that field on both sides to learn it.</summary>
    public double MPriorPairs { get; init; } = 10;

    /// <summary>When true, EM treats as missing, for each candidate pair, the fields of the blocking rules that paired
    /// it: blocking made them agree, so their agreement there is not evidence of a match (with
    /// <see cref="FixUFromRandomPairs"/>, u describes random pairs, where it would be). Scoring still uses every
    /// field.</summary>
    public bool MaskBlockingFieldsInTraining { get; init; }

    /// <summary>Maximum number of EM iterations.</summary>
    public int MaxEmIterations { get; init; } = 500;

    /// <summary>EM stops when no parameter moves by more than this.</summary>
    public double EmTolerance { get; init; } = 1e-7;

    /// <summary>Seed of the random-pair sample (results are deterministic for a seed).</summary>
    public int Seed { get; init; } = 20_240_601;

    /// <summary>Thresholds that turn probabilities into decisions.</summary>
    public MatchPolicy Policy { get; init; } = MatchPolicy.Default;

    /// <summary>Largest cluster auto-merge may build; weaker edges that would exceed it are dropped and reported.</summary>
    public int MaxClusterSize { get; init; } = 50;

    /// <summary>Pairs below this probability are left out of <see cref="MatchResult.Pairs"/> (they are still counted).</summary>
    public double MinimumReportedProbability { get; init; } = 0.01;

    /// <summary>Region (ISO 3166 code such as "AU") used to parse phone numbers written without a country code; null keeps digits only.</summary>
    public string? DefaultPhoneRegion { get; init; }

    /// <summary>Maximum threads used for comparisons; -1 uses all cores.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    internal void Validate()
    {
        Policy.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBlockSize, 2, nameof(MaxBlockSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxClusterSize, 2, nameof(MaxClusterSize));
        ArgumentOutOfRangeException.ThrowIfNegative(RandomPairSampleSize, nameof(RandomPairSampleSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEmIterations, 1, nameof(MaxEmIterations));
        ArgumentOutOfRangeException.ThrowIfNegative(MPriorPairs, nameof(MPriorPairs));
    }
}
