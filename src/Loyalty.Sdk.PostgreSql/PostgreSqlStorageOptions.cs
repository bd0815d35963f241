using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Loyalty.Sdk.PostgreSql;

/// <summary>Options of the PostgreSQL storage (<c>builder.UsePostgreSqlStorage(...)</c>), validated at start.</summary>
public sealed partial class PostgreSqlStorageOptions
{
    /// <summary>The default <see cref="Schema"/>.</summary>
    public const string DefaultSchema = "loyalty";

    /// <summary>The default <see cref="TablePrefix"/>.</summary>
    public const string DefaultTablePrefix = "loyalty_";

    /// <summary>The Npgsql connection string. <c>Max Auto Prepare</c> is set to 64 when it does not say otherwise, so
    /// that the hot statements are prepared on every pooled connection.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>The schema holding the tables (created by the migrations when missing): lower-case letters, digits and
    /// underscores, starting with a letter or underscore.</summary>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>The prefix of every table, index and function Loyalty.Sdk owns in <see cref="Schema"/> (may be empty):
    /// lower-case letters, digits and underscores, at most 30 characters.</summary>
    public string TablePrefix { get; set; } = DefaultTablePrefix;

    /// <summary>Applies pending migrations before the first use of the storage (under an advisory lock, so that nodes
    /// starting together apply each migration once). When false, the first use checks the schema instead and fails
    /// with <see cref="PostgreSqlSchemaException"/> if migrations are missing; apply them with
    /// <see cref="PostgreSqlDocumentBackend.MigrateAsync(CancellationToken)"/> or a deployment step.</summary>
    public bool MigrateOnStart { get; set; }

    /// <summary>The problems of these options (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            failures.Add("PostgreSqlStorageOptions.ConnectionString is required.");
        }
        else
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException e)
            {
                failures.Add($"PostgreSqlStorageOptions.ConnectionString is not a valid connection string: {e.Message}");
            }
        }

        if (Schema is null || !SchemaPattern().IsMatch(Schema))
        {
            failures.Add($"PostgreSqlStorageOptions.Schema '{Schema}' must be 1 to 63 lower-case letters, digits or underscores, starting with a letter or underscore.");
        }

        if (TablePrefix is null || !PrefixPattern().IsMatch(TablePrefix))
        {
            failures.Add($"PostgreSqlStorageOptions.TablePrefix '{TablePrefix}' must be empty or up to 30 lower-case letters, digits or underscores, starting with a letter or underscore.");
        }

        return failures;
    }

    /// <summary>A copy of these options.</summary>
    internal PostgreSqlStorageOptions Clone() => (PostgreSqlStorageOptions)MemberwiseClone();

    /// <summary>Throws when the options are not valid.</summary>
    internal void ThrowIfInvalid()
    {
        var failures = Validate();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(string.Empty, typeof(PostgreSqlStorageOptions), failures);
        }
    }

    [GeneratedRegex(@"^[a-z_][a-z0-9_]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaPattern();

    [GeneratedRegex(@"^([a-z_][a-z0-9_]{0,29})?\z", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixPattern();
}

/// <summary>Validates <see cref="PostgreSqlStorageOptions"/> at start.</summary>
internal sealed class PostgreSqlStorageOptionsValidator : IValidateOptions<PostgreSqlStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, PostgreSqlStorageOptions options)
    {
        var failures = options.Validate();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
