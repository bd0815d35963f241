using Loyalty.Sdk.PostgreSql;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the PostgreSQL storage.</summary>
public static class PostgreSqlServiceCollectionExtensions
{
    /// <summary>
    /// Stores everything in PostgreSQL: registers a <see cref="PostgreSqlDocumentBackend"/> (also as
    /// <see cref="IDocumentBackend"/>) and <see cref="ILoyaltyStore"/> as a <see cref="DocumentLoyaltyStore"/> over it.
    /// Like <c>UseInMemoryStorage</c>, registrations use <c>TryAdd</c>: a store the host registered first wins. The
    /// options are validated at start; with <see cref="PostgreSqlStorageOptions.MigrateOnStart"/> the first use of the
    /// storage applies pending migrations (once, thread-safe, under an advisory lock across nodes), otherwise it checks
    /// that none is missing. No hosted service is needed.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddLoyalty()</c>.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Sets the schema, table prefix and <see cref="PostgreSqlStorageOptions.MigrateOnStart"/>.</param>
    public static ILoyaltyBuilder UsePostgreSqlStorage(this ILoyaltyBuilder builder, string connectionString, Action<PostgreSqlStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = builder.Services.AddOptions<PostgreSqlStorageOptions>().Configure(o =>
        {
            o.ConnectionString = connectionString;
            configure?.Invoke(o);
        });
        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlStorageOptions>, PostgreSqlStorageOptionsValidator>());
        builder.Services.TryAddSingleton(sp => new PostgreSqlDocumentBackend(
            sp.GetRequiredService<IOptions<PostgreSqlStorageOptions>>().Value,
            sp.GetService<ILogger<PostgreSqlDocumentBackend>>()));
        builder.Services.TryAddSingleton<IDocumentBackend>(sp => sp.GetRequiredService<PostgreSqlDocumentBackend>());
        builder.Services.TryAddSingleton(sp => new DocumentLoyaltyStore(sp.GetRequiredService<PostgreSqlDocumentBackend>()));
        builder.Services.TryAddSingleton<ILoyaltyStore>(sp => sp.GetRequiredService<DocumentLoyaltyStore>());
        return builder;
    }
}
