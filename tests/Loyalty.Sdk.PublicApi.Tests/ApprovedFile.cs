namespace Loyalty.Sdk.PublicApi.Tests;

/// <summary>
/// Compares a generated document with an approved file committed next to the tests. A difference fails and writes the
/// new text as <c>*.received.*</c> so the change can be reviewed and approved by copying it over. A missing approved
/// file is written and passes locally, but fails in CI (CI=true), so an API change is always a deliberate diff.
/// </summary>
internal static class ApprovedFile
{
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Loyalty.Sdk.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Repository root (Loyalty.Sdk.sln) not found.");
    }

    public static void Verify(string actual, string relativePath)
    {
        var path = Path.Combine(RepositoryRoot(), relativePath);
        actual = actual.Replace("\r\n", "\n", StringComparison.Ordinal);
        var received = Path.ChangeExtension(path, ".received" + Path.GetExtension(path));
        if (!File.Exists(path))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                File.WriteAllText(received, actual);
                Assert.Fail($"Approved file {relativePath} is missing; the received text is in {received}.");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }

        var approved = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        if (approved != actual)
        {
            File.WriteAllText(received, actual);
            Assert.Fail($"{relativePath} changed; review {received} and copy it over the approved file if the change is intended.");
        }

        File.Delete(received);
    }
}
