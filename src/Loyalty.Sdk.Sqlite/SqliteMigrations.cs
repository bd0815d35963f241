using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Loyalty.Sdk.Sqlite;

/// <summary>The shipped schema migrations (embedded <c>Migrations/NNNN_name.sql</c>), applied in order, each once,
/// recorded in <c>loyalty_migrations</c>.</summary>
public static partial class SqliteMigrations
{
    /// <summary>The migrations this version ships, by version.</summary>
    public static IReadOnlyList<(int Version, string Name)> Shipped { get; } = Load().Select(m => (m.Version, m.Name)).ToArray();

    internal static async ValueTask ApplyAsync(SqliteDocumentBackend.Lease lease, CancellationToken cancellationToken)
    {
        await lease.InTransactionAsync(
            () =>
            {
                using (var create = lease.Connection.CreateCommand())
                {
                    create.CommandText = "CREATE TABLE IF NOT EXISTS loyalty_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";
                    create.ExecuteNonQuery();
                }

                var applied = new HashSet<int>();
                using (var read = lease.Connection.CreateCommand())
                {
                    read.CommandText = "SELECT version FROM loyalty_migrations";
                    using var reader = read.ExecuteReader();
                    while (reader.Read())
                    {
                        applied.Add(reader.GetInt32(0));
                    }
                }

                var shipped = Load();
                var newest = shipped.Max(m => m.Version);
                if (applied.Count > 0 && applied.Max() > newest)
                {
                    throw new InvalidOperationException($"The database is at schema version {applied.Max()}, newer than this Loyalty.Sdk.Sqlite ({newest}). Upgrade the package.");
                }

                foreach (var m in shipped.Where(m => !applied.Contains(m.Version)).OrderBy(m => m.Version))
                {
                    using var cmd = lease.Connection.CreateCommand();
                    cmd.CommandText = m.Sql + ";\nINSERT INTO loyalty_migrations (version, name, applied_at) VALUES ($v, $n, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));";
                    cmd.Parameters.AddWithValue("$v", m.Version);
                    cmd.Parameters.AddWithValue("$n", m.Name);
                    cmd.ExecuteNonQuery();
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    private static List<(int Version, string Name, string Sql)> Load()
    {
        var assembly = typeof(SqliteMigrations).Assembly;
        var result = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = MigrationName().Match(resource);
            if (!match.Success)
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            result.Add((int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value, reader.ReadToEnd()));
        }

        return result;
    }

    [GeneratedRegex(@"^Loyalty\.Sdk\.Sqlite\.Migrations\.(\d{4})_(\w+)\.sql$")]
    private static partial Regex MigrationName();
}
