using System.CommandLine;
using System.Diagnostics;
using Loyalty.Sdk;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Simulation;
using Loyalty.Sdk.Validation;
using NodaTime;
using Spectre.Console;

namespace Loyalty.Cli.Commands;

/// <summary><c>loyalty simulate</c>: the main job.</summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var customers = new Option<int>("--customers") { Description = "Number of synthetic people.", DefaultValueFactory = _ => 10_000 };
        var days = new Option<int>("--days") { Description = "Days of history.", DefaultValueFactory = _ => 365 };
        var seed = new Option<int>("--seed") { Description = "Random seed (same seed, same shop).", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--out") { Description = "Folder for report.json and report.html.", DefaultValueFactory = _ => "./loyalty-report" };
        var store = new Option<string>("--store") { Description = "Store: sqlite (default: a fresh .loyalty/simulate.db, kept after the run), postgres (with --connection) or memory.", DefaultValueFactory = _ => "sqlite" };
        var connection = new Option<string?>("--connection") { Description = "Connection string of the store." };
        var program = new Option<FileInfo?>("--program") { Description = "Program definition (JSON) instead of the default retail program." };
        var export = new Option<FileInfo?>("--export-events") { Description = "Also write the generated events as NDJSON (for 'loyalty replay')." };
        var command = new Command("simulate", "Generate a deterministic synthetic shop, stream it through the engine, and write report.json and report.html.")
        {
            customers, days, seed, output, store, connection, program, export,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var settings = new ShopSettings { Customers = parse.GetValue(customers), Days = parse.GetValue(days), Seed = parse.GetValue(seed) };
            if (settings.Customers < 1 || settings.Days < 1)
            {
                throw new CliException("--customers and --days must be at least 1.");
            }

            var definition = await CommandRunner.LoadProgramAsync(parse.GetValue(program), ct).ConfigureAwait(false);
            var total = Stopwatch.StartNew();
            var shop = AnsiConsole.Status().Start("Generating the shop…", _ => ShopGenerator.Generate(settings));
            AnsiConsole.MarkupLine($"Generated [bold]{shop.Events.Count:N0}[/] events for [bold]{shop.People.Count:N0}[/] people over {settings.Days} days (seed {settings.Seed}).");
            if (parse.GetValue(export) is { } exportFile)
            {
                await using var writer = new StreamWriter(exportFile.FullName);
                foreach (var e in shop.Events)
                {
                    await writer.WriteLineAsync(LoyaltyJson.SerializeEvent(e).AsMemory(), ct).ConfigureAwait(false);
                }
            }

            var start = settings.Start.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
            await using var host = EngineHost.Create(parse.GetValue(store)!, parse.GetValue(connection), definition, start, ".loyalty/simulate.db", fresh: true);
            var lastDay = settings.Start.PlusDays(settings.Days - 1);
            var checkpoint = host.Checkpoint(settings.Tenant, settings.Start, lastDay);
            var segments = new SegmentSimulation(host.Segments, settings.Tenant, host.Clock, start);
            var log = await ReportOutput.IngestWithProgressAsync(
                p => SimulationRunner.IngestAsync(host.Engine, host.Clock, shop.Events, p, onNewDay: (now, c) => host.RunDueWorkAsync(settings.Tenant, now, checkpoint, segments, c), cancellationToken: ct), shop.Events.Count, "Ingesting").ConfigureAwait(false);
            await segments.FinishAsync(shop.End, ct).ConfigureAwait(false);
            var report = await ReportBuilder.BuildAsync(host.Engine, definition, settings.Tenant, shop.Events, log, shop, "loyalty simulate",
                host.ReportInputs(checkpoint, lastDay), ct).ConfigureAwait(false);
            report["performance"] = CommandRunner.Performance(shop.Events.Count, log.Elapsed, total.Elapsed);
            var outDir = parse.GetValue(output)!;
            await ReportOutput.WriteAsync(report, outDir, ct).ConfigureAwait(false);
            ReportOutput.PrintSummary(report, outDir, log.Elapsed);
            return 0;
        }));
        return command;
    }
}

/// <summary>Shared plumbing of the commands: error handling and exit codes.</summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (LoyaltyValidationException ex)
        {
            foreach (var error in ex.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error}").ConfigureAwait(false);
            }

            return 1;
        }
    }

    public static async Task<LoyaltyProgram> LoadProgramAsync(FileInfo? file, CancellationToken ct)
    {
        if (file is null)
        {
            return DefaultPrograms.Retail();
        }

        if (!file.Exists)
        {
            throw new CliException($"Program file '{file.FullName}' does not exist.");
        }

        return await ProgramLoader.LoadAsync(file.FullName, ct).ConfigureAwait(false);
    }

    public static System.Text.Json.Nodes.JsonObject Performance(int events, TimeSpan ingest, TimeSpan total) => new()
    {
        ["events"] = events,
        ["ingestSeconds"] = Math.Round(ingest.TotalSeconds, 3),
        ["eventsPerSecond"] = Math.Round(events / Math.Max(0.001, ingest.TotalSeconds)),
        ["totalSeconds"] = Math.Round(total.TotalSeconds, 3),
    };
}
