using System.Collections.Immutable;

namespace Loyalty.Sdk.Identity.Matching.Comparison;

/// <summary>
/// Thresholds of the comparison levels. Levels are tried from the most to the least similar; the first that holds
/// is the pair's level for the field. These are similarity thresholds, not fitted parameters: the weight of each
/// level is learnt without labels by EM.
/// </summary>
public sealed record ComparisonSettings
{
    /// <summary>Jaro–Winkler thresholds (descending) for given names, surnames and full names.</summary>
    public ImmutableArray<double> NameJaroWinklerThresholds { get; init; } = [0.92, 0.88, 0.70];

    /// <summary>Jaro–Winkler thresholds (descending) for streets, localities and generic text.</summary>
    public ImmutableArray<double> TextJaroWinklerThresholds { get; init; } = [0.92, 0.80];

    /// <summary>Largest absolute difference of two street numbers that still counts as "close".</summary>
    public int StreetNumberTolerance { get; init; } = 2;

    /// <summary>Number of trailing digits two phone numbers must share for the "same subscriber digits" level.</summary>
    public int PhoneSuffixDigits { get; init; } = 8;

    /// <summary>Whether given-name and surname comparisons get a level for names swapped between the two fields.</summary>
    public bool DetectSwappedNames { get; init; } = true;

    /// <summary>Default settings.</summary>
    public static ComparisonSettings Default { get; } = new();
}
