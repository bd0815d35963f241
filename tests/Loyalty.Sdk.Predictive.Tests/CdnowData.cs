using System.Globalization;
using NodaTime;
using NodaTime.Text;
using Xunit.Abstractions;

namespace Loyalty.Sdk.Predictive.Tests;

/// <summary>Locates and reads the shared CDNOW reference data.</summary>
internal static class CdnowData
{
    public static readonly LocalDate CalibrationEnd = new(1997, 9, 30);
    public static readonly LocalDate HoldoutEnd = new(1998, 6, 30);

    private static readonly Lazy<string?> Folder = new(Locate);

    /// <summary>
    /// The CDNOW folder, or null when it is missing. When missing and CI == "true" the calling test fails;
    /// otherwise the test writes a visible message and returns early.
    /// </summary>
    public static string? Require(ITestOutputHelper output)
    {
        var folder = Folder.Value;
        if (folder is not null)
        {
            return folder;
        }

        const string message = "SKIPPED: reference data folder ../shared/data/cdnow (relative to the repository root) not found.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(message + " CI=true requires it.");
        }

        output.WriteLine(message);
        return null;
    }

    public static string? Locate()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Loyalty.Sdk.sln"))
                || File.Exists(Path.Combine(dir.FullName, "Loyalty.Sdk.slnx"))
                || File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
            {
                var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "cdnow"));
                return Directory.Exists(candidate) ? candidate : null;
            }

            dir = dir.Parent;
        }

        // Built with an artifacts path outside the repository: use the source location recorded at build time.
        var recorded = typeof(CdnowData).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SourceRepositoryRoot")?.Value;
        if (recorded is not null && File.Exists(Path.Combine(recorded, "Directory.Packages.props")))
        {
            var candidate = Path.GetFullPath(Path.Combine(recorded, "..", "shared", "data", "cdnow"));
            return Directory.Exists(candidate) ? candidate : null;
        }

        return null;
    }

    public static CustomerSummary[] ReadSummary(string folder) =>
        ReadCsv(Path.Combine(folder, "cdnow_customers_summary.csv"), hasMonetary: false);

    public static CustomerSummary[] ReadSummaryWithTransactions(string folder) =>
        ReadCsv(Path.Combine(folder, "cdnow_customers_summary_with_transactions.csv"), hasMonetary: true);

    public static Transaction[] ReadTransactions(string folder)
    {
        var pattern = LocalDatePattern.CreateWithInvariantCulture("uuuuMMdd");
        return File.ReadLines(Path.Combine(folder, "CDNOW_sample.txt"))
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l =>
            {
                var f = l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                return new Transaction(
                    int.Parse(f[1], CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
                    pattern.Parse(f[2]).Value,
                    decimal.Parse(f[4], CultureInfo.InvariantCulture));
            })
            .ToArray();
    }

    private static CustomerSummary[] ReadCsv(string path, bool hasMonetary) =>
        File.ReadLines(path)
            .Skip(1)
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l =>
            {
                var f = l.Split(',');
                return new CustomerSummary(
                    f[0],
                    double.Parse(f[1], CultureInfo.InvariantCulture),
                    double.Parse(f[2], CultureInfo.InvariantCulture),
                    double.Parse(f[3], CultureInfo.InvariantCulture),
                    hasMonetary ? double.Parse(f[4], CultureInfo.InvariantCulture) : 0);
            })
            .ToArray();
}
