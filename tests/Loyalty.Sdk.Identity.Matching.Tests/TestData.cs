using System.Runtime.CompilerServices;
using Xunit.Abstractions;

namespace Loyalty.Sdk.Identity.Matching.Tests;

/// <summary>Locates the shared reference data (../shared/data relative to the repository root).</summary>
internal static class TestData
{
    /// <summary>
    /// Walks up from AppContext.BaseDirectory to the directory holding Directory.Packages.props. When the build
    /// output lives outside the repository (a private --artifacts-path), walks up from this source file instead.
    /// </summary>
    public static string RepositoryRoot([CallerFilePath] string sourceFile = "")
    {
        return FindUp(AppContext.BaseDirectory)
            ?? FindUp(Path.GetDirectoryName(sourceFile))
            ?? throw new InvalidOperationException(
                $"No directory containing Directory.Packages.props above {AppContext.BaseDirectory} or {sourceFile}.");
    }

    private static string? FindUp(string? start)
    {
        var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName;
    }

    /// <summary>
    /// The FEBRL3 folder, or null when it is missing outside CI (after telling the test output why the test
    /// returned early). Under CI=true a missing folder fails the test.
    /// </summary>
    public static string? Febrl3Folder(ITestOutputHelper output)
    {
        var folder = Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared", "data", "febrl3"));
        if (File.Exists(Path.Combine(folder, "dataset3.csv")))
        {
            return folder;
        }

        var message = $"FEBRL3 reference data not found at {folder} (expected ../shared/data/febrl3/dataset3.csv next to the repository).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.Ordinal))
        {
            Assert.Fail(message);
        }

        output.WriteLine("SKIPPED: " + message);
        return null;
    }
}
