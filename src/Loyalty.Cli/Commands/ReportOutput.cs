using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loyalty.Sdk.Simulation;
using Spectre.Console;

namespace Loyalty.Cli.Commands;

/// <summary>Writes report.json and report.html and prints the summary table.</summary>
internal static class ReportOutput
{
    public static async Task WriteAsync(JsonObject report, string outDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outDirectory);
        var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        await File.WriteAllTextAsync(Path.Combine(outDirectory, "report.json"), json + "\n", cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(outDirectory, "report.html"), HtmlReport.Render(report), cancellationToken).ConfigureAwait(false);
    }

    public static void PrintSummary(JsonObject report, string outDirectory, TimeSpan elapsed)
    {
        var k = report["kpis"]!;
        var id = report["identity"]!;
        var ingest = report["ingest"]!;
        var currency = report["program"]?["baseCurrency"]?.ToString() ?? string.Empty;
        var table = new Table().Title("[bold]Loyalty simulation[/]").AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        var events = ingest["events"]!.GetValue<int>();
        Row("Events streamed", events.ToString("N0", CultureInfo.InvariantCulture));
        Row("Applied / duplicates / rejected", $"{ingest["applied"]} / {ingest["duplicates"]} / {ingest["rejected"]}");
        Row("Throughput", string.Create(CultureInfo.InvariantCulture, $"{events / Math.Max(0.001, elapsed.TotalSeconds):N0} events/s"));
        Row("Customers resolved", id["customersResolved"]!.ToString());
        if (id["truePeople"] is not null)
        {
            Row("Real people (ground truth)", id["truePeople"]!.ToString());
            Row("Identity precision / recall", $"{id["pairwisePrecision"]} / {id["pairwiseRecall"]}");
        }

        Row("Merges", id["merges"]!.ToString());
        Row("Orders", k["orders"]!.ToString());
        Row("Net revenue", $"{k["netRevenue"]} {currency}");
        Row("Average order value", $"{k["averageOrderValue"]} {currency}");
        Row("Repeat purchase rate", k["repeatPurchaseRate"]!.ToString());
        foreach (var section in new[] { "ledger", "segments", "consent", "journeys", "predictive" })
        {
            if (report[section]?["available"]?.GetValue<bool>() == false)
            {
                Row(section, "not registered yet");
            }
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Reports written to [link]{Markup.Escape(Path.GetFullPath(Path.Combine(outDirectory, "report.json")))}[/] and [link]{Markup.Escape(Path.GetFullPath(Path.Combine(outDirectory, "report.html")))}[/]");
    }

    public static async Task<IngestLog> IngestWithProgressAsync(Func<IProgress<int>, Task<IngestLog>> run, int total, string title)
    {
        IngestLog? log = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(title, maxValue: Math.Max(1, total));
                log = await run(new Progress<int>(done => task.Value = done)).ConfigureAwait(false);
                task.Value = total;
            }).ConfigureAwait(false);
        return log!;
    }
}
