using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.PostgreSql;

/// <summary>How the database's schema compares with the migrations this version of the SDK ships
/// (<see cref="PostgreSqlDocumentBackend.CheckSchemaAsync(CancellationToken)"/>, <see cref="PostgreSqlDocumentBackend.MigrateAsync(CancellationToken)"/>).</summary>
public sealed record PostgreSqlSchemaStatus
{
    /// <summary>The schema.</summary>
    public required string Schema { get; init; }

    /// <summary>The migrations applied to the database, ascending (empty when none).</summary>
    public required IReadOnlyList<int> Applied { get; init; }

    /// <summary>The migrations this SDK ships, ascending.</summary>
    public required IReadOnlyList<int> Shipped { get; init; }

    /// <summary>Shipped migrations the database lacks: the database is behind and this SDK cannot use it until they
    /// are applied.</summary>
    public IReadOnlyList<int> Pending => [.. Shipped.Except(Applied).Order()];

    /// <summary>Applied migrations this SDK does not know: a newer SDK migrated the database. Migrations only add, so an
    /// older SDK usually keeps working (during a rolling deployment, say), but it cannot vouch for it.</summary>
    public IReadOnlyList<int> Unknown => [.. Applied.Except(Shipped).Order()];

    /// <summary>Applied migrations whose shipped script differs from the one that was applied (edited after release).</summary>
    public IReadOnlyList<int> Modified { get; init; } = [];

    /// <summary>The highest applied migration (0 when none).</summary>
    public int DatabaseVersion => Applied.Count == 0 ? 0 : Applied[^1];

    /// <summary>The highest shipped migration.</summary>
    public int ShippedVersion => Shipped.Count == 0 ? 0 : Shipped[^1];

    /// <summary>Whether shipped migrations are missing from the database.</summary>
    public bool IsBehind => Pending.Count > 0;

    /// <summary>Whether the database has migrations this SDK does not know.</summary>
    public bool IsAhead => Unknown.Count > 0;

    /// <summary>Whether the database has exactly the shipped migrations.</summary>
    public bool IsCurrent => !IsBehind && !IsAhead;

    /// <summary>Throws <see cref="PostgreSqlSchemaException"/> when the database is behind, or, with
    /// <paramref name="allowAhead"/> false, ahead.</summary>
    public void ThrowIfIncompatible(bool allowAhead = true)
    {
        if (IsBehind || (!allowAhead && IsAhead))
        {
            throw new PostgreSqlSchemaException(this);
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        IsCurrent ? $"Schema '{Schema}' is at migration {DatabaseVersion}, the latest this SDK ships."
        : IsBehind ? $"Schema '{Schema}' is at migration {DatabaseVersion} but this SDK needs {ShippedVersion}: migrations {string.Join(", ", Pending)} are missing. Apply them with MigrateAsync, or set MigrateOnStart."
        : $"Schema '{Schema}' has migrations {string.Join(", ", Unknown)} that this SDK (which ships up to {ShippedVersion}) does not know: a newer SDK migrated it.";
}

/// <summary>The database's schema does not match the migrations this SDK ships.</summary>
public sealed class PostgreSqlSchemaException : LoyaltyException
{
    /// <summary>Creates the exception.</summary>
    public PostgreSqlSchemaException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public PostgreSqlSchemaException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PostgreSqlSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="status"/>.</summary>
    public PostgreSqlSchemaException(PostgreSqlSchemaStatus status)
        : base(status?.ToString() ?? "The schema does not match the shipped migrations.") =>
        Status = status;

    /// <summary>The status that was found, when known.</summary>
    public PostgreSqlSchemaStatus? Status { get; }
}
