using BenchmarkDotNet.Attributes;
using Loyalty.Sdk.PostgreSql;
using Npgsql;
using NpgsqlTypes;

namespace Loyalty.Sdk.Storage.Benchmarks;

/// <summary>
/// What one document read by key costs on PostgreSQL, the call the ingest pipeline and the ledger make most: the same
/// SELECT as a prepared statement on one open connection (the floor: one round trip), and through
/// <see cref="PostgreSqlDocumentBackend.GetAsync"/> (a pooled connection per call), as configured by default and with
/// <c>No Reset On Close=true</c> in the connection string. The documents (1,000 of ~1 KB for the tenant, among
/// 20,000 of another) are read in rotation.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[OperationsPerSecond]
public class ReadBenchmarks
{
    /// <summary>Reads per invocation.</summary>
    public const int ReadsPerInvoke = 1_000;

    private const int Documents = 1_000;
    private static readonly TenantId Tenant = new("acme");

    private string schema = string.Empty;
    private NpgsqlConnection? connection;
    private NpgsqlCommand? select;
    private PostgreSqlDocumentBackend? backend;
    private PostgreSqlDocumentBackend? noReset;
    private string[] keys = [];
    private int next;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        select?.Dispose();
        connection?.Dispose();
        backend?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        noReset?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        BenchDatabases.DropSchemaAsync(schema).GetAwaiter().GetResult();
    }

    /// <summary>The floor: a prepared SELECT on one open connection.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = ReadsPerInvoke)]
    public async Task<long> PreparedOnOneConnection()
    {
        long length = 0;
        for (var i = 0; i < ReadsPerInvoke; i++)
        {
            select!.Parameters[2].Value = keys[next++ % Documents];
            await using var reader = await select.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                length += reader.GetString(3).Length + reader.GetInt64(1);
            }
        }

        return length;
    }

    /// <summary><see cref="PostgreSqlDocumentBackend.GetAsync"/>, as the store calls it.</summary>
    [Benchmark(OperationsPerInvoke = ReadsPerInvoke)]
    public Task<long> BackendGet() => GetAsync(backend!);

    /// <summary>The same with <c>No Reset On Close=true</c> (Npgsql does not reset the session when a connection goes
    /// back to the pool).</summary>
    [Benchmark(OperationsPerInvoke = ReadsPerInvoke)]
    public Task<long> BackendGetNoResetOnClose() => GetAsync(noReset!);

    private async Task<long> GetAsync(PostgreSqlDocumentBackend source)
    {
        long length = 0;
        for (var i = 0; i < ReadsPerInvoke; i++)
        {
            var document = await source.GetAsync(Tenant, "ledger", keys[next++ % Documents]).ConfigureAwait(false);
            length += document!.Body.Length + document.Version;
        }

        return length;
    }

    private async Task SetupAsync()
    {
        schema = BenchDatabases.NewSchema("read");
        var options = new PostgreSqlStorageOptions { ConnectionString = BenchDatabases.PostgresConnection, Schema = schema };
        backend = new PostgreSqlDocumentBackend(options);
        await backend.MigrateAsync().ConfigureAwait(false);
        noReset = new PostgreSqlDocumentBackend(new PostgreSqlStorageOptions
        {
            ConnectionString = new NpgsqlConnectionStringBuilder(BenchDatabases.PostgresConnection) { NoResetOnClose = true }.ConnectionString,
            Schema = schema,
        });
        var table = $"\"{schema}\".\"loyalty_documents\"";
        await BenchDatabases.ExecuteAsync($"""
            INSERT INTO {table} (tenant, collection, key, customer, version, body)
            SELECT 'acme', 'ledger', 'c' || lpad(i::text, 4, '0'), 'c' || lpad(i::text, 4, '0'), 1, '"' || repeat('x', 1000) || '"'
            FROM generate_series(0, {Documents - 1}) AS i
            """).ConfigureAwait(false);
        await BenchDatabases.FillAndAnalyzeDocumentSchemaAsync(schema).ConfigureAwait(false);
        keys = [.. Enumerable.Range(0, Documents).Select(i => $"c{i:D4}")];
        connection = new NpgsqlConnection(BenchDatabases.PostgresConnection);
        await connection.OpenAsync().ConfigureAwait(false);
        select = new NpgsqlCommand($"SELECT customer, version, due_at, body, seq FROM {table} WHERE tenant = $1 AND collection = $2 AND key = $3", connection);
        select.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = Tenant.Value });
        select.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = "ledger" });
        select.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = keys[0] });
        await select.PrepareAsync().ConfigureAwait(false);
    }
}
