using Loyalty.Sdk.Storage.Documents;

namespace Loyalty.Sdk.Sqlite;

/// <summary>Creating SQLite stores without dependency injection.</summary>
public static class SqliteLoyaltyStore
{
    /// <summary>Opens (creating and migrating if needed) a SQLite store.</summary>
    public static async ValueTask<DocumentLoyaltyStore> OpenAsync(SqliteStorageOptions options, CancellationToken cancellationToken = default) =>
        new(await SqliteDocumentBackend.OpenAsync(options, cancellationToken).ConfigureAwait(false));

    /// <summary>Opens (creating and migrating if needed) the SQLite store in the file at <paramref name="path"/>.</summary>
    public static ValueTask<DocumentLoyaltyStore> OpenFileAsync(string path, CancellationToken cancellationToken = default) =>
        OpenAsync(SqliteStorageOptions.ForFile(path), cancellationToken);
}
