using System.CommandLine;
using System.Globalization;
using Loyalty.Sdk.Identity.Matching.Cli;
using Loyalty.Sdk.Identity.Matching.Csv;

namespace Loyalty.Cli.Commands;

/// <summary><c>loyalty identity dedupe</c>: probabilistic duplicate detection over person records.</summary>
internal static class IdentityCommand
{
    public static Command Create()
    {
        var input = new Option<FileInfo>("--input") { Description = "CSV of person records.", Required = true };
        var link = new Option<FileInfo?>("--link") { Description = "A second CSV to link against --input instead of deduplicating it." };
        var idColumn = new Option<string>("--id-column") { Description = "The column holding each record's id.", Required = true };
        var threshold = new Option<double>("--threshold") { Description = "Write pairs whose match probability is at least this.", DefaultValueFactory = _ => 0.5 };
        var truth = new Option<string[]>("--truth") { Description = "Ground truth to score against: 'cluster-column NAME' or 'id-regex PATTERN'.", Arity = new ArgumentArity(2, 2), AllowMultipleArgumentsPerToken = true };
        var map = new Option<string[]>("--map") { Description = "Column mapping column=kind (or column=ignore); repeatable.", AllowMultipleArgumentsPerToken = true };
        var output = new Option<FileInfo?>("--out") { Description = "Write the pairs CSV here instead of stdout." };
        var dedupe = new Command("dedupe", "Find records of the same person that share no identifier (Fellegi–Sunter, trained without labels) and write left_id,right_id,match_probability,match_weight.")
        {
            input, link, idColumn, threshold, truth, map, output,
        };
        dedupe.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var file = parse.GetValue(input)!;
            if (!file.Exists)
            {
                throw new CliException($"Input file '{file.FullName}' does not exist.");
            }

            DedupeOptions options;
            try
            {
                var truthArgs = parse.GetValue(truth);
                options = new DedupeOptions(file.FullName, parse.GetValue(idColumn)!)
                {
                    LinkPath = parse.GetValue(link)?.FullName,
                    Threshold = parse.GetValue(threshold),
                    Truth = truthArgs is { Length: 2 } ? TruthSource.Parse(truthArgs[0], truthArgs[1]) : null,
                    ColumnMappings = [.. (parse.GetValue(map) ?? []).Select(ColumnMapping.Parse)],
                };
            }
            catch (ArgumentException ex)
            {
                throw new CliException(ex.Message);
            }

            DedupeRunResult result;
            try
            {
                if (parse.GetValue(output) is { } outFile)
                {
                    await using var writer = new StreamWriter(outFile.FullName);
                    result = DedupeCommandRunner.Run(options, writer, ct);
                }
                else
                {
                    result = DedupeCommandRunner.Run(options, Console.Out, ct);
                    await Console.Out.FlushAsync(ct);
                }
            }
            catch (RecordFileFormatException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return 1;
            }

            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{result.LeftRecords} record(s), {result.PairsWritten} pair(s) at probability >= {result.Threshold}."));
            if (result.Metrics is { } m)
            {
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"precision {m.Precision:0.0000}, recall {m.Recall:0.0000}, F1 {m.F1:0.0000} (TP {m.TruePositives}, FP {m.FalsePositives}, FN {m.FalseNegatives})"));
            }

            return 0;
        }));
        return new Command("identity", "Identity resolution tools.") { dedupe };
    }
}
