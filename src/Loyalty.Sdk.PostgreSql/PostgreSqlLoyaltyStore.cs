using Loyalty.Sdk.Storage.Documents;
using Microsoft.Extensions.Logging;

namespace Loyalty.Sdk.PostgreSql;

/// <summary>A PostgreSQL-backed <see cref="DocumentLoyaltyStore"/> for hosts without dependency injection, and tests.</summary>
public static class PostgreSqlLoyaltyStore
{
    /// <summary>
    /// Creates a store over a new <see cref="PostgreSqlDocumentBackend"/> and applies the shipped migrations the
    /// database lacks (whatever <see cref="PostgreSqlStorageOptions.MigrateOnStart"/> says). The backend owns a
    /// connection pool: dispose it when done, <c>await ((PostgreSqlDocumentBackend)store.Backend).DisposeAsync()</c>.
    /// </summary>
    /// <param name="connectionString">The Npgsql connection string (overrides the options' one).</param>
    /// <param name="options">Schema, table prefix; the defaults when null.</param>
    /// <param name="cancellationToken">Cancels the migration.</param>
    /// <param name="logger">Receives the migrations applied.</param>
    public static async Task<DocumentLoyaltyStore> CreateAsync(string connectionString, PostgreSqlStorageOptions? options = null, CancellationToken cancellationToken = default, ILogger<PostgreSqlDocumentBackend>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var effective = options?.Clone() ?? new PostgreSqlStorageOptions();
        effective.ConnectionString = connectionString;
        var backend = new PostgreSqlDocumentBackend(effective, logger);
        try
        {
            await backend.MigrateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await backend.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new DocumentLoyaltyStore(backend);
    }
}
