using Loyalty.Sdk.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Loyalty.Sdk.Storage.Proof;

/// <summary>
/// Stores named by a spec string, so that one worker binary and one test class serve every backend:
/// <c>sqlite:&lt;path&gt;</c> (a database file; several processes may share it), <c>postgres:&lt;connection string&gt;</c>
/// and <c>memory:in-process</c> (in-process only).
/// </summary>
public static class ProofStores
{
    /// <summary>Registers the store named by <paramref name="spec"/> on <paramref name="builder"/>.</summary>
    /// <exception cref="ArgumentException">An unknown or malformed spec.</exception>
    public static ILoyaltyBuilder UseStore(this ILoyaltyBuilder builder, string spec)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var (kind, value) = Parse(spec);
        switch (kind)
        {
            case "sqlite":
                return builder.UseSqliteStorage(new SqliteConnectionStringBuilder { DataSource = value }.ToString());

            case "memory": // in-process only (the reference run of the tests); the value is ignored
                return builder.UseInMemoryStorage();

            case "postgres": // several workers start at once: the migration takes an advisory lock
                return builder.UsePostgreSqlStorage(value, o => o.MigrateOnStart = true);

            default:
                throw new ArgumentException($"Unknown store '{kind}' in '{spec}': use sqlite:<path>, postgres:<connection string> or memory:in-process.", nameof(spec));
        }
    }

    /// <summary>Splits <c>kind:value</c>.</summary>
    public static (string Kind, string Value) Parse(string spec)
    {
        ArgumentException.ThrowIfNullOrEmpty(spec);
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == spec.Length - 1)
        {
            throw new ArgumentException($"A store spec is kind:value, e.g. sqlite:/tmp/proof.db; got '{spec}'.", nameof(spec));
        }

        return (spec[..colon], spec[(colon + 1)..]);
    }
}
