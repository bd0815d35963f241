using System.Text;
using Loyalty.Sdk.Storage.Documents;

namespace Loyalty.Sdk.PostgreSql;

/// <summary>
/// Every statement of the backend, built once per schema and prefix so that each SQL text is constant: Npgsql then
/// prepares the hot ones automatically (<c>Max Auto Prepare</c>) on every pooled connection. Parameters are positional
/// (<c>$1</c>), which also spares Npgsql from parsing the SQL. Statements whose filters vary (document queries, entry
/// reads) have one text per combination of filters rather than <c>($n IS NULL OR ...)</c> conditions, which would
/// defeat the indexes under generic plans.
/// </summary>
internal sealed class PostgreSqlStatements
{
    private readonly string[] documentQueries = new string[2 * 3 * 3];
    private readonly string[] entryReads = new string[2 * 2 * 2];

    public PostgreSqlStatements(string schema, string prefix)
    {
        Schema = schema;
        Prefix = prefix;
        Documents = Table("documents");
        Entries = Table("entries");
        Counters = Table("counters");
        Outbox = Table("outbox");
        Migrations = Table("migrations");
        var expect = $"\"{schema}\".\"{prefix}expect_rows\"";

        GetDocument = $"SELECT customer, version, due_at, body, seq FROM {Documents} WHERE tenant = $1 AND collection = $2 AND key = $3";
        // One primary-key probe per key: the LIMIT keeps the planner from flattening the lateral subquery into a hash
        // join that scans the whole table (which a generic plan for arrays of unknown length would choose), and the
        // keys from the arrays take the columns' collation, without which the primary key cannot be used.
        GetDocuments = $"""
            SELECT d.collection, d.key, d.customer, d.version, d.due_at, d.body, d.seq
            FROM unnest($2::text[], $3::text[]) AS k(collection, key)
            CROSS JOIN LATERAL (
                SELECT collection, key, customer, version, due_at, body, seq FROM {Documents}
                WHERE tenant = $1 AND collection = k.collection COLLATE "C" AND key = k.key COLLATE "C"
                LIMIT 1) d
            """;
        CountDocuments = $"SELECT count(*) FROM {Documents} WHERE tenant = $1 AND collection = $2";

        // Document writes: $1 tenant, $2 collection, $3 key, then as listed. Version-checked writes report the rows they
        // changed to expect_rows, which raises SQLSTATE LY001 (and so rolls the whole commit back) on a mismatch.
        InsertDocument = $"""
            WITH w AS (INSERT INTO {Documents} (tenant, collection, key, customer, version, due_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (tenant, collection, key) DO NOTHING RETURNING 1)
            SELECT {expect}((SELECT count(*) FROM w), 1, $2, $3)
            """;
        InsertDocumentAt = $"""
            WITH w AS (INSERT INTO {Documents} (tenant, collection, key, customer, version, due_at, body, seq) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (tenant, collection, key) DO NOTHING RETURNING 1)
            SELECT {expect}((SELECT count(*) FROM w), 1, $2, $3)
            """;
        // New documents in bulk: one statement for a run of inserts, numbered in the order given; every row must be
        // new, else expect_rows names the first that exists and the commit rolls back. $1 tenant, then arrays.
        InsertDocuments = $"""
            WITH u AS (
                SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[])
                    WITH ORDINALITY AS u(collection, key, customer, version, due_at, body, n)),
            w AS (
                INSERT INTO {Documents} (tenant, collection, key, customer, version, due_at, body)
                SELECT $1, u.collection, u.key, u.customer, u.version, u.due_at, u.body FROM u ORDER BY u.n
                ON CONFLICT (tenant, collection, key) DO NOTHING
                RETURNING collection, key),
            missing AS (
                SELECT u.collection, u.key FROM u
                WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.collection = u.collection COLLATE "C" AND w.key = u.key COLLATE "C")
                ORDER BY u.n LIMIT 1)
            SELECT {expect}((SELECT count(*) FROM w), (SELECT count(*) FROM u), (SELECT collection FROM missing), (SELECT key FROM missing))
            """;
        UpdateDocument = $"""
            WITH w AS (UPDATE {Documents} SET customer = $4, version = $5, due_at = $6, body = $7, lease_owner = NULL, lease_until = NULL
                WHERE tenant = $1 AND collection = $2 AND key = $3 AND version = $8 RETURNING 1)
            SELECT {expect}((SELECT count(*) FROM w), 1, $2, $3)
            """;
        DeleteDocument = $"""
            WITH w AS (DELETE FROM {Documents} WHERE tenant = $1 AND collection = $2 AND key = $3 AND version = $4 RETURNING 1)
            SELECT {expect}((SELECT count(*) FROM w), 1, $2, $3)
            """;
        ExpectNoDocument = $"SELECT {expect}((SELECT count(*) FROM {Documents} WHERE tenant = $1 AND collection = $2 AND key = $3), 0, $2, $3)";
        UpsertDocument = $"""
            INSERT INTO {Documents} AS d (tenant, collection, key, customer, version, due_at, body) VALUES ($1, $2, $3, $4, 1, $5, $6)
            ON CONFLICT (tenant, collection, key) DO UPDATE SET customer = excluded.customer, version = d.version + 1, due_at = excluded.due_at, body = excluded.body,
                lease_owner = NULL, lease_until = NULL
            """;
        // Due work claims (ledgers, segment states, journey instances): like the outbox claim, lock the due documents
        // nobody else holds a live lease on, skipping rows another claimer has locked, and lease them in the same
        // statement. $1 tenant, $2 collection, $3 now, $4 max, $5 owner, $6 lease until. Writes end leases (above).
        ClaimDocuments = $"""
            WITH due AS (
                SELECT tenant, collection, key FROM {Documents}
                WHERE tenant = $1 AND collection = $2 AND due_at IS NOT NULL AND due_at <= $3
                  AND (lease_until IS NULL OR lease_until <= $3 OR lease_owner = $5)
                ORDER BY due_at, key
                LIMIT $4
                FOR UPDATE SKIP LOCKED)
            UPDATE {Documents} AS d SET lease_owner = $5, lease_until = $6
            FROM due WHERE d.tenant = due.tenant AND d.collection = due.collection AND d.key = due.key
            RETURNING d.key, d.customer, d.version, d.due_at, d.body, d.seq
            """;
        DeleteDocumentUnconditionally = $"DELETE FROM {Documents} WHERE tenant = $1 AND collection = $2 AND key = $3";

        // Entries: appends as one statement whatever their number, numbered in the order given.
        AppendEntries = $"""
            INSERT INTO {Entries} (tenant, stream, customer, at, body)
            SELECT $1, u.stream, u.customer, u.at, u.body
            FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[]) WITH ORDINALITY AS u(stream, customer, at, body, n)
            ORDER BY u.n
            """;
        DeleteCustomerEntries = $"DELETE FROM {Entries} WHERE tenant = $1 AND stream = $2 AND customer = $3";
        DeleteUnownedEntries = $"DELETE FROM {Entries} WHERE tenant = $1 AND stream = $2 AND customer IS NULL";
        DeleteEntry = $"DELETE FROM {Entries} WHERE tenant = $1 AND stream = $2 AND seq = $3";
        UpdateEntry = $"UPDATE {Entries} SET customer = $4, body = $5 WHERE tenant = $1 AND stream = $2 AND seq = $3";

        // Counters: one statement for all increments (sorted by the caller, so that concurrent commits lock them in
        // the same order).
        AddCounters = $"""
            INSERT INTO {Counters} AS c (tenant, grp, key, value)
            SELECT $1, u.grp, u.key, u.delta FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(grp, key, delta)
            ON CONFLICT (tenant, grp, key) DO UPDATE SET value = c.value + excluded.value
            """;
        ReadCounters = $"SELECT key, value FROM {Counters} WHERE tenant = $1 AND grp = $2";

        // Outbox.
        EnqueueOutbox = $"""
            INSERT INTO {Outbox} (tenant, key, customer, due_at, attempts, body) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (tenant, key) DO NOTHING
            """;
        CancelOutbox = $"DELETE FROM {Outbox} WHERE tenant = $1 AND customer = $2";
        OutboxContains = $"SELECT EXISTS (SELECT 1 FROM {Outbox} WHERE tenant = $1 AND key = $2)";

        // Claims: lock the due rows nobody holds a live lease on, skipping rows another claimer has locked, and lease
        // them in the same statement. $1 now, $2 max, $3 owner, $4 lease until.
        ClaimOutbox = $"""
            WITH due AS (
                SELECT tenant, key FROM {Outbox}
                WHERE NOT done AND due_at <= $1 AND (owner IS NULL OR lease_until <= $1)
                ORDER BY due_at, key, tenant
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            UPDATE {Outbox} AS o SET owner = $3, lease_until = $4, attempts = o.attempts + 1
            FROM due WHERE o.tenant = due.tenant AND o.key = due.key
            RETURNING o.tenant, o.key, o.due_at, o.attempts, o.body
            """;
        CompleteOutbox = $"UPDATE {Outbox} SET done = true, lease_until = NULL WHERE tenant = $1 AND key = $2 AND owner = $3 AND NOT done";

        // A completion inside a commit: a message no longer claimed by the owner raises LY001 and rolls the commit back.
        CompleteOutboxChecked = $"""
            WITH w AS (UPDATE {Outbox} SET done = true, lease_until = NULL WHERE tenant = $1 AND key = $2 AND owner = $3 AND NOT done RETURNING 1)
            SELECT {expect}((SELECT count(*) FROM w), 1, 'outbox', $2)
            """;
        RetryOutbox = $"UPDATE {Outbox} SET owner = NULL, lease_until = NULL, due_at = $4 WHERE tenant = $1 AND key = $2 AND owner = $3 AND NOT done";
        CountPendingOutbox = $"SELECT count(*) FROM {Outbox} WHERE tenant = $1 AND NOT done";
    }

    public string Schema { get; }

    public string Prefix { get; }

    public string Documents { get; }

    public string Entries { get; }

    public string Counters { get; }

    public string Outbox { get; }

    public string Migrations { get; }

    public string GetDocument { get; }

    /// <summary>Documents by (collection, key) arrays, one round trip.</summary>
    public string GetDocuments { get; }

    public string CountDocuments { get; }

    public string InsertDocument { get; }

    /// <summary>Inserts a document with a given insertion sequence (a re-keyed record keeping its place).</summary>
    public string InsertDocumentAt { get; }

    public string UpdateDocument { get; }

    /// <summary>Inserts a run of new documents in one statement.</summary>
    public string InsertDocuments { get; }

    /// <summary>Claims due documents of a collection with leases (SKIP LOCKED).</summary>
    public string ClaimDocuments { get; }

    public string DeleteDocument { get; }

    public string ExpectNoDocument { get; }

    public string UpsertDocument { get; }

    public string DeleteDocumentUnconditionally { get; }

    public string AppendEntries { get; }

    public string DeleteCustomerEntries { get; }

    public string DeleteUnownedEntries { get; }

    public string DeleteEntry { get; }

    public string UpdateEntry { get; }

    public string AddCounters { get; }

    public string ReadCounters { get; }

    public string EnqueueOutbox { get; }

    public string CancelOutbox { get; }

    public string OutboxContains { get; }

    public string ClaimOutbox { get; }

    public string CompleteOutbox { get; }

    public string CompleteOutboxChecked { get; }

    public string RetryOutbox { get; }

    public string CountPendingOutbox { get; }

    /// <summary>The query of documents for one combination of filters. Parameters: $1 tenant, $2 collection, then the
    /// customer, the key range (lower, then upper when there is one), the due bound, and last the limit and offset, each
    /// only when present.</summary>
    /// <param name="customer">Whether the query filters by customer.</param>
    /// <param name="prefix">0: no key prefix; 1: a key range with a lower and an upper bound; 2: a prefix with no upper
    /// bound (it ends with U+10FFFF), matched with <c>starts_with</c>.</param>
    /// <param name="order">The order.</param>
    public string DocumentQuery(bool customer, int prefix, DocumentOrder order)
    {
        var index = ((customer ? 1 : 0) * 3 + prefix) * 3 + (int)order;
        return documentQueries[index] ??= BuildDocumentQuery(customer, prefix, order);
    }

    /// <summary>The read of entries for one combination of filters. Parameters: $1 tenant, $2 stream, then the
    /// customer, from and to, each only when present, and last the limit and offset.</summary>
    public string EntryRead(bool customer, bool from, bool to)
    {
        var index = (customer ? 4 : 0) + (from ? 2 : 0) + (to ? 1 : 0);
        return entryReads[index] ??= BuildEntryRead(customer, from, to);
    }

    private string BuildDocumentQuery(bool customer, int prefix, DocumentOrder order)
    {
        var sql = new StringBuilder($"SELECT key, customer, version, due_at, body, seq FROM {Documents} WHERE tenant = $1 AND collection = $2");
        var n = 2;
        if (customer)
        {
            sql.Append($" AND customer = ${++n}");
        }

        if (prefix == 1)
        {
            sql.Append($" AND key >= ${++n} AND key < ${++n}");
        }
        else if (prefix == 2)
        {
            sql.Append($" AND key >= ${++n} AND starts_with(key, ${n})");
        }

        sql.Append(order switch
        {
            DocumentOrder.Key => " ORDER BY key",
            DocumentOrder.Due => $" AND due_at IS NOT NULL AND due_at <= ${++n} ORDER BY due_at, key",
            _ => " ORDER BY seq",
        });
        sql.Append($" LIMIT ${++n} OFFSET ${++n}");
        return sql.ToString();
    }

    private string BuildEntryRead(bool customer, bool from, bool to)
    {
        var sql = new StringBuilder($"SELECT seq, customer, at, body FROM {Entries} WHERE tenant = $1 AND stream = $2");
        var n = 2;
        if (customer)
        {
            sql.Append($" AND customer = ${++n}");
        }

        if (from)
        {
            sql.Append($" AND at >= ${++n}");
        }

        if (to)
        {
            sql.Append($" AND at < ${++n}");
        }

        sql.Append($" ORDER BY seq LIMIT ${++n} OFFSET ${++n}");
        return sql.ToString();
    }

    private string Table(string name) => $"\"{Schema}\".\"{Prefix}{name}\"";
}
