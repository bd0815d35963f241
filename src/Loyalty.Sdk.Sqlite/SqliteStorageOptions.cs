namespace Loyalty.Sdk.Sqlite;

/// <summary>How often SQLite flushes to disk.</summary>
public enum SqliteSynchronous
{
    /// <summary>WAL with <c>synchronous=NORMAL</c>: a committed unit of work survives a crash of the process; the last
    /// commits before a power loss may be lost (never corrupted).</summary>
    Normal,

    /// <summary><c>synchronous=FULL</c>: every commit is flushed before it returns (slower).</summary>
    Full,
}

/// <summary>Options of the SQLite store.</summary>
public sealed class SqliteStorageOptions
{
    /// <summary>A Microsoft.Data.Sqlite connection string, e.g. <c>Data Source=.loyalty/loyalty.db</c>.</summary>
    public string ConnectionString { get; set; } = "Data Source=.loyalty/loyalty.db";

    /// <summary>Durability of commits. Default <see cref="SqliteSynchronous.Normal"/>.</summary>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Normal;

    /// <summary>How long a writer waits for another writer (another process) before failing. Default 30 seconds.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Creates options for a database file.</summary>
    public static SqliteStorageOptions ForFile(string path) => new() { ConnectionString = $"Data Source={path}" };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException("SqliteStorageOptions.ConnectionString is required.", nameof(ConnectionString));
        }

        if (BusyTimeout < TimeSpan.Zero || BusyTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException("SqliteStorageOptions.BusyTimeout must be between zero and 24 days.", nameof(BusyTimeout));
        }
    }
}
