using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Loyalty.Sdk.Identity.Matching.Blocking;
using Loyalty.Sdk.Identity.Matching.Evaluation;
using Loyalty.Sdk.Identity.Matching.Model;

namespace Loyalty.Sdk.Identity.Matching.Cli;

/// <summary>An explicit column mapping (<c>--map column=kind</c>); a null kind ignores the column.</summary>
/// <param name="Column">The header name.</param>
/// <param name="Kind">The field kind, or null to ignore the column.</param>
public sealed record ColumnMapping(string Column, FieldKind? Kind)
{
    /// <summary>Parses <c>column=kind</c>; the kind is a <see cref="FieldKind"/> name, a header alias, or <c>ignore</c>.</summary>
    /// <param name="text">The mapping text.</param>
    /// <returns>The mapping.</returns>
    /// <exception cref="FormatException">The text is not <c>column=kind</c> or the kind is unknown.</exception>
    public static ColumnMapping Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var eq = text.LastIndexOf('=');
        if (eq <= 0 || eq == text.Length - 1)
        {
            throw new FormatException($"Expected column=kind, got '{text}'.");
        }

        var column = text[..eq].Trim();
        var kindText = text[(eq + 1)..].Trim();
        if (kindText.Equals("ignore", StringComparison.OrdinalIgnoreCase) || kindText.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return new ColumnMapping(column, null);
        }

        return ColumnKinds.TryParseKind(kindText, out var kind)
            ? new ColumnMapping(column, kind)
            : throw new FormatException(
                $"Unknown field kind '{kindText}' in '{text}'. Known kinds: {string.Join(", ", Enum.GetNames<FieldKind>())}, ignore.");
    }
}

/// <summary>Where the true entity of each record comes from, for precision/recall.</summary>
public abstract record TruthSource
{
    private protected TruthSource()
    {
    }

    /// <summary>Parses a command-line truth option: <c>cluster-column NAME</c> or <c>id-regex PATTERN</c> (also <c>regex</c>).</summary>
    /// <param name="kind">The form.</param>
    /// <param name="value">The column name or pattern.</param>
    /// <returns>The truth source.</returns>
    /// <exception cref="FormatException">Unknown form.</exception>
    public static TruthSource Parse(string kind, string value)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(value);
        return kind.Trim().ToLowerInvariant() switch
        {
            "cluster-column" or "column" => new ClusterColumnTruth(value),
            "id-regex" or "regex" => new IdPatternTruth(value),
            _ => throw new FormatException($"Unknown truth form '{kind}': use cluster-column NAME or id-regex PATTERN."),
        };
    }
}

/// <summary>Records with equal values in a column are the same person; empty values match nothing.</summary>
/// <param name="Column">The column name.</param>
public sealed record ClusterColumnTruth(string Column) : TruthSource;

/// <summary>
/// The entity key is extracted from the record id by a regular expression: the first capture group when the pattern
/// has one, else the whole match (e.g. <c>rec-(\d+)-</c> for FEBRL ids). Ids that do not match match nothing.
/// </summary>
/// <param name="Pattern">The regular expression.</param>
public sealed record IdPatternTruth(string Pattern) : TruthSource
{
    internal Func<string, string?> CreateExtractor()
    {
        var regex = new Regex(Pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        return id =>
        {
            var match = regex.Match(id);
            if (!match.Success)
            {
                return null;
            }

            return match.Groups.Count > 1 && match.Groups[1].Success ? match.Groups[1].Value : match.Value;
        };
    }
}

/// <summary>Options of <c>loyalty identity dedupe</c>.</summary>
/// <param name="InputPath">The records to deduplicate (or the left side when linking).</param>
/// <param name="IdColumn">The column holding unique record ids.</param>
public sealed record DedupeOptions(string InputPath, string IdColumn)
{
    /// <summary>A second file to link against <see cref="InputPath"/> (<c>--link</c>); null deduplicates one file.</summary>
    public string? LinkPath { get; init; }

    /// <summary>Pairs with at least this match probability are written (<c>--threshold</c>, default 0.5).</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>Ground truth for precision/recall (<c>--truth</c>); null when unknown.</summary>
    public TruthSource? Truth { get; init; }

    /// <summary>Explicit column kinds (<c>--map column=kind</c>), overriding header recognition.</summary>
    public ImmutableArray<ColumnMapping> ColumnMappings { get; init; } = [];

    /// <summary>Matcher settings; null uses the defaults (the policy's review threshold follows <see cref="Threshold"/>).</summary>
    public MatcherSettings? Settings { get; init; }
}

/// <summary>What a dedupe run did.</summary>
/// <param name="LeftRecords">Records read from the input.</param>
/// <param name="RightRecords">Records read from the linked file (0 when deduplicating).</param>
/// <param name="Fields">The columns used for matching with their kinds.</param>
/// <param name="IgnoredColumns">Columns that were not used.</param>
/// <param name="Blocking">Candidate pair statistics.</param>
/// <param name="Model">The trained model.</param>
/// <param name="PairsWritten">Pairs written (probability at or above the threshold).</param>
/// <param name="Threshold">The probability threshold.</param>
/// <param name="Metrics">Precision, recall and F1 of the written pairs when truth was given.</param>
/// <param name="BlockingRecall">Blocking recall when truth was given.</param>
public sealed record DedupeRunResult(
    int LeftRecords,
    int RightRecords,
    ImmutableArray<FieldDefinition> Fields,
    ImmutableArray<string> IgnoredColumns,
    BlockingSummary Blocking,
    FellegiSunterModel Model,
    int PairsWritten,
    double Threshold,
    LinkageMetrics? Metrics,
    BlockingRecall? BlockingRecall);
