using System.Collections.Concurrent;
using System.Data;
using System.Globalization;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using Loyalty.Sdk.Validation;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Loyalty.Sdk.Sqlite;

/// <summary>
/// The SQLite document backend: one database file in WAL mode, every unit of work one <c>BEGIN IMMEDIATE</c>
/// transaction, every document write checked against the version its session read. Several processes may share the
/// file (SQLite serializes writers; a busy writer waits up to <see cref="SqliteStorageOptions.BusyTimeout"/>).
/// </summary>
public sealed class SqliteDocumentBackend : IDocumentBackend, IAsyncDisposable, IDisposable
{
    private readonly string connectionString;
    private readonly SqliteStorageOptions options;
    private readonly ConcurrentBag<Lease> idle = [];
    private int disposed;

    private SqliteDocumentBackend(string connectionString, SqliteStorageOptions options)
    {
        this.connectionString = connectionString;
        this.options = options;
        Outbox = new SqliteOutboxStore(this);
    }

    /// <inheritdoc />
    public IOutboxStore Outbox { get; }

    /// <summary>The connection string in use.</summary>
    public string ConnectionString => connectionString;

    /// <summary>Opens (creating if needed) the database and applies the shipped migrations it lacks.</summary>
    public static async ValueTask<SqliteDocumentBackend> OpenAsync(SqliteStorageOptions options, CancellationToken cancellationToken = default)
    {
        var backend = Create(options);
        await backend.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        return backend;
    }

    /// <summary>Creates the backend without touching the file: the folder is created and the migrations are applied on
    /// first use, once, behind a gate (what a DI factory needs: no I/O, no blocking).</summary>
    /// <param name="options">The options (validated here).</param>
    public static SqliteDocumentBackend Create(SqliteStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = new SqliteConnectionStringBuilder(options.ConnectionString) { Pooling = true };
        return new SqliteDocumentBackend(builder.ToString(), options);
    }

    private readonly SemaphoreSlim startGate = new(1, 1);
    private volatile bool ready;

    private async ValueTask EnsureReadyAsync(CancellationToken cancellationToken)
    {
        if (ready)
        {
            return;
        }

        await startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!ready)
            {
                var builder = new SqliteConnectionStringBuilder(connectionString);
                if (builder.Mode is SqliteOpenMode.ReadWriteCreate && !string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
                {
                    var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
                    if (!string.IsNullOrEmpty(folder))
                    {
                        Directory.CreateDirectory(folder);
                    }
                }

                using (var lease = await OpenLeaseAsync(cancellationToken).ConfigureAwait(false))
                {
                    await SqliteMigrations.ApplyAsync(lease, cancellationToken).ConfigureAwait(false);
                }

                ready = true;
            }
        }
        finally
        {
            startGate.Release();
        }
    }

    // ------------------------------------------------------------------ reads

    /// <inheritdoc />
    public async ValueTask<StoredDocument?> GetAsync(TenantId tenant, string collection, string key, CancellationToken cancellationToken = default)
    {
        using var lease = await RentAsync(cancellationToken).ConfigureAwait(false);
        var cmd = lease.Command("SELECT customer, version, due_at, body, seq FROM loyalty_documents WHERE tenant = $t AND collection = $c AND key = $k");
        cmd.Parameters["$t"].Value = tenant.Value;
        cmd.Parameters["$c"].Value = collection;
        cmd.Parameters["$k"].Value = key;
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? Document(reader, collection, key, 0) : null;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredDocument>> QueryAsync(TenantId tenant, DocumentQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Order == DocumentOrder.Due && query.DueAtOrBefore is null)
        {
            return [];
        }

        var sql = "SELECT key, customer, version, due_at, body, seq FROM loyalty_documents WHERE tenant = $t AND collection = $c"
            + (query.Customer is null ? string.Empty : " AND customer = $cu")
            + (query.KeyPrefix is null ? string.Empty : " AND substr(key, 1, length($p)) = $p")
            + query.Order switch
            {
                DocumentOrder.Key => " ORDER BY key",
                DocumentOrder.Due => " AND due_at IS NOT NULL AND due_at <= $d ORDER BY due_at, key",
                _ => " ORDER BY seq",
            }
            + " LIMIT $take OFFSET $skip";
        using var lease = await RentAsync(cancellationToken).ConfigureAwait(false);
        var cmd = lease.Command(sql);
        cmd.Parameters["$t"].Value = tenant.Value;
        cmd.Parameters["$c"].Value = query.Collection;
        Set(cmd, "$cu", query.Customer);
        Set(cmd, "$p", query.KeyPrefix);
        Set(cmd, "$d", query.Order == DocumentOrder.Due ? (query.DueAtOrBefore ?? Instant.MaxValue).ToUnixTimeTicks() : null);
        cmd.Parameters["$take"].Value = query.Take == int.MaxValue ? -1 : query.Take;
        cmd.Parameters["$skip"].Value = query.Skip;
        var result = new List<StoredDocument>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            result.Add(Document(reader, query.Collection, reader.GetString(0), 1));
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredDocument>> ClaimDueAsync(TenantId tenant, string collection, Instant now, int max, string owner, Instant leaseUntil, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var result = new List<StoredDocument>();
        using var lease = await RentAsync(cancellationToken).ConfigureAwait(false);

        // SQLite has one writer at a time, so selecting and leasing in one write transaction is the claim.
        await lease.InTransactionAsync(
            () =>
            {
                var cmd = lease.Command("""
                    UPDATE loyalty_documents SET lease_owner = $o, lease_until = $u
                    WHERE seq IN (
                        SELECT seq FROM loyalty_documents
                        WHERE tenant = $t AND collection = $c AND due_at IS NOT NULL AND due_at <= $n
                          AND (lease_until IS NULL OR lease_until <= $n OR lease_owner = $o)
                        ORDER BY due_at, key LIMIT $m)
                    RETURNING key, customer, version, due_at, body, seq
                    """);
                cmd.Parameters["$t"].Value = tenant.Value;
                cmd.Parameters["$c"].Value = collection;
                cmd.Parameters["$n"].Value = now.ToUnixTimeTicks();
                cmd.Parameters["$m"].Value = max;
                cmd.Parameters["$o"].Value = owner;
                cmd.Parameters["$u"].Value = leaseUntil.ToUnixTimeTicks();
                using var reader = cmd.ExecuteReader();
                while (reader.Read())
                {
                    result.Add(Document(reader, collection, reader.GetString(0), 1));
                }
            },
            cancellationToken).ConfigureAwait(false);

        // RETURNING gives no order: earliest due first, then key, as the query orders them.
        result.Sort(static (a, b) => a.DueAt!.Value.CompareTo(b.DueAt!.Value) is var c && c != 0 ? c : string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    /// <inheritdoc />
    public async ValueTask<long> CountAsync(TenantId tenant, string collection, CancellationToken cancellationToken = default)
    {
        using var lease = await RentAsync(cancellationToken).ConfigureAwait(false);
        var cmd = lease.Command("SELECT count(*) FROM loyalty_documents WHERE tenant = $t AND collection = $c");
        cmd.Parameters["$t"].Value = tenant.Value;
        cmd.Parameters["$c"].Value = collection;
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredEntry>> ReadEntriesAsync(TenantId tenant, EntryQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = "SELECT seq, customer, at, body FROM loyalty_entries WHERE tenant = $t AND stream = $s"
            + (query.Customer is null ? string.Empty : " AND customer = $cu")
            + (query.From is null ? string.Empty : " AND at >= $from")
            + (query.To is null ? string.Empty : " AND at < $to")
            + " ORDER BY seq LIMIT $take OFFSET $skip";
        using var lease = await RentAsync(cancellationToken).ConfigureAwait(false);
        var cmd = lease.Command(sql);
        cmd.Parameters["$t"].Value = tenant.Value;
        cmd.Parameters["$s"].Value = query.Stream;
        Set(cmd, "$cu", query.Customer);
        Set(cmd, "$from", query.From?.ToUnixTimeTicks());
        Set(cmd, "$to", query.To?.ToUnixTimeTicks());
        cmd.Parameters["$take"].Value = query.Take == int.MaxValue ? -1 : query.Take;
        cmd.Parameters["$skip"].Value = query.Skip;
        var result = new List<StoredEntry>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            result.Add(new StoredEntry(query.Stream, reader.GetInt64(0), Text(reader, 1), Instant.FromUnixTimeTicks(reader.GetInt64(2)), reader.GetString(3)));
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<string, long>> ReadCountersAsync(TenantId tenant, string group, CancellationToken cancellationToken = default)
    {
        using var lease = await RentAsync(cancellationToken).ConfigureAwait(false);
        var cmd = lease.Command("SELECT key, value FROM loyalty_counters WHERE tenant = $t AND grp = $g");
        cmd.Parameters["$t"].Value = tenant.Value;
        cmd.Parameters["$g"].Value = group;
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            result[reader.GetString(0)] = reader.GetInt64(1);
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask<bool> OutboxContainsAsync(TenantId tenant, string key, CancellationToken cancellationToken = default)
    {
        using var lease = await RentAsync(cancellationToken).ConfigureAwait(false);
        var cmd = lease.Command("SELECT 1 FROM loyalty_outbox WHERE tenant = $t AND key = $k");
        cmd.Parameters["$t"].Value = tenant.Value;
        cmd.Parameters["$k"].Value = key;
        return cmd.ExecuteScalar() is not null;
    }

    // ------------------------------------------------------------------ commit

    /// <inheritdoc />
    public async ValueTask CommitAsync(TenantId tenant, DocumentChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.IsEmpty)
        {
            return;
        }

        using var lease = await RentAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await lease.InTransactionAsync(() => Apply(lease, tenant.Value, changes), cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6)
        {
            // SQLITE_BUSY / SQLITE_LOCKED after the busy timeout: another process held the write lock too long. Nothing
            // was applied; report it as a lost race so that the engine runs the unit of work again.
            throw new ConcurrencyConflictException("The SQLite database stayed locked by another writer beyond the busy timeout.", e);
        }
    }

    private static void Apply(Lease lease, string tenant, DocumentChangeSet changes)
    {
        foreach (var w in changes.Documents)
        {
            WriteDocument(lease, tenant, w);
        }

        foreach (var c in changes.EntryChanges)
        {
            var cmd = c.Sequence is null
                ? lease.Command("DELETE FROM loyalty_entries WHERE tenant = $t AND stream = $s AND customer IS $cu")
                : c.Body is null
                    ? lease.Command("DELETE FROM loyalty_entries WHERE tenant = $t AND stream = $s AND seq = $q")
                    : lease.Command("UPDATE loyalty_entries SET customer = $cu, body = $b WHERE tenant = $t AND stream = $s AND seq = $q");
            cmd.Parameters["$t"].Value = tenant;
            cmd.Parameters["$s"].Value = c.Stream;
            Set(cmd, "$cu", c.Customer);
            Set(cmd, "$q", c.Sequence);
            Set(cmd, "$b", c.Body);
            cmd.ExecuteNonQuery();
        }

        if (changes.Appends.Count > 0)
        {
            var cmd = lease.Command("INSERT INTO loyalty_entries (tenant, stream, customer, at, body) VALUES ($t, $s, $cu, $at, $b)");
            foreach (var a in changes.Appends)
            {
                cmd.Parameters["$t"].Value = tenant;
                cmd.Parameters["$s"].Value = a.Stream;
                cmd.Parameters["$cu"].Value = (object?)a.Customer ?? DBNull.Value;
                cmd.Parameters["$at"].Value = a.At.ToUnixTimeTicks();
                cmd.Parameters["$b"].Value = a.Body;
                cmd.ExecuteNonQuery();
            }
        }

        if (changes.Counters.Count > 0)
        {
            var cmd = lease.Command("INSERT INTO loyalty_counters (tenant, grp, key, value) VALUES ($t, $g, $k, $v) ON CONFLICT (tenant, grp, key) DO UPDATE SET value = value + excluded.value");
            foreach (var c in changes.Counters)
            {
                cmd.Parameters["$t"].Value = tenant;
                cmd.Parameters["$g"].Value = c.Group;
                cmd.Parameters["$k"].Value = c.Key;
                cmd.Parameters["$v"].Value = c.Delta;
                cmd.ExecuteNonQuery();
            }
        }

        if (changes.OutboxCompletions.Count > 0)
        {
            var cmd = lease.Command("UPDATE loyalty_outbox SET done = 1, owner = NULL, lease_until = NULL WHERE tenant = $t AND key = $k AND owner = $o AND done = 0");
            foreach (var c in changes.OutboxCompletions)
            {
                cmd.Parameters["$t"].Value = tenant;
                cmd.Parameters["$k"].Value = c.Key;
                cmd.Parameters["$o"].Value = c.Owner;
                if (cmd.ExecuteNonQuery() != 1)
                {
                    throw new ConcurrencyConflictException($"Outbox message '{c.Key}' is no longer claimed by '{c.Owner}'.");
                }
            }
        }

        foreach (var customer in changes.OutboxCancellations)
        {
            var cmd = lease.Command("DELETE FROM loyalty_outbox WHERE tenant = $t AND customer = $cu");
            cmd.Parameters["$t"].Value = tenant;
            cmd.Parameters["$cu"].Value = customer.Value;
            cmd.ExecuteNonQuery();
        }

        if (changes.Outbox.Count > 0)
        {
            var cmd = lease.Command("INSERT INTO loyalty_outbox (tenant, key, customer, due_at, attempts, body) VALUES ($t, $k, $cu, $d, $a, $b) ON CONFLICT (tenant, key) DO NOTHING");
            foreach (var m in changes.Outbox)
            {
                cmd.Parameters["$t"].Value = tenant;
                cmd.Parameters["$k"].Value = m.Key;
                cmd.Parameters["$cu"].Value = m.Customer.Value;
                cmd.Parameters["$d"].Value = m.DueAt.ToUnixTimeTicks();
                cmd.Parameters["$a"].Value = m.Attempts;
                cmd.Parameters["$b"].Value = OutboxMessageJson.Serialize(m);
                cmd.ExecuteNonQuery();
            }
        }
    }

    private static void WriteDocument(Lease lease, string tenant, DocumentWrite w)
    {
        SqliteCommand cmd;
        if (w.Body is null)
        {
            cmd = w.ExpectedVersion switch
            {
                null => lease.Command("DELETE FROM loyalty_documents WHERE tenant = $t AND collection = $c AND key = $k"),
                0 => lease.Command("SELECT count(*) FROM loyalty_documents WHERE tenant = $t AND collection = $c AND key = $k"),
                _ => lease.Command("DELETE FROM loyalty_documents WHERE tenant = $t AND collection = $c AND key = $k AND version = $e"),
            };
        }
        else
        {
            cmd = w.ExpectedVersion switch
            {
                null => lease.Command("INSERT INTO loyalty_documents (tenant, collection, key, customer, version, due_at, body) VALUES ($t, $c, $k, $cu, 1, $d, $b) "
                    + "ON CONFLICT (tenant, collection, key) DO UPDATE SET customer = excluded.customer, version = version + 1, due_at = excluded.due_at, body = excluded.body, lease_owner = NULL, lease_until = NULL"),
                0 when w.Sequence is not null => lease.Command("INSERT INTO loyalty_documents (seq, tenant, collection, key, customer, version, due_at, body) VALUES ($q, $t, $c, $k, $cu, $v, $d, $b) ON CONFLICT (tenant, collection, key) DO NOTHING"),
                0 => lease.Command("INSERT INTO loyalty_documents (tenant, collection, key, customer, version, due_at, body) VALUES ($t, $c, $k, $cu, $v, $d, $b) ON CONFLICT (tenant, collection, key) DO NOTHING"),
                _ => lease.Command("UPDATE loyalty_documents SET customer = $cu, version = $v, due_at = $d, body = $b, lease_owner = NULL, lease_until = NULL WHERE tenant = $t AND collection = $c AND key = $k AND version = $e"),
            };
        }

        cmd.Parameters["$t"].Value = tenant;
        cmd.Parameters["$c"].Value = w.Collection;
        cmd.Parameters["$k"].Value = w.Key;
        Set(cmd, "$e", w.ExpectedVersion);
        Set(cmd, "$v", w.Version);
        Set(cmd, "$cu", w.Customer);
        Set(cmd, "$d", w.DueAt?.ToUnixTimeTicks());
        Set(cmd, "$b", w.Body);
        Set(cmd, "$q", w.Sequence);
        if (w.Body is null && w.ExpectedVersion == 0)
        {
            if (Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) != 0)
            {
                throw Conflict(w);
            }

            return;
        }

        var rows = cmd.ExecuteNonQuery();
        if (w.ExpectedVersion is not null && rows != 1)
        {
            throw Conflict(w);
        }
    }

    private static ConcurrencyConflictException Conflict(DocumentWrite w) =>
        new(w.ExpectedVersion == 0
            ? $"The {w.Collection} document '{w.Key}' was created by another writer."
            : $"The {w.Collection} document '{w.Key}' is no longer at version {w.ExpectedVersion}: another writer changed it.");

    // ------------------------------------------------------------------ connections

    internal async ValueTask<Lease> RentAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (!ready)
        {
            await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        }

        return idle.TryTake(out var lease) ? lease : await OpenLeaseAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<Lease> OpenLeaseAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"PRAGMA journal_mode = WAL; PRAGMA synchronous = {(options.Synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL")}; PRAGMA busy_timeout = {(int)options.BusyTimeout.TotalMilliseconds}; PRAGMA foreign_keys = ON;";
            pragma.ExecuteNonQuery();
        }

        return new Lease(this, connection);
    }

    private void Return(Lease lease)
    {
        if (disposed == 0 && idle.Count < 16)
        {
            idle.Add(lease);
        }
        else
        {
            lease.Close();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            while (idle.TryTake(out var lease))
            {
                lease.Close();
            }

            startGate.Dispose();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Set(SqliteCommand cmd, string name, object? value)
    {
        if (cmd.Parameters.Contains(name))
        {
            cmd.Parameters[name].Value = value ?? DBNull.Value;
        }
    }

    /// <summary>A document from the columns customer, version, due_at, body, seq of a row, starting at
    /// <paramref name="at"/>.</summary>
    private static StoredDocument Document(SqliteDataReader reader, string collection, string key, int at) =>
        new(collection, key, Text(reader, at), reader.GetInt64(at + 1), Time(reader, at + 2), reader.GetString(at + 3), reader.GetInt64(at + 4));

    private static string? Text(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static Instant? Time(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : Instant.FromUnixTimeTicks(reader.GetInt64(i));

    /// <summary>An open connection with its prepared statements, rented by one operation at a time.</summary>
    internal sealed class Lease(SqliteDocumentBackend owner, SqliteConnection connection) : IDisposable
    {
        private readonly Dictionary<string, SqliteCommand> commands = new(StringComparer.Ordinal);

        public SqliteConnection Connection => connection;

        /// <summary>A prepared command for <paramref name="sql"/> with a parameter per <c>$name</c> it uses.</summary>
        public SqliteCommand Command(string sql)
        {
            if (!commands.TryGetValue(sql, out var cmd))
            {
                cmd = connection.CreateCommand();
                cmd.CommandText = sql;
                foreach (var name in ParameterNames(sql))
                {
                    cmd.Parameters.Add(new SqliteParameter(name, DBNull.Value));
                }

                cmd.Prepare();
                commands[sql] = cmd;
            }

            cmd.Transaction = current;
            return cmd;
        }

        private SqliteTransaction? current;

        /// <summary>Runs <paramref name="work"/> in a <c>BEGIN IMMEDIATE</c> transaction (the write lock is taken up
        /// front, so two writers never deadlock upgrading a read lock); rolls back on any exception.</summary>
        public async ValueTask InTransactionAsync(Action work, CancellationToken cancellationToken)
        {
            current = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
            try
            {
                work();
                await current.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await current.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }
            finally
            {
                await current.DisposeAsync().ConfigureAwait(false);
                current = null;
            }
        }

        public void Dispose() => owner.Return(this);

        public void Close()
        {
            foreach (var cmd in commands.Values)
            {
                cmd.Dispose();
            }

            commands.Clear();
            connection.Dispose();
        }

        private static IEnumerable<string> ParameterNames(string sql)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < sql.Length; i++)
            {
                if (sql[i] != '$')
                {
                    continue;
                }

                var j = i + 1;
                while (j < sql.Length && (char.IsLetterOrDigit(sql[j]) || sql[j] == '_'))
                {
                    j++;
                }

                var name = sql[i..j];
                if (name.Length > 1 && seen.Add(name))
                {
                    yield return name;
                }

                i = j - 1;
            }
        }
    }
}
