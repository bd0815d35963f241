using Loyalty.Sdk.Sqlite;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the SQLite store.</summary>
public static class SqliteLoyaltyBuilderExtensions
{
    /// <summary>Stores everything in a SQLite database (created and migrated when the store is first resolved).</summary>
    public static ILoyaltyBuilder UseSqliteStorage(this ILoyaltyBuilder builder, string connectionString, Action<SqliteStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new SqliteStorageOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        options.Validate();
        builder.Services.TryAddSingleton(_ => SqliteDocumentBackend.Create(options)); // the file is created and migrated on first use
        builder.Services.TryAddSingleton<ILoyaltyStore>(sp => new DocumentLoyaltyStore(sp.GetRequiredService<SqliteDocumentBackend>()));
        return builder;
    }
}
