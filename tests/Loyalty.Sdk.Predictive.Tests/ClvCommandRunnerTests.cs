using System.Globalization;
using System.Text.Json;
using Loyalty.Sdk.Predictive.Cli;
using NodaTime;
using Xunit.Abstractions;

namespace Loyalty.Sdk.Predictive.Tests;

public sealed class ClvCommandRunnerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictive-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Summary_file_produces_json_with_fits_and_customers()
    {
        var data = PredictiveSimulation.SimulateBgNbd(new BgNbdModel(0.5, 6, 0.8, 2.5), new GammaGammaModel(6, 4, 15), 2_000, 10, 60, seed: 2, timeResolution: 1.0 / 7);
        var lines = new List<string> { "ID,frequency,recency,T,monetary" };
        lines.AddRange(data.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Id},{c.Frequency},{c.Recency:R},{c.T:R},{c.MonetaryValue:R}")));
        var path = Write("summary.csv", lines);

        using var writer = new StringWriter();
        var result = ClvCommandRunner.Run(new ClvOptions { SummaryPath = path }, writer);
        using var json = JsonDocument.Parse(writer.ToString());
        var root = json.RootElement;
        Assert.Equal(result.BgNbd.Model.R, root.GetProperty("bgnbd").GetProperty("r").GetDouble());
        foreach (var name in new[] { "alpha", "a", "b", "logLikelihood" })
        {
            Assert.Equal(JsonValueKind.Number, root.GetProperty("bgnbd").GetProperty(name).ValueKind);
        }

        foreach (var name in new[] { "p", "q", "v", "logLikelihood" })
        {
            Assert.Equal(JsonValueKind.Number, root.GetProperty("gammaGamma").GetProperty(name).ValueKind);
        }

        Assert.Equal(52, root.GetProperty("settings").GetProperty("horizon").GetInt32());
        var customers = root.GetProperty("customers");
        Assert.Equal(2_000, customers.GetArrayLength());
        var first = customers[0];
        Assert.Equal("1", first.GetProperty("id").GetString());
        var pAlive = first.GetProperty("pAlive").GetDouble();
        Assert.InRange(pAlive, 0, 1);
        Assert.True(first.GetProperty("expectedPurchases").GetDouble() >= 0);
        Assert.True(first.GetProperty("expectedSpend").GetDouble() > 0);
        Assert.True(first.GetProperty("clv").GetDouble() >= 0);
        Assert.Equal(2_000, result.Customers.Count);
    }

    [Fact]
    public void Cdnow_style_summary_without_monetary_writes_null_spend()
    {
        var path = Write("s.csv", ["ID,x,t_x,T", "1,2,30.43,38.86", "2,1,1.71,38.86", "3,0,0,38.86", "4,0,0,38.86", "5,5,20,30", "6,0,0,12"]);
        using var writer = new StringWriter();
        ClvCommandRunner.Run(new ClvOptions { SummaryPath = path, Horizon = 10, DiscountRate = 0 }, writer);
        using var json = JsonDocument.Parse(writer.ToString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("gammaGamma").ValueKind);
        var c = json.RootElement.GetProperty("customers")[0];
        Assert.Equal(JsonValueKind.Null, c.GetProperty("clv").ValueKind);
        Assert.Equal(JsonValueKind.Number, c.GetProperty("expectedPurchases").ValueKind);
    }

    [Fact]
    public void Transactions_file_is_summarised_then_scored()
    {
        var start = new LocalDate(2024, 1, 1);
        var lines = new List<string> { "order_id,customer,ordered_on,total" };
        var sim = PredictiveSimulation.SimulateBgNbd(new BgNbdModel(0.8, 5, 0.7, 2.5), null, 300, 10, 40, seed: 4, timeResolution: 1.0 / 7);
        var order = 0;
        foreach (var c in sim)
        {
            var first = start.PlusDays((int)Math.Round((40 - c.T) * 7));
            lines.Add($"{++order},{c.Id},{first:yyyy-MM-dd},{10 + (order % 7)}");
            for (var k = 1; k <= c.Frequency; k++)
            {
                var day = first.PlusDays((int)Math.Round(c.Recency * 7 * k / c.Frequency));
                lines.Add($"{++order},{c.Id},{day:yyyyMMdd},{12 + (order % 5)}.50");
            }
        }

        var path = Write("tx.csv", lines);
        using var writer = new StringWriter();
        var result = ClvCommandRunner.Run(
            new ClvOptions
            {
                TransactionsPath = path,
                CustomerColumn = "customer",
                DateColumn = "ordered_on",
                AmountColumn = "total",
                CalibrationEnd = start.PlusDays(40 * 7),
                TimeUnit = TimeUnit.Week,
            },
            writer);
        output.WriteLine(writer.ToString()[..300]);
        Assert.Equal(300, result.Customers.Count);
        Assert.NotNull(result.GammaGamma);
        Assert.Equal(Math.Pow(1.01, 7.0 / 30) - 1, result.DiscountRate, 1e-15);
        using var json = JsonDocument.Parse(writer.ToString());
        Assert.Equal(300, json.RootElement.GetProperty("customers").GetArrayLength());
    }

    [Theory]
    [InlineData("ID,frequency,T\n1,2,30", 1, null, "recency")]
    [InlineData("ID,frequency,recency,T\n1,2,30,40\n2,abc,1,40", 3, 2, "frequency")]
    [InlineData("ID,frequency,recency,T\n1,2,30,40\n2,1,-1,40", 3, 3, "recency")]
    [InlineData("ID,frequency,recency,T\n1,2,30,40\n2,1,50,40", 3, 3, "recency")]
    [InlineData("ID,frequency,recency,T\n1,2,30,40\n2,1,5", 3, 4, "T")]
    [InlineData("ID,x,t_x,T,zbar\n1,2,30,40,12.5\n2,1,5,40,-3", 3, 5, "zbar")]
    [InlineData("ID,frequency,recency,T\n1,2,30,NaN", 2, 4, "T")]
    public void Bad_summary_files_name_the_line_and_column(string content, int line, int? column, string columnName)
    {
        var path = Write("bad.csv", content.Split('\n'));
        var ex = Assert.Throws<PredictiveInputException>(() => ClvCommandRunner.Run(new ClvOptions { SummaryPath = path }, TextWriter.Null));
        output.WriteLine(ex.Message);
        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Column);
        Assert.Equal(columnName, ex.ColumnName);
        Assert.Contains($"line {line}", ex.Message, StringComparison.Ordinal);
        Assert.Contains(columnName, ex.Message, StringComparison.Ordinal);
        Assert.Equal(path, ex.FilePath);
    }

    [Theory]
    [InlineData("cust,date,amount\n1,2024-01-01,10\n1,2024-13-01,5", 3, 2, "date")]
    [InlineData("cust,date,amount\n1,2024-01-01,10\n1,20240105,ten", 3, 3, "amount")]
    [InlineData("cust,date,amount\n1,2024-01-01,10\n1,2024-01-05,-5", 3, 3, "amount")]
    [InlineData("cust,when,amount\n1,2024-01-01,10", 1, null, "date")]
    public void Bad_transaction_files_name_the_line_and_column(string content, int line, int? column, string columnName)
    {
        var path = Write("bad-tx.csv", content.Split('\n'));
        var options = new ClvOptions
        {
            TransactionsPath = path,
            CustomerColumn = "cust",
            DateColumn = "date",
            AmountColumn = "amount",
            CalibrationEnd = new LocalDate(2024, 3, 1),
        };
        var ex = Assert.Throws<PredictiveInputException>(() => ClvCommandRunner.Run(options, TextWriter.Null));
        output.WriteLine(ex.Message);
        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Column);
        Assert.Equal(columnName, ex.ColumnName);
    }

    [Fact]
    public void Inconsistent_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => ClvCommandRunner.Run(new ClvOptions(), TextWriter.Null));
        Assert.Throws<ArgumentException>(() => ClvCommandRunner.Run(new ClvOptions { TransactionsPath = "x.csv" }, TextWriter.Null));
    }

    [Fact]
    public void Cdnow_summary_through_the_runner_reproduces_the_published_fit()
    {
        if (CdnowData.Require(output) is not { } folder)
        {
            return;
        }

        using var writer = new StringWriter();
        var result = ClvCommandRunner.Run(new ClvOptions { SummaryPath = Path.Combine(folder, "cdnow_customers_summary_with_transactions.csv") }, writer);
        Assert.Equal(0.243, result.BgNbd.Model.R, 0.0005);
        Assert.Equal(6.25, result.GammaGamma!.Model.P, 0.005);
        var clv = result.Customers.Select(c => c.Score.Clv).ToArray();
        var q = ClvCalculator.Quantiles(clv, [0.5, 0.9, 0.99]);
        output.WriteLine(writer.ToString()[..600]);
        output.WriteLine($"CDNOW 52-week CLV: median {q[0]:F2}, p90 {q[1]:F2}, p99 {q[2]:F2}, total {clv.Sum():F0}");
        Assert.True(q[0] > 0);
    }

    private string Write(string name, IEnumerable<string> lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }
}
