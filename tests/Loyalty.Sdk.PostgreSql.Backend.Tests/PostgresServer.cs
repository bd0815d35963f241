using Loyalty.Sdk.Tests.Shared;
using Npgsql;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

/// <summary>
/// The PostgreSQL server of the backend tests: the shared test server (<see cref="PostgresTestServer"/>: the one named
/// by <c>LOYALTY_POSTGRES_CONNECTION</c>, or a throwaway one started from the machine's binaries), with one database for
/// this assembly. Every test works in a schema of its own (<see cref="NewSchema"/>). When no server can be had the
/// tests fail with the reason (they are never skipped, so nothing passes silently under <c>CI=true</c> either).
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly PostgresTestServer server = PostgresTestServer.Start();

    public PostgresServer()
    {
        if (!server.IsAvailable)
        {
            throw new PostgresUnavailableException("PostgreSQL is unavailable for the backend tests: " + server.UnavailableReason);
        }

        ConnectionString = server.CreateDatabase("backend");
    }

    public string ConnectionString { get; }

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N")[..16];

    /// <summary>Options for a fresh schema of this server.</summary>
    public PostgreSqlStorageOptions Options(string? schema = null, bool migrateOnStart = false) => new()
    {
        ConnectionString = ConnectionString,
        Schema = schema ?? NewSchema(),
        MigrateOnStart = migrateOnStart,
    };

    /// <summary>A backend over a fresh, migrated schema.</summary>
    public async Task<PostgreSqlDocumentBackend> NewBackendAsync(string? schema = null)
    {
        var backend = new PostgreSqlDocumentBackend(Options(schema));
        await backend.MigrateAsync();
        return backend;
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        server.Dispose();
    }
}

/// <summary>The tests that share one <see cref="PostgresServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres-backend";
}
