using System.Data.Common;
using System.Text;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Npgsql;
using NpgsqlTypes;

namespace Loyalty.Sdk.PostgreSql;

/// <summary>
/// The PostgreSQL <see cref="IDocumentBackend"/>: documents, entries, counters and the outbox in four tables of one
/// schema (see <c>Migrations/0001_initial.sql</c>). Wrap it in a <see cref="DocumentLoyaltyStore"/> (or use
/// <c>builder.UsePostgreSqlStorage(...)</c>, or <see cref="PostgreSqlLoyaltyStore.CreateAsync"/>).
/// </summary>
/// <remarks>
/// <para>A commit is one round trip: its statements go as one <see cref="NpgsqlBatch"/> with no explicit transaction,
/// which PostgreSQL runs as one implicit transaction (read committed); every document write is checked against the
/// expected version inside its statement, and a mismatch raises an error that rolls the whole batch back, reported as
/// <see cref="ConcurrencyConflictException"/>. Unique violations, serialization failures and deadlocks are reported
/// the same way.</para>
/// <para>Every statement is parameterized and its text constant, so that Npgsql prepares the hot ones (reads by key,
/// versioned writes, counters) on each pooled connection: the backend sets <c>Max Auto Prepare</c> to 64 when the
/// connection string does not set it.</para>
/// <para>The first use migrates the schema when <see cref="PostgreSqlStorageOptions.MigrateOnStart"/> is set, or else
/// checks it and fails with <see cref="PostgreSqlSchemaException"/> when migrations are missing.</para>
/// </remarks>
public sealed class PostgreSqlDocumentBackend : IDocumentBackend, IAsyncDisposable
{
    /// <summary>The <c>Max Auto Prepare</c> set when the connection string does not say.</summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>The SQLSTATE raised by a commit whose document version check failed.</summary>
    internal const string VersionConflictState = "LY001";

    private readonly NpgsqlDataSource dataSource;
    private readonly bool ownsDataSource;
    private readonly PostgreSqlStorageOptions options;
    private readonly PostgreSqlStatements sql;
    private readonly PostgreSqlMigrator migrator;
    private readonly ILogger logger;
    private readonly SemaphoreSlim startGate = new(1, 1);
    private volatile bool ready;

    /// <summary>Creates a backend with its own data source over <see cref="PostgreSqlStorageOptions.ConnectionString"/>
    /// (disposed with the backend).</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are not valid.</exception>
    public PostgreSqlDocumentBackend(PostgreSqlStorageOptions options, ILogger<PostgreSqlDocumentBackend>? logger = null)
        : this(CreateDataSource(options), ownsDataSource: true, options, logger)
    {
    }

    /// <summary>Creates a backend over a data source the caller owns (its connection string is used as it is: set
    /// <c>Max Auto Prepare</c> in it to have statements prepared). <see cref="PostgreSqlStorageOptions.ConnectionString"/>
    /// is ignored.</summary>
    public PostgreSqlDocumentBackend(NpgsqlDataSource dataSource, PostgreSqlStorageOptions options, ILogger<PostgreSqlDocumentBackend>? logger = null)
        : this(dataSource ?? throw new ArgumentNullException(nameof(dataSource)), ownsDataSource: false, WithConnectionString(options, dataSource.ConnectionString), logger)
    {
    }

    private PostgreSqlDocumentBackend(NpgsqlDataSource dataSource, bool ownsDataSource, PostgreSqlStorageOptions options, ILogger? logger)
    {
        this.dataSource = dataSource;
        this.ownsDataSource = ownsDataSource;
        this.options = options.Clone();
        this.logger = logger ?? NullLogger.Instance;
        sql = new PostgreSqlStatements(options.Schema, options.TablePrefix);
        migrator = new PostgreSqlMigrator(dataSource, sql, this.logger);
        Outbox = new PostgreSqlOutboxStore(this);
    }

    /// <summary>The data source (for health checks and the host's own queries).</summary>
    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>The schema of the tables.</summary>
    public string Schema => options.Schema;

    /// <summary>The prefix of the tables.</summary>
    public string TablePrefix => options.TablePrefix;

    /// <inheritdoc />
    public IOutboxStore Outbox { get; }

    internal PostgreSqlStatements Statements => sql;

    /// <summary>Applies the shipped migrations the database lacks (under an advisory lock: several nodes may call this
    /// at once) and returns the resulting status. Migrations a newer SDK applied are left alone.</summary>
    public Task<PostgreSqlSchemaStatus> MigrateAsync(CancellationToken cancellationToken = default) =>
        MigrateAsync(PostgreSqlMigrator.Shipped, cancellationToken);

    /// <summary>Compares the database's schema with the shipped migrations, changing nothing.</summary>
    public Task<PostgreSqlSchemaStatus> CheckSchemaAsync(CancellationToken cancellationToken = default) =>
        migrator.CheckAsync(PostgreSqlMigrator.Shipped, cancellationToken);

    /// <summary>Migrates against <paramref name="migrations"/> instead of the shipped ones (tests).</summary>
    internal async Task<PostgreSqlSchemaStatus> MigrateAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        var status = await migrator.MigrateAsync(migrations, cancellationToken).ConfigureAwait(false);
        if (ReferenceEquals(migrations, PostgreSqlMigrator.Shipped) && !status.IsBehind)
        {
            ready = true;
        }

        return status;
    }

    /// <summary>Checks against <paramref name="migrations"/> instead of the shipped ones (tests).</summary>
    internal Task<PostgreSqlSchemaStatus> CheckSchemaAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken) =>
        migrator.CheckAsync(migrations, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<StoredDocument?> GetAsync(TenantId tenant, string collection, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(key);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = dataSource.CreateCommand(sql.GetDocument);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(Text(collection));
        command.Parameters.Add(Text(key));
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return Document(reader, collection, key, 0);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredDocument>> GetManyAsync(TenantId tenant, IReadOnlyList<DocumentKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return [];
        }

        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        if (keys.Count <= SmallReadAhead)
        {
            return await GetFewAsync(tenant, keys, cancellationToken).ConfigureAwait(false);
        }

        var collections = new string?[keys.Count];
        var names = new string?[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            collections[i] = keys[i].Collection ?? throw new ArgumentException("A key names its collection.", nameof(keys));
            names[i] = keys[i].Key ?? throw new ArgumentException("A key cannot be null.", nameof(keys));
        }

        var command = dataSource.CreateCommand(sql.GetDocuments);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(TextArray(collections));
        command.Parameters.Add(TextArray(names));
        var result = new List<StoredDocument>(keys.Count);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result.Add(Document(reader, reader.GetString(0), reader.GetString(1), 2));
            }
        }

        return result;
    }

    /// <inheritdoc />
    /// <remarks>True: every read is a round trip to the server.</remarks>
    public bool PrefersReadAhead => true;

    /// <summary>Up to this many keys, <see cref="GetManyAsync"/> sends one single-key statement per key in one batch
    /// (one round trip, each with the plan of <see cref="GetAsync"/>); above, one join with the arrays of keys.</summary>
    internal const int SmallReadAhead = 16;

    private async ValueTask<IReadOnlyList<StoredDocument>> GetFewAsync(TenantId tenant, IReadOnlyList<DocumentKey> keys, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var batch = new NpgsqlBatch(connection);
        await using var batchScope = batch.ConfigureAwait(false);
        foreach (var key in keys)
        {
            Add(
                batch,
                sql.GetDocument,
                Text(Tenant(tenant)),
                Text(key.Collection ?? throw new ArgumentException("A key names its collection.", nameof(keys))),
                Text(key.Key ?? throw new ArgumentException("A key cannot be null.", nameof(keys))));
        }

        var result = new List<StoredDocument>(keys.Count);
        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            var i = 0;
            do
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    result.Add(Document(reader, keys[i].Collection, keys[i].Key, 0));
                }

                i++;
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredDocument>> ClaimDueAsync(TenantId tenant, string collection, Instant now, int max, string owner, Instant leaseUntil, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = dataSource.CreateCommand(sql.ClaimDocuments);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(Text(collection));
        command.Parameters.Add(Bigint(now.ToUnixTimeTicks()));
        command.Parameters.Add(Bigint(max));
        command.Parameters.Add(Text(owner));
        command.Parameters.Add(Bigint(leaseUntil.ToUnixTimeTicks()));
        var result = new List<StoredDocument>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result.Add(Document(reader, collection, reader.GetString(0), 1));
            }
        }

        // UPDATE ... RETURNING does not keep the CTE's order: earliest due first, then key.
        result.Sort(static (a, b) => a.DueAt!.Value.CompareTo(b.DueAt!.Value) is var c && c != 0 ? c : string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredDocument>> QueryAsync(TenantId tenant, DocumentQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Skip);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Take);
        if (query.Take == 0 || (query.Order == DocumentOrder.Due && query.DueAtOrBefore is null))
        {
            return [];
        }

        var prefixKind = 0;
        string? upper = null;
        if (!string.IsNullOrEmpty(query.KeyPrefix))
        {
            upper = KeyRange.UpperBound(query.KeyPrefix);
            prefixKind = upper is null ? 2 : 1;
        }

        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = dataSource.CreateCommand(sql.DocumentQuery(query.Customer is not null, prefixKind, query.Order));
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(Text(query.Collection));
        if (query.Customer is not null)
        {
            command.Parameters.Add(Text(query.Customer));
        }

        if (prefixKind != 0)
        {
            command.Parameters.Add(Text(query.KeyPrefix));
            if (upper is not null)
            {
                command.Parameters.Add(Text(upper));
            }
        }

        if (query.Order == DocumentOrder.Due)
        {
            command.Parameters.Add(Bigint(query.DueAtOrBefore!.Value.ToUnixTimeTicks()));
        }

        AddPaging(command, query.Skip, query.Take);
        var result = new List<StoredDocument>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(Document(reader, query.Collection, reader.GetString(0), 1));
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask<long> CountAsync(TenantId tenant, string collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = dataSource.CreateCommand(sql.CountDocuments);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(Text(collection));
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredEntry>> ReadEntriesAsync(TenantId tenant, EntryQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Skip);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Take);
        if (query.Take == 0)
        {
            return [];
        }

        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = dataSource.CreateCommand(sql.EntryRead(query.Customer is not null, query.From is not null, query.To is not null));
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(Text(query.Stream));
        if (query.Customer is not null)
        {
            command.Parameters.Add(Text(query.Customer));
        }

        if (query.From is { } from)
        {
            command.Parameters.Add(Bigint(from.ToUnixTimeTicks()));
        }

        if (query.To is { } to)
        {
            command.Parameters.Add(Bigint(to.ToUnixTimeTicks()));
        }

        AddPaging(command, query.Skip, query.Take);
        var result = new List<StoredEntry>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new StoredEntry(
                query.Stream,
                reader.GetInt64(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                Instant.FromUnixTimeTicks(reader.GetInt64(2)),
                reader.GetString(3)));
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<string, long>> ReadCountersAsync(TenantId tenant, string group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = dataSource.CreateCommand(sql.ReadCounters);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(Text(group));
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result[reader.GetString(0)] = reader.GetInt64(1);
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask<bool> OutboxContainsAsync(TenantId tenant, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = dataSource.CreateCommand(sql.OutboxContains);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(Text(key));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(TenantId tenant, DocumentChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var tenantValue = Tenant(tenant);
        if (changes.IsEmpty)
        {
            return;
        }

        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);

        // No explicit transaction: the statements of a batch share one Sync, so PostgreSQL runs them as one implicit
        // transaction, committed when the last succeeds and rolled back entirely when one fails. One round trip.
        var batch = new NpgsqlBatch(connection);
        await using var batchScope = batch.ConfigureAwait(false);
        foreach (var customer in changes.OutboxCancellations.Select(c => c.Value).Distinct(StringComparer.Ordinal))
        {
            Add(batch, sql.CancelOutbox, Text(tenantValue), Text(customer));
        }

        foreach (var change in changes.EntryChanges)
        {
            if (change.Sequence is not { } sequence)
            {
                if (change.Customer is null)
                {
                    Add(batch, sql.DeleteUnownedEntries, Text(tenantValue), Text(change.Stream));
                }
                else
                {
                    Add(batch, sql.DeleteCustomerEntries, Text(tenantValue), Text(change.Stream), Text(change.Customer));
                }
            }
            else if (change.Body is null)
            {
                Add(batch, sql.DeleteEntry, Text(tenantValue), Text(change.Stream), Bigint(sequence));
            }
            else
            {
                Add(batch, sql.UpdateEntry, Text(tenantValue), Text(change.Stream), Bigint(sequence), Text(change.Customer), Text(change.Body));
            }
        }

        // Writes to existing documents first, in one order (collection, key) in every commit, so that two commits
        // touching the same documents lock them in the same order instead of deadlocking; then the writes that may
        // insert, in the order they were made, which is the order of their sequence numbers.
        static bool MayInsert(DocumentWrite w) => w.Body is not null && w.ExpectedVersion is null or 0;
        foreach (var write in changes.Documents.Where(w => !MayInsert(w)).OrderBy(w => w.Collection, StringComparer.Ordinal).ThenBy(w => w.Key, StringComparer.Ordinal))
        {
            AddDocumentWrite(batch, tenantValue, write);
        }

        // Runs of plain inserts go as one multi-row statement each (in order, so sequence numbers keep the order of
        // the writes); upserts and re-keyed inserts between them keep their own statements.
        var run = new List<DocumentWrite>();
        foreach (var write in changes.Documents.Where(MayInsert))
        {
            if (write is { ExpectedVersion: 0, Sequence: null })
            {
                run.Add(write);
                continue;
            }

            AddInserts(batch, tenantValue, run);
            AddDocumentWrite(batch, tenantValue, write);
        }

        AddInserts(batch, tenantValue, run);

        if (changes.Appends.Count > 0)
        {
            var appends = changes.Appends;
            Add(
                batch,
                sql.AppendEntries,
                Text(tenantValue),
                TextArray(appends.Select(a => a.Stream).ToArray()),
                TextArray(appends.Select(a => a.Customer).ToArray()),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = appends.Select(a => a.At.ToUnixTimeTicks()).ToArray() },
                TextArray(appends.Select(a => a.Body).ToArray()));
        }

        if (changes.Counters.Count > 0)
        {
            var counters = changes.Counters
                .GroupBy(c => (c.Group, c.Key))
                .Select(g => (g.Key.Group, g.Key.Key, Delta: g.Sum(c => c.Delta)))
                .OrderBy(c => c.Group, StringComparer.Ordinal).ThenBy(c => c.Key, StringComparer.Ordinal)
                .ToArray();
            Add(
                batch,
                sql.AddCounters,
                Text(tenantValue),
                TextArray(counters.Select(c => c.Group).ToArray()),
                TextArray(counters.Select(c => c.Key).ToArray()),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = counters.Select(c => c.Delta).ToArray() });
        }

        foreach (var message in changes.Outbox)
        {
            Add(
                batch,
                sql.EnqueueOutbox,
                Text(tenantValue),
                Text(message.Key),
                Text(message.Customer.Value),
                Bigint(message.DueAt.ToUnixTimeTicks()),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = message.Attempts },
                Text(OutboxMessageJson.Serialize(message)));
        }

        foreach (var completion in changes.OutboxCompletions)
        {
            Add(batch, sql.CompleteOutboxChecked, Text(tenantValue), Text(completion.Key), Text(completion.Owner));
        }

        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (IsConflict(e.SqlState))
        {
            Log.CommitConflict(logger, tenantValue, e.SqlState, e.MessageText);
            throw new ConcurrencyConflictException(ConflictMessage(e), e);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (ownsDataSource)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
        }

        startGate.Dispose();
    }

    /// <summary>Whether a SQLSTATE means another writer won: a failed version check, a unique violation (two inserts
    /// of the same key), a serialization failure or a deadlock.</summary>
    internal static bool IsConflict(string sqlState) =>
        sqlState is VersionConflictState or PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected;

    internal ValueTask EnsureReadyAsync(CancellationToken cancellationToken) => ready ? ValueTask.CompletedTask : StartAsync(cancellationToken);

    internal static string Tenant(TenantId tenant) => tenant.Value ?? throw new ArgumentException("A tenant is required.", nameof(tenant));

    /// <summary>A document from the columns customer, version, due_at, body, seq of a row, starting at
    /// <paramref name="at"/>.</summary>
    private static StoredDocument Document(NpgsqlDataReader reader, string collection, string key, int at) => new(
        collection,
        key,
        reader.IsDBNull(at) ? null : reader.GetString(at),
        reader.GetInt64(at + 1),
        reader.IsDBNull(at + 2) ? null : Instant.FromUnixTimeTicks(reader.GetInt64(at + 2)),
        reader.GetString(at + 3),
        reader.GetInt64(at + 4));

    internal static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    internal static NpgsqlParameter Bigint(long? value) => new() { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter TextArray(string?[] values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values };

    private static void Add(NpgsqlBatch batch, string text, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(text);
        command.Parameters.AddRange(parameters);
        batch.BatchCommands.Add(command);
    }

    private static void AddPaging(DbCommand command, int skip, int take)
    {
        command.Parameters.Add(Bigint(take == int.MaxValue ? null : take)); // LIMIT NULL is no limit
        command.Parameters.Add(Bigint(skip));
    }

    private static string ConflictMessage(PostgresException e) => e.SqlState switch
    {
        VersionConflictState => e.MessageText,
        PostgresErrorCodes.UniqueViolation => $"Another writer inserted the same record first ({e.ConstraintName}).",
        PostgresErrorCodes.DeadlockDetected => "The commit deadlocked with a concurrent commit and was rolled back.",
        _ => "The commit conflicted with a concurrent commit and was rolled back.",
    };

    private static PostgreSqlStorageOptions WithConnectionString(PostgreSqlStorageOptions options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        var copy = options.Clone();
        copy.ConnectionString = connectionString;
        copy.ThrowIfInvalid();
        return copy;
    }

    private static NpgsqlDataSource CreateDataSource(PostgreSqlStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        return new NpgsqlDataSourceBuilder(WithAutoPrepare(options.ConnectionString)).Build();
    }

    /// <summary>The connection string with <c>Max Auto Prepare</c> set to <see cref="DefaultMaxAutoPrepare"/> and
    /// <c>No Reset On Close</c> on, unless it sets them itself. The backend changes no session state, so skipping the
    /// reset when a pooled connection is returned is safe, and it halves the cost of a single-document read (measured
    /// in docs/benchmarks.md, Storage).</summary>
    internal static string WithAutoPrepare(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        bool Has(string name)
        {
            foreach (string key in given.Keys)
            {
                if (string.Equals(key.Replace(" ", string.Empty, StringComparison.Ordinal), name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Has("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }

        if (!Has("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return Has("MaxAutoPrepare") && Has("NoResetOnClose") ? connectionString : builder.ConnectionString;
    }

    /// <summary>Adds the pending run of plain inserts (one statement, or the single-row one for a run of one) and
    /// empties it.</summary>
    private void AddInserts(NpgsqlBatch batch, string tenant, List<DocumentWrite> run)
    {
        if (run.Count == 1)
        {
            AddDocumentWrite(batch, tenant, run[0]);
        }
        else if (run.Count > 1)
        {
            Add(
                batch,
                sql.InsertDocuments,
                Text(tenant),
                TextArray([.. run.Select(w => w.Collection)]),
                TextArray([.. run.Select(w => w.Key)]),
                TextArray([.. run.Select(w => w.Customer)]),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = run.Select(w => w.Version).ToArray() },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = run.Select(w => w.DueAt is { } d ? d.ToUnixTimeTicks() : (long?)null).ToArray() },
                TextArray([.. run.Select(w => w.Body)]));
        }

        run.Clear();
    }

    private void AddDocumentWrite(NpgsqlBatch batch, string tenant, DocumentWrite w)
    {
        var due = w.DueAt is { } d ? d.ToUnixTimeTicks() : (long?)null;
        switch (w.ExpectedVersion, w.Body)
        {
            case (null, null):
                Add(batch, sql.DeleteDocumentUnconditionally, Text(tenant), Text(w.Collection), Text(w.Key));
                break;
            case (null, { } body):
                Add(batch, sql.UpsertDocument, Text(tenant), Text(w.Collection), Text(w.Key), Text(w.Customer), Bigint(due), Text(body));
                break;
            case (0, null):
                Add(batch, sql.ExpectNoDocument, Text(tenant), Text(w.Collection), Text(w.Key));
                break;
            case (0, { } body) when w.Sequence is { } sequence:
                Add(batch, sql.InsertDocumentAt, Text(tenant), Text(w.Collection), Text(w.Key), Text(w.Customer), Bigint(w.Version), Bigint(due), Text(body), Bigint(sequence));
                break;
            case (0, { } body):
                Add(batch, sql.InsertDocument, Text(tenant), Text(w.Collection), Text(w.Key), Text(w.Customer), Bigint(w.Version), Bigint(due), Text(body));
                break;
            case ({ } expected, null):
                Add(batch, sql.DeleteDocument, Text(tenant), Text(w.Collection), Text(w.Key), Bigint(expected));
                break;
            case ({ } expected, { } body):
                Add(batch, sql.UpdateDocument, Text(tenant), Text(w.Collection), Text(w.Key), Text(w.Customer), Bigint(w.Version), Bigint(due), Text(body), Bigint(expected));
                break;
        }
    }

    private async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        await startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ready)
            {
                return;
            }

            var status = options.MigrateOnStart
                ? await migrator.MigrateAsync(PostgreSqlMigrator.Shipped, cancellationToken).ConfigureAwait(false)
                : await migrator.CheckAsync(PostgreSqlMigrator.Shipped, cancellationToken).ConfigureAwait(false);
            status.ThrowIfIncompatible();
            if (status.IsAhead)
            {
                Log.SchemaAhead(logger, status);
            }

            ready = true;
        }
        finally
        {
            startGate.Release();
        }
    }
}

/// <summary>Key prefixes as ranges, so that a prefix query is an index range scan.</summary>
internal static class KeyRange
{
    /// <summary>The least string greater than every string starting with <paramref name="prefix"/>, in code point
    /// order (the order of <c>COLLATE "C"</c> over UTF-8); null when there is none (the prefix is all U+10FFFF).</summary>
    public static string? UpperBound(string prefix)
    {
        var runes = prefix.EnumerateRunes().ToArray();
        for (var i = runes.Length - 1; i >= 0; i--)
        {
            var value = runes[i].Value;
            if (value == 0x10FFFF)
            {
                continue;
            }

            var next = value + 1 == 0xD800 ? 0xE000 : value + 1;
            var result = new StringBuilder();
            foreach (var rune in runes.AsSpan(0, i))
            {
                result.Append(rune.ToString());
            }

            return result.Append(new Rune(next).ToString()).ToString();
        }

        return null;
    }
}
