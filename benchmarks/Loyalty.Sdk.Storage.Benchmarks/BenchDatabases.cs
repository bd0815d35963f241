using System.Diagnostics;
using Loyalty.Sdk.Tests.Shared;
using Npgsql;

namespace Loyalty.Sdk.Storage.Benchmarks;

/// <summary>
/// The databases of the benchmarks: one PostgreSQL server for the whole process (<see cref="PostgresTestServer"/>: the
/// one named by <c>LOYALTY_POSTGRES_CONNECTION</c>, else a throwaway server started on first use and stopped at the
/// end) with one database, a schema per store; SQLite files in a temporary folder of this process.
/// </summary>
internal static class BenchDatabases
{
    private static readonly Lazy<(PostgresTestServer Server, string Database)> Postgres = new(StartPostgres, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<string> SqliteFolder = new(() =>
    {
        var folder = Path.Combine(Path.GetTempPath(), $"loyalty-storage-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        return folder;
    });

    private static int counter;

    /// <summary>The connection string of the benchmark database (the server is started on first use).</summary>
    public static string PostgresConnection => Postgres.Value.Database;

    /// <summary>A schema name no other store of this process uses.</summary>
    public static string NewSchema(string hint) => $"bench_{hint}_{Environment.ProcessId}_{Interlocked.Increment(ref counter)}";

    /// <summary>A SQLite file path no other store of this process uses (the file does not exist).</summary>
    public static string NewSqliteFile(string hint) => Path.Combine(SqliteFolder.Value, $"{hint}-{Interlocked.Increment(ref counter)}.db");

    /// <summary>Deletes a SQLite file and its WAL and shared-memory files.</summary>
    public static void DeleteSqliteFile(string path)
    {
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            if (File.Exists(file))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Runs SQL on the benchmark database.</summary>
    public static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Drops a schema and everything in it.</summary>
    public static Task DropSchemaAsync(string schema) => ExecuteAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");

    /// <summary>
    /// Gives the four tables of a freshly migrated document schema the rows of another tenant and analyzes them, so that
    /// the statements the backend prepares get the plans of a live database. On empty, never-analyzed tables PostgreSQL
    /// caches generic plans that scan sequentially, and they stay cached until autovacuum analyzes the tables (a minute
    /// or more later): without this every read of a benchmark iteration would scan the growing table.
    /// </summary>
    public static Task FillAndAnalyzeDocumentSchemaAsync(string schema, string prefix = "loyalty_", int rows = 20_000) => ExecuteAsync($"""
        INSERT INTO "{schema}"."{prefix}documents" (tenant, collection, key, customer, version, body)
            SELECT 'filler', (ARRAY['event','identity','identifier','profile','order','ledger','ledger-transfer','ledger-command','consent','segment'])[1 + i % 10],
                   'k' || i, 'c' || (i / 10), 1, '"filler ' || i || '"'
            FROM generate_series(1, {rows}) AS i;
        INSERT INTO "{schema}"."{prefix}entries" (tenant, stream, customer, at, body)
            SELECT 'filler', 'decision', 'c' || (i / 10), i, '"filler ' || i || '"' FROM generate_series(1, {rows}) AS i;
        INSERT INTO "{schema}"."{prefix}counters" (tenant, grp, key, value)
            SELECT 'filler', 'g', 'k' || i, i FROM generate_series(1, 100) AS i;
        ANALYZE "{schema}"."{prefix}documents";
        ANALYZE "{schema}"."{prefix}entries";
        ANALYZE "{schema}"."{prefix}counters";
        ANALYZE "{schema}"."{prefix}outbox";
        """);

    /// <summary>Stops the throwaway server (if one was started) and deletes the SQLite folder.</summary>
    public static void Shutdown()
    {
        if (Postgres.IsValueCreated)
        {
            Postgres.Value.Server.Dispose();
        }

        if (SqliteFolder.IsValueCreated && Directory.Exists(SqliteFolder.Value))
        {
            NpgsqlConnection.ClearAllPools();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(SqliteFolder.Value, recursive: true);
        }
    }

    private static (PostgresTestServer, string) StartPostgres()
    {
        var clock = Stopwatch.StartNew();
        var server = PostgresTestServer.Start();
        if (!server.IsAvailable)
        {
            throw new InvalidOperationException($"PostgreSQL is unavailable: {server.UnavailableReason}. Install PostgreSQL (initdb, pg_ctl) or set {PostgresTestServer.ConnectionVariable}.");
        }

        var database = server.CreateDatabase("storage_bench");
        Console.WriteLine(server.IsThrowaway
            ? $"// PostgreSQL: throwaway server in {server.DataDirectory} (fsync=off, synchronous_commit=off, full_page_writes=off), started in {clock.ElapsedMilliseconds} ms"
            : $"// PostgreSQL: the server of {PostgresTestServer.ConnectionVariable}");
        using (var connection = new NpgsqlConnection(database))
        {
            connection.Open();
            using var version = new NpgsqlCommand("SHOW server_version", connection);
            Console.WriteLine($"// PostgreSQL server version {version.ExecuteScalar()}");
        }

        return (server, database);
    }
}
