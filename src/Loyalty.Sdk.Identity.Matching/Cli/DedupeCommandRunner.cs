using System.Collections.Immutable;
using System.Globalization;
using Loyalty.Sdk.Identity.Matching.Csv;
using Loyalty.Sdk.Identity.Matching.Evaluation;

namespace Loyalty.Sdk.Identity.Matching.Cli;

/// <summary>
/// Runs <c>loyalty identity dedupe</c>: reads person records from CSV, recognises columns by header (or explicit
/// mappings), trains the model without labels, writes the pairs at or above the threshold as CSV
/// (<c>left_id,right_id,match_probability,match_weight</c>) and, when truth is available, measures them.
/// </summary>
public static class DedupeCommandRunner
{
    /// <summary>The header line of the pair output.</summary>
    public const string OutputHeader = "left_id,right_id,match_probability,match_weight";

    /// <summary>Runs the command.</summary>
    /// <param name="options">The options.</param>
    /// <param name="output">Receives the pair CSV.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>Counts, the model and, with truth, the metrics.</returns>
    /// <exception cref="RecordFileFormatException">A file is malformed, the id column is missing, or an id is empty or repeated.</exception>
    /// <exception cref="ArgumentException">Invalid options (threshold, mappings, truth column).</exception>
    public static DedupeRunResult Run(DedupeOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        if (options.Threshold is < 0 or > 1 || double.IsNaN(options.Threshold))
        {
            throw new ArgumentException($"Threshold must be within [0, 1], got {options.Threshold}.", nameof(options));
        }

        var left = DelimitedFile.ReadFile(options.InputPath, cancellationToken);
        var right = options.LinkPath is null ? null : DelimitedFile.ReadFile(options.LinkPath, cancellationToken);
        var truthColumn = (options.Truth as ClusterColumnTruth)?.Column;
        var (fields, ignored) = BuildSchema(left, options, truthColumn);
        var schema = new RecordSchema(fields);

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var entities = new Dictionary<string, string?>(StringComparer.Ordinal);
        var leftSet = ToRecordSet(left, schema, options, truthColumn, ids, entities);
        var rightSet = right is null ? null : ToRecordSet(right, schema, options, truthColumn, ids, entities);

        var baseSettings = options.Settings ?? MatcherSettings.Default;
        var settings = baseSettings with
        {
            Policy = new MatchPolicy(options.Threshold, Math.Max(options.Threshold, baseSettings.Policy.AutoMergeThreshold)),
            MinimumReportedProbability = Math.Min(options.Threshold, baseSettings.MinimumReportedProbability),
        };
        var matcher = new IdentityMatcher(settings);
        var result = rightSet is null
            ? matcher.Deduplicate(leftSet, cancellationToken)
            : matcher.Link(leftSet, rightSet, cancellationToken);

        var written = result.PairsAbove(options.Threshold).ToList();
        output.WriteLine(OutputHeader);
        foreach (var pair in written)
        {
            output.Write(Escape(pair.LeftId));
            output.Write(',');
            output.Write(Escape(pair.RightId));
            output.Write(',');
            output.Write(pair.MatchProbability.ToString("0.##########", CultureInfo.InvariantCulture));
            output.Write(',');
            output.WriteLine(pair.MatchWeight.ToString("0.######", CultureInfo.InvariantCulture));
        }

        output.Flush();

        LinkageMetrics? metrics = null;
        BlockingRecall? blockingRecall = null;
        if (options.Truth is not null)
        {
            Func<string, string?> entityOf = options.Truth is IdPatternTruth pattern
                ? pattern.CreateExtractor()
                : id => entities.GetValueOrDefault(id);
            metrics = LinkageEvaluation.Evaluate(
                written,
                entityOf,
                leftSet.Records.Select(r => r.Id),
                rightSet?.Records.Select(r => r.Id));
            blockingRecall = result.EvaluateBlocking(entityOf);
        }

        return new DedupeRunResult(
            leftSet.Count,
            rightSet?.Count ?? 0,
            schema.Fields,
            ignored,
            result.Blocking,
            result.Model,
            written.Count,
            options.Threshold,
            metrics,
            blockingRecall);
    }

    private static (List<FieldDefinition> Fields, ImmutableArray<string> Ignored) BuildSchema(
        DelimitedTable table, DedupeOptions options, string? truthColumn)
    {
        var idIndex = table.IndexOf(options.IdColumn);
        if (idIndex < 0)
        {
            throw new RecordFileFormatException(
                table.Source, 1, null, $"id column '{options.IdColumn}' not found; columns are: {string.Join(", ", table.Header)}");
        }

        if (truthColumn is not null && table.IndexOf(truthColumn) < 0)
        {
            throw new RecordFileFormatException(table.Source, 1, null, $"truth column '{truthColumn}' not found");
        }

        var mapped = new Dictionary<string, FieldKind?>(StringComparer.OrdinalIgnoreCase);
        foreach (var mapping in options.ColumnMappings)
        {
            if (table.IndexOf(mapping.Column) < 0)
            {
                throw new RecordFileFormatException(table.Source, 1, null, $"mapped column '{mapping.Column}' not found");
            }

            mapped[mapping.Column.Trim()] = mapping.Kind;
        }

        var fields = new List<FieldDefinition>();
        var ignored = ImmutableArray.CreateBuilder<string>();
        for (var c = 0; c < table.Header.Length; c++)
        {
            var name = table.Header[c];
            if (c == idIndex || (truthColumn is not null && c == table.IndexOf(truthColumn)))
            {
                continue;
            }

            FieldKind? kind = mapped.TryGetValue(name, out var explicitKind)
                ? explicitKind
                : ColumnKinds.TryRecognizeHeader(name, out var recognised) ? recognised : null;
            if (kind is null || string.IsNullOrWhiteSpace(name) || fields.Any(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                ignored.Add(name);
                continue;
            }

            fields.Add(new FieldDefinition(name, kind.Value));
        }

        if (fields.Count == 0)
        {
            throw new RecordFileFormatException(
                table.Source, 1, null, "no column was recognised as a person field; map columns with --map column=kind");
        }

        return (fields, ignored.ToImmutable());
    }

    private static RecordSet ToRecordSet(
        DelimitedTable table,
        RecordSchema schema,
        DedupeOptions options,
        string? truthColumn,
        HashSet<string> ids,
        Dictionary<string, string?> entities)
    {
        var idIndex = table.IndexOf(options.IdColumn);
        if (idIndex < 0)
        {
            throw new RecordFileFormatException(table.Source, 1, null, $"id column '{options.IdColumn}' not found");
        }

        var truthIndex = truthColumn is null ? -1 : table.IndexOf(truthColumn);
        if (truthColumn is not null && truthIndex < 0)
        {
            throw new RecordFileFormatException(table.Source, 1, null, $"truth column '{truthColumn}' not found");
        }

        var columnIndexes = schema.Fields.Select(f =>
        {
            var index = table.IndexOf(f.Name);
            return index >= 0 ? index : throw new RecordFileFormatException(table.Source, 1, null, $"column '{f.Name}' not found");
        }).ToArray();

        var records = new List<PersonRecord>(table.Rows.Length);
        foreach (var row in table.Rows)
        {
            var id = row.Values[idIndex];
            if (id.Length == 0)
            {
                throw new RecordFileFormatException(table.Source, row.Line, idIndex + 1, "empty record id");
            }

            if (!ids.Add(id))
            {
                throw new RecordFileFormatException(table.Source, row.Line, idIndex + 1, $"duplicate record id '{id}'");
            }

            if (truthIndex >= 0)
            {
                var entity = row.Values[truthIndex];
                entities[id] = entity.Length == 0 ? null : entity;
            }

            var values = new string?[columnIndexes.Length];
            for (var f = 0; f < values.Length; f++)
            {
                var value = row.Values[columnIndexes[f]];
                values[f] = value.Length == 0 ? null : value;
            }

            records.Add(new PersonRecord(id, [.. values]));
        }

        return new RecordSet(schema, records);
    }

    private static string Escape(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
