using System.Globalization;
using Loyalty.Sdk.Identity.Matching.Cli;
using Loyalty.Sdk.Identity.Matching.Csv;
using Loyalty.Sdk.Identity.Matching.Synthetic;

namespace Loyalty.Sdk.Identity.Matching.Tests;

public sealed class CsvAndCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "matching-tests-" + Guid.NewGuid().ToString("N"));

    public CsvAndCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Reads_comma_space_separators_quotes_and_leading_zeros()
    {
        const string text = "rec_id, given_name, postcode\r\nr1, mitchell, 0800\n\nr2 ,  \"smith, jr\" , \"08\"\"00\"\nr3,,\n";
        var table = DelimitedFile.Read(new StringReader(text), "t.csv");
        Assert.Equal(["rec_id", "given_name", "postcode"], table.Header.ToArray());
        Assert.Equal(3, table.Rows.Length);
        Assert.Equal(["r1", "mitchell", "0800"], table.Rows[0].Values.ToArray());
        Assert.Equal(["r2", "smith, jr", "08\"00"], table.Rows[1].Values.ToArray());
        Assert.Equal(["r3", "", ""], table.Rows[2].Values.ToArray());
        Assert.Equal(4, table.Rows[1].Line);
    }

    [Fact]
    public void Wrong_column_count_reports_line_and_column()
    {
        var ex = Assert.Throws<RecordFileFormatException>(() => DelimitedFile.Read(new StringReader("a, b, c\n1, 2, 3\n4, 5\n"), "x.csv"));
        Assert.Equal(3, ex.Line);
        Assert.Equal(3, ex.Column);
        Assert.Contains("x.csv: line 3, column 3", ex.Message, StringComparison.Ordinal);

        var extra = Assert.Throws<RecordFileFormatException>(() => DelimitedFile.Read(new StringReader("a,b\n1,2,3\n")));
        Assert.Equal(2, extra.Line);
        Assert.Equal(3, extra.Column);
    }

    [Fact]
    public void Unterminated_quote_and_stray_characters_report_line_and_column()
    {
        var open = Assert.Throws<RecordFileFormatException>(() => DelimitedFile.Read(new StringReader("a,b\n1,\"never closed\n2,3\n")));
        Assert.Equal(2, open.Line);
        Assert.Equal(2, open.Column);

        var stray = Assert.Throws<RecordFileFormatException>(() => DelimitedFile.Read(new StringReader("a,b\n1,\"x\"y\n")));
        Assert.Equal(2, stray.Line);
        Assert.Equal(2, stray.Column);
    }

    [Fact]
    public void Unknown_id_column_and_duplicate_ids_are_typed_errors_with_location()
    {
        var path = Write("d.csv", "id, given_name, surname\na, john, smith\nb, jane, doe\na, jon, smith\n");
        var unknown = Assert.Throws<RecordFileFormatException>(
            () => DedupeCommandRunner.Run(new DedupeOptions(path, "rec_id"), TextWriter.Null, CancellationToken.None));
        Assert.Equal(1, unknown.Line);
        Assert.Contains("rec_id", unknown.Message, StringComparison.Ordinal);

        var duplicate = Assert.Throws<RecordFileFormatException>(
            () => DedupeCommandRunner.Run(new DedupeOptions(path, "id"), TextWriter.Null, CancellationToken.None));
        Assert.Equal(4, duplicate.Line);
        Assert.Equal(1, duplicate.Column);
    }

    [Fact]
    public void Column_mappings_parse_kinds_and_aliases()
    {
        Assert.Equal(new ColumnMapping("fn", FieldKind.GivenName), ColumnMapping.Parse("fn=given_name"));
        Assert.Equal(new ColumnMapping("born", FieldKind.BirthDate), ColumnMapping.Parse("born=BirthDate"));
        Assert.Equal(new ColumnMapping("notes", null), ColumnMapping.Parse("notes=ignore"));
        Assert.Throws<FormatException>(() => ColumnMapping.Parse("x=shoe_size"));
        Assert.True(ColumnKinds.TryRecognizeHeader("Last Name", out var kind));
        Assert.Equal(FieldKind.Surname, kind);
    }

    [Fact]
    public void Runner_writes_sorted_pair_csv_and_measures_against_a_cluster_column()
    {
        var data = SyntheticPersonGenerator.Generate(new SyntheticDataOptions { RecordCount = 3000, Seed = 3 });
        var path = Path.Combine(_dir, "synthetic.csv");
        using (var file = new StreamWriter(path))
        {
            SyntheticPersonGenerator.WriteCsv(data, file);
        }

        var options = new DedupeOptions(path, "id")
        {
            Threshold = 0.8,
            Truth = TruthSource.Parse("cluster-column", "person"),
            ColumnMappings = [ColumnMapping.Parse("street=street")],
        };
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        var result = DedupeCommandRunner.Run(options, output, CancellationToken.None);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(DedupeCommandRunner.OutputHeader, lines[0]);
        Assert.Equal(result.PairsWritten, lines.Length - 1);
        var previousWeight = double.PositiveInfinity;
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            Assert.Equal(4, cells.Length);
            var probability = double.Parse(cells[2], CultureInfo.InvariantCulture);
            var weight = double.Parse(cells[3], CultureInfo.InvariantCulture);
            Assert.InRange(probability, 0.8, 1.0);
            Assert.True(weight <= previousWeight + 1e-6, "pairs are sorted by descending weight");
            previousWeight = weight;
            Assert.NotEqual(cells[0], cells[1]);
        }

        Assert.Equal(3000, result.LeftRecords);
        Assert.Equal(11, result.Fields.Length);
        Assert.DoesNotContain("person", result.Fields.Select(f => f.Name));
        Assert.NotNull(result.Metrics);
        Assert.Equal(data.TruePairs, result.Metrics!.TruePositives + result.Metrics.FalseNegatives);
        Assert.True(result.Metrics.F1 > 0.9, $"F1 {result.Metrics.F1:F4}");
        Assert.True(result.BlockingRecall!.Recall > 0.95);
    }

    [Fact]
    public void Runner_links_two_files()
    {
        var data = SyntheticPersonGenerator.Generate(new SyntheticDataOptions { RecordCount = 2000, Seed = 5, MaxDuplicatesPerPerson = 1 });
        var originals = data.Records.Records.Where(r => r.Id.EndsWith("-0", StringComparison.Ordinal)).ToList();
        var copies = data.Records.Records.Where(r => !r.Id.EndsWith("-0", StringComparison.Ordinal)).ToList();
        string ToCsv(IEnumerable<PersonRecord> records) =>
            "id," + SyntheticPersonGenerator.CsvHeader + "\n" + string.Concat(records.Select(r => r.Id + "," + string.Join(',', r.Values) + "\n"));
        var left = Write("left.csv", ToCsv(originals));
        var right = Write("right.csv", ToCsv(copies));

        using var output = new StringWriter(CultureInfo.InvariantCulture);
        var result = DedupeCommandRunner.Run(
            new DedupeOptions(left, "id") { LinkPath = right, Truth = new IdPatternTruth(@"^(p\d+)-") },
            output,
            CancellationToken.None);

        Assert.Equal(originals.Count, result.LeftRecords);
        Assert.Equal(copies.Count, result.RightRecords);
        Assert.Equal(copies.Count, result.Metrics!.TruePositives + result.Metrics.FalseNegatives);
        Assert.True(result.Metrics.F1 > 0.9, $"F1 {result.Metrics.F1:F4}");
        foreach (var line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            Assert.EndsWith("-0", line.Split(',')[0], StringComparison.Ordinal);
        }
    }
}
