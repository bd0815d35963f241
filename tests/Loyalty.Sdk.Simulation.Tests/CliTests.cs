using System.CommandLine;
using System.Text.Json.Nodes;
using Loyalty.Cli.Commands;
using Loyalty.Sdk.Programs;

namespace Loyalty.Sdk.Simulation.Tests;

[Collection("console")]
public sealed class CliTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("loyalty-cli-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var root = new RootCommand { SimulateCommand.Create(), ReplayCommand.Create(), ProgramCommand.Create() };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var exit = await root.Parse(args).InvokeAsync();
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public async Task Program_check_accepts_the_default_program()
    {
        var file = Path.Combine(folder, "p.json");
        await File.WriteAllTextAsync(file, DefaultPrograms.RetailJson);
        var (exit, output, _) = await RunAsync("program", "check", file);
        Assert.Equal(0, exit);
        Assert.Contains("OK", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Program_check_lists_every_problem_and_exits_1()
    {
        var file = Path.Combine(folder, "bad.json");
        await File.WriteAllTextAsync(file, """{ "id": "x", "name": "X", "baseCurrency": "EUR", "defaultTimeZone": "Mars/Base", "defaultRegion": "ZZ" }""");
        var (exit, _, errors) = await RunAsync("program", "check", file);
        Assert.Equal(1, exit);
        Assert.Contains("$.defaultTimeZone", errors, StringComparison.Ordinal);
        Assert.Contains("$.defaultRegion", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_reports_a_bad_line_by_number_and_still_writes_the_report()
    {
        var events = Path.Combine(folder, "events.ndjson");
        var good1 = """{"kind":"signed_up","id":"e1","tenant":"acme","occurredAt":"2025-03-01T10:00:00Z","channel":"web","identifiers":[{"type":"email","value":"ann@example.com"}]}""";
        var good2 = """{"kind":"order_placed","id":"e2","tenant":"acme","occurredAt":"2025-03-02T10:00:00Z","channel":"web","identifiers":[{"type":"email","value":"ann@example.com"}],"orderId":"o1","currency":"EUR","lines":[{"lineId":"1","sku":"A","quantity":1,"unitPrice":10}],"total":10}""";
        var bad = """{"kind":"order_placed","id":"e3","tenant":"acme","occurredAt":"not a time","channel":"web","identifiers":[{"type":"email","value":"ann@example.com"}],"orderId":"o2","currency":"EUR","lines":[],"total":0}""";
        await File.WriteAllLinesAsync(events, [good1, good2, bad]);
        var outDir = Path.Combine(folder, "out");
        var (exit, _, errors) = await RunAsync("replay", "--events", events, "--out", outDir);
        Assert.Equal(0, exit);
        Assert.Contains("events.ndjson:3: $.occurredAt", errors, StringComparison.Ordinal);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        Assert.Equal(1, report["kpis"]!["orders"]!.GetValue<int>());
        Assert.Equal(1, report["ingest"]!["malformedLines"]!.GetValue<int>());
        Assert.True(File.Exists(Path.Combine(outDir, "report.html")));
    }

    [Fact]
    public async Task Simulate_writes_both_reports_and_can_export_events_for_replay()
    {
        var outDir = Path.Combine(folder, "sim");
        var export = Path.Combine(folder, "sim.ndjson");
        var (exit, output, errors) = await RunAsync("simulate", "--customers", "50", "--days", "30", "--out", outDir, "--export-events", export);
        Assert.True(exit == 0, output + errors);
        var simulated = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        Assert.True(File.Exists(Path.Combine(outDir, "report.html")));

        var replayDir = Path.Combine(folder, "replay");
        var store = $"Data Source={Path.Combine(folder, "replay.db")}";
        (exit, output, errors) = await RunAsync("replay", "--events", export, "--out", replayDir, "--connection", store);
        Assert.True(exit == 0, output + errors);
        var replayed = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(replayDir, "report.json")))!;
        Assert.Equal(simulated["kpis"]!["netRevenue"]!.ToJsonString(), replayed["kpis"]!["netRevenue"]!.ToJsonString());
        Assert.Equal(simulated["identity"]!["customersResolved"]!.ToJsonString(), replayed["identity"]!["customersResolved"]!.ToJsonString());

        // The replay store is kept between runs: replaying the same events again applies nothing new and still reports.
        (exit, output, errors) = await RunAsync("replay", "--events", export, "--out", replayDir, "--connection", store);
        Assert.True(exit == 0, output + errors);
        var again = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(replayDir, "report.json")))!;
        Assert.Equal(0, again["ingest"]!["applied"]!.GetValue<int>());
        Assert.Equal(replayed["ledger"]!["outstanding"]!.ToJsonString(), again["ledger"]!["outstanding"]!.ToJsonString());
    }

    [Fact]
    public async Task Unsupported_store_is_a_usage_error()
    {
        var (exit, _, errors) = await RunAsync("simulate", "--customers", "5", "--days", "5", "--store", "cassandra", "--out", Path.Combine(folder, "x"));
        Assert.Equal(2, exit);
        Assert.Contains("Unknown store", errors, StringComparison.Ordinal);
    }
}
