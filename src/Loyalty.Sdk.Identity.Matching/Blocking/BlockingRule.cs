using System.Collections.Immutable;

namespace Loyalty.Sdk.Identity.Matching.Blocking;

/// <summary>How a field value is turned into (part of) a blocking key.</summary>
public enum BlockingTransform
{
    /// <summary>The normalised value itself.</summary>
    Exact = 0,

    /// <summary>The Soundex code of the normalised value.</summary>
    Soundex,

    /// <summary>The first <see cref="BlockingKeyPart.Length"/> characters of the normalised value.</summary>
    Prefix,

    /// <summary>The year of a birth date (first four digits of <c>yyyyMMdd</c>).</summary>
    Year,

    /// <summary>The digits of the value in order (none: no key). For an e-mail address, the digits of the local part
    /// and domain: a mistyped address usually keeps them, and they do not repeat the name.</summary>
    Digits,

    /// <summary>What follows the last <c>@</c> (an e-mail domain); no key without one.</summary>
    Domain,
}

/// <summary>One part of a blocking key: a field and how its value is transformed.</summary>
/// <param name="Field">The schema field name.</param>
/// <param name="Transform">The transformation of the normalised value.</param>
/// <param name="Length">Prefix length for <see cref="BlockingTransform.Prefix"/>; ignored otherwise.</param>
public sealed record BlockingKeyPart(string Field, BlockingTransform Transform = BlockingTransform.Exact, int Length = 0);

/// <summary>
/// A blocking rule: two records become a candidate pair when every part of their keys is present and equal.
/// Candidates are the union over all rules, so a pair missed by one rule (a typo in the postcode) can still be
/// found by another (same surname and birth year).
/// </summary>
/// <param name="Name">A short name used in statistics.</param>
/// <param name="Parts">The key parts; all must be present and equal.</param>
public sealed record BlockingRule(string Name, ImmutableArray<BlockingKeyPart> Parts)
{
    /// <summary>Creates a rule from parts, naming it after them.</summary>
    /// <param name="parts">The key parts.</param>
    /// <returns>The rule.</returns>
    public static BlockingRule Of(params BlockingKeyPart[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var name = string.Join(" + ", parts.Select(p => p.Transform switch
        {
            BlockingTransform.Exact => p.Field,
            BlockingTransform.Prefix => $"{p.Field}[..{p.Length}]",
            _ => $"{p.Transform.ToString().ToLowerInvariant()}({p.Field})",
        }));
        return new BlockingRule(name, [.. parts]);
    }

    /// <summary>
    /// Default rules for a schema, built from the field kinds present: each national id, postcode, phone and
    /// e-mail alone; the full birth date; surname with birth year; Soundex of given name with Soundex of surname;
    /// the sorted tokens of a full name; the street with the street number.
    /// </summary>
    /// <param name="schema">The schema.</param>
    /// <returns>The rules (possibly empty when the schema has none of these kinds).</returns>
    public static ImmutableArray<BlockingRule> DefaultsFor(RecordSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var rules = ImmutableArray.CreateBuilder<BlockingRule>();
        string? First(FieldKind kind) => schema.Fields.FirstOrDefault(f => f.Kind == kind)?.Name;
        foreach (var field in schema.Fields.Where(f => f.Kind is FieldKind.NationalId or FieldKind.Postcode or FieldKind.Phone or FieldKind.Email))
        {
            rules.Add(Of(new BlockingKeyPart(field.Name)));
        }

        var dob = First(FieldKind.BirthDate);
        var given = First(FieldKind.GivenName);
        var surname = First(FieldKind.Surname);
        var fullName = First(FieldKind.FullName);
        var street = First(FieldKind.Street);
        var number = First(FieldKind.StreetNumber);
        if (dob is not null)
        {
            rules.Add(Of(new BlockingKeyPart(dob)));
        }

        if (surname is not null && dob is not null)
        {
            rules.Add(Of(new BlockingKeyPart(surname), new BlockingKeyPart(dob, BlockingTransform.Year)));
        }

        if (given is not null && surname is not null)
        {
            rules.Add(Of(new BlockingKeyPart(given, BlockingTransform.Soundex), new BlockingKeyPart(surname, BlockingTransform.Soundex)));
        }

        if (fullName is not null)
        {
            rules.Add(Of(new BlockingKeyPart(fullName, BlockingTransform.Soundex)));
        }

        if (street is not null && number is not null)
        {
            rules.Add(Of(new BlockingKeyPart(street), new BlockingKeyPart(number)));
        }

        return rules.ToImmutable();
    }
}

/// <summary>Candidate pairs produced by one blocking rule.</summary>
/// <param name="Rule">The rule name.</param>
/// <param name="NewPairs">Pairs this rule produced that no earlier rule had produced.</param>
/// <param name="SkippedBlocks">Blocks larger than the block-size limit that were skipped.</param>
/// <param name="SkippedRecords">Records in the skipped blocks.</param>
public sealed record BlockingRuleStatistics(string Rule, long NewPairs, int SkippedBlocks, long SkippedRecords);

/// <summary>What blocking produced.</summary>
/// <param name="CandidatePairs">Distinct candidate pairs compared.</param>
/// <param name="TotalPossiblePairs">Pairs an all-pairs comparison would have compared.</param>
/// <param name="Rules">Per-rule statistics in rule order.</param>
public sealed record BlockingSummary(long CandidatePairs, long TotalPossiblePairs, ImmutableArray<BlockingRuleStatistics> Rules)
{
    /// <summary>Fraction of all possible pairs that were compared (lower is cheaper).</summary>
    public double ReductionRatio => TotalPossiblePairs == 0 ? 0 : 1.0 - ((double)CandidatePairs / TotalPossiblePairs);
}
