using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Loyalty.Sdk.PostgreSql;

/// <summary>A migration shipped as an embedded resource (<c>Migrations/0001_initial.sql</c>).</summary>
/// <param name="Version">The number the file name starts with.</param>
/// <param name="Name">The file name without the number and extension.</param>
/// <param name="Script">The script, with its <c>{schema}</c> and <c>{prefix}</c> placeholders.</param>
internal sealed record Migration(int Version, string Name, string Script)
{
    /// <summary>SHA-256 of the script as shipped (before the placeholders are replaced), hex.</summary>
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Script.ReplaceLineEndings("\n"))));

    public string Render(string schema, string prefix) => Script.Replace("{schema}", schema, StringComparison.Ordinal).Replace("{prefix}", prefix, StringComparison.Ordinal);
}

/// <summary>
/// Applies the shipped migrations in order, each in its own transaction together with its row in the history table
/// (<c>{prefix}migrations</c>), under a session advisory lock so that nodes starting at once apply each migration once
/// (the others wait, then find nothing left to do).
/// </summary>
internal sealed class PostgreSqlMigrator(NpgsqlDataSource dataSource, PostgreSqlStatements sql, ILogger logger)
{
    private const string ResourcePrefix = "Loyalty.Sdk.PostgreSql.Migrations.";

    public static IReadOnlyList<Migration> Shipped { get; } = Load();

    /// <summary>The advisory lock key: stable across processes and versions, one per schema and prefix.</summary>
    public long LockKey { get; } = StableHash($"Loyalty.Sdk.PostgreSql migrations {sql.Schema}.{sql.Prefix}");

    public async Task<PostgreSqlSchemaStatus> MigrateAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        await ExecuteAsync(connection, "SELECT pg_advisory_lock($1)", cancellationToken, Bigint(LockKey)).ConfigureAwait(false);
        try
        {
            var schemaExists = (bool)(await ScalarAsync(connection, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", cancellationToken, Text(sql.Schema)).ConfigureAwait(false))!;
            if (!schemaExists)
            {
                // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even when the
                // schema exists.
                await ExecuteAsync(connection, $"CREATE SCHEMA IF NOT EXISTS \"{sql.Schema}\"", cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, $"""
                CREATE TABLE IF NOT EXISTS {sql.Migrations} (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken).ConfigureAwait(false);
            var applied = await ReadHistoryAsync(connection, cancellationToken).ConfigureAwait(false);
            foreach (var migration in migrations.Where(m => !applied.ContainsKey(m.Version)).OrderBy(m => m.Version))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using var transactionScope = transaction.ConfigureAwait(false);
                var command = new NpgsqlCommand(migration.Render(sql.Schema, sql.Prefix), connection, transaction);
                await using (command.ConfigureAwait(false))
                {
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                var record = new NpgsqlCommand($"INSERT INTO {sql.Migrations} (version, name, checksum) VALUES ($1, $2, $3)", connection, transaction);
                await using (record.ConfigureAwait(false))
                {
                    record.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = migration.Version });
                    record.Parameters.Add(Text(migration.Name));
                    record.Parameters.Add(Text(migration.Checksum));
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                applied[migration.Version] = migration.Checksum;
                Log.MigrationApplied(logger, migration.Version, migration.Name, sql.Schema, sql.Prefix);
            }

            return Status(applied, migrations);
        }
        finally
        {
            // A broken connection releases the lock by itself; so does the pool's reset of the connection.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, "SELECT pg_advisory_unlock($1)", CancellationToken.None, Bigint(LockKey)).ConfigureAwait(false);
            }
        }
    }

    public async Task<PostgreSqlSchemaStatus> CheckAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var exists = await ScalarAsync(connection, "SELECT to_regclass($1) IS NOT NULL", cancellationToken, Text(sql.Migrations)).ConfigureAwait(false);
        var applied = exists is true ? await ReadHistoryAsync(connection, cancellationToken).ConfigureAwait(false) : [];
        return Status(applied, migrations);
    }

    private PostgreSqlSchemaStatus Status(Dictionary<int, string> applied, IReadOnlyList<Migration> migrations) => new()
    {
        Schema = sql.Schema,
        Applied = [.. applied.Keys.Order()],
        Shipped = [.. migrations.Select(m => m.Version).Order()],
        Modified = [.. migrations.Where(m => applied.TryGetValue(m.Version, out var checksum) && checksum != m.Checksum).Select(m => m.Version).Order()],
    };

    private async Task<Dictionary<int, string>> ReadHistoryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, string>();
        var command = new NpgsqlCommand($"SELECT version, checksum FROM {sql.Migrations}", connection);
        await using var commandScope = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string text, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(text, connection);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.AddRange(parameters);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string text, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(text, connection);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.AddRange(parameters);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static NpgsqlParameter Text(string value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = value };

    private static NpgsqlParameter Bigint(long value) => new() { NpgsqlDbType = NpgsqlDbType.Bigint, Value = value };

    private static IReadOnlyList<Migration> Load()
    {
        var assembly = typeof(PostgreSqlMigrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var file = resource[ResourcePrefix.Length..^".sql".Length];
            var separator = file.IndexOf('_', StringComparison.Ordinal);
            if (separator <= 0 || !int.TryParse(file.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"Migration resource '{resource}' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(new Migration(version, file[(separator + 1)..], reader.ReadToEnd()));
        }

        if (migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new InvalidOperationException($"Two migrations have number {duplicate.Key}.");
        }

        return [.. migrations.OrderBy(m => m.Version)];
    }

    /// <summary>FNV-1a, 64 bits (string.GetHashCode differs between processes).</summary>
    private static long StableHash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }
}

/// <summary>The storage's log messages.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Applied PostgreSQL migration {Version} ({Name}) to schema {Schema} (table prefix '{Prefix}').")]
    public static partial void MigrationApplied(ILogger logger, int version, string name, string schema, string prefix);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Status}")]
    public static partial void SchemaAhead(ILogger logger, PostgreSqlSchemaStatus status);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Commit for tenant {Tenant} lost a race ({SqlState}): {Reason}")]
    public static partial void CommitConflict(ILogger logger, string tenant, string sqlState, string reason);
}
