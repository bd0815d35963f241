using System.CommandLine;
using System.Diagnostics;
using Loyalty.Sdk;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Simulation;
using Spectre.Console;

namespace Loyalty.Cli.Commands;

/// <summary><c>loyalty replay</c>: runs a real event history through the engine and the same report.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var events = new Option<FileInfo>("--events") { Description = "NDJSON file of events, one per line, in time order.", Required = true };
        var program = new Option<FileInfo?>("--program") { Description = "Program definition (JSON) instead of the default retail program." };
        var output = new Option<string>("--out") { Description = "Folder for report.json and report.html.", DefaultValueFactory = _ => "./loyalty-report" };
        var store = new Option<string>("--store") { Description = "Store: sqlite (default: .loyalty/loyalty.db, kept between runs, so a replay continues where the last one stopped and re-sent events change nothing), postgres (with --connection) or memory.", DefaultValueFactory = _ => "sqlite" };
        var connection = new Option<string?>("--connection") { Description = "Connection string of the store." };
        var strict = new Option<bool>("--strict") { Description = "Stop at the first malformed line instead of reporting it and going on." };
        var command = new Command("replay", "Run a recorded event history (NDJSON) through the engine and write the same report as simulate.")
        {
            events, program, output, store, connection, strict,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var file = parse.GetValue(events)!;
            if (!file.Exists)
            {
                throw new CliException($"Events file '{file.FullName}' does not exist.");
            }

            var definition = await CommandRunner.LoadProgramAsync(parse.GetValue(program), ct).ConfigureAwait(false);
            var total = Stopwatch.StartNew();
            var list = new List<LoyaltyEvent>();
            var malformed = 0;
            using (var reader = new StreamReader(file.FullName))
            {
                await foreach (var record in EventReader.ReadNdjsonAsync(reader, ct).ConfigureAwait(false))
                {
                    if (record.Event is { } e)
                    {
                        list.Add(e);
                        continue;
                    }

                    malformed++;
                    foreach (var error in record.Errors)
                    {
                        await Console.Error.WriteLineAsync($"{file.Name}:{error}").ConfigureAwait(false);
                    }

                    if (parse.GetValue(strict))
                    {
                        return 1;
                    }
                }
            }

            if (list.Count == 0)
            {
                throw new CliException($"'{file.Name}' holds no valid event.");
            }

            var tenants = list.Select(e => e.Tenant).Distinct().ToArray();
            if (tenants.Length > 1)
            {
                throw new CliException($"'{file.Name}' mixes tenants ({string.Join(", ", tenants)}); replay one tenant at a time.");
            }

            // Keep the file's order for events at the same instant; the engine's clock follows the history.
            var ordered = list.Select((e, i) => (e, i)).OrderBy(x => x.e.OccurredAt).ThenBy(x => x.i).Select(x => x.e).ToArray();
            await using var host = EngineHost.Create(parse.GetValue(store)!, parse.GetValue(connection), definition, ordered[0].OccurredAt);
            var firstDay = ordered[0].OccurredAt.InUtc().Date;
            var lastDay = ordered[^1].OccurredAt.InUtc().Date;
            var checkpoint = host.Checkpoint(tenants[0], firstDay, lastDay);
            var segments = new SegmentSimulation(host.Segments, tenants[0], host.Clock, ordered[0].OccurredAt);
            var log = await ReportOutput.IngestWithProgressAsync(
                p => SimulationRunner.IngestAsync(host.Engine, host.Clock, ordered, p, onNewDay: (now, c) => host.RunDueWorkAsync(tenants[0], now, checkpoint, segments, c), cancellationToken: ct), ordered.Length, "Replaying").ConfigureAwait(false);
            await segments.FinishAsync(ordered[^1].OccurredAt, ct).ConfigureAwait(false);
            foreach (var (e, errors) in log.Rejected)
            {
                foreach (var error in errors)
                {
                    await Console.Error.WriteLineAsync($"{file.Name}: event {e.Id}: {error}").ConfigureAwait(false);
                }
            }

            var report = await ReportBuilder.BuildAsync(host.Engine, definition, tenants[0], ordered, log, truth: null, "loyalty replay " + file.Name,
                host.ReportInputs(checkpoint, lastDay), ct).ConfigureAwait(false);
            report["ingest"]!["malformedLines"] = malformed;
            report["performance"] = CommandRunner.Performance(ordered.Length, log.Elapsed, total.Elapsed);
            var outDir = parse.GetValue(output)!;
            await ReportOutput.WriteAsync(report, outDir, ct).ConfigureAwait(false);
            ReportOutput.PrintSummary(report, outDir, log.Elapsed);
            if (malformed > 0 || log.Rejected.Count > 0)
            {
                AnsiConsole.MarkupLine($"[yellow]{malformed} malformed line(s) and {log.Rejected.Count} rejected event(s) were reported on stderr.[/]");
            }

            return 0;
        }));
        return command;
    }
}
