using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using NodaTime;

namespace Loyalty.Sdk.Sqlite;

/// <summary>The SQLite outbox: claims are taken in a write transaction, so dispatchers in several processes sharing the
/// file never hold the same message; an expired lease makes a message claimable again.</summary>
internal sealed class SqliteOutboxStore(SqliteDocumentBackend backend) : IOutboxStore
{
    public async ValueTask<IReadOnlyList<OutboxClaim>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        var claims = new List<OutboxClaim>();
        using var l = await backend.RentAsync(cancellationToken).ConfigureAwait(false);
        await l.InTransactionAsync(
            () =>
            {
                var select = l.Command("SELECT seq, attempts, due_at, body FROM loyalty_outbox WHERE done = 0 AND due_at <= $now AND (owner IS NULL OR lease_until <= $now) ORDER BY due_at, key LIMIT $max");
                select.Parameters["$now"].Value = now.ToUnixTimeTicks();
                select.Parameters["$max"].Value = max;
                var rows = new List<(long Seq, int Attempts, Instant DueAt, string Body)>();
                using (var reader = select.ExecuteReader())
                {
                    while (reader.Read())
                    {
                        rows.Add((reader.GetInt64(0), reader.GetInt32(1), Instant.FromUnixTimeTicks(reader.GetInt64(2)), reader.GetString(3)));
                    }
                }

                var until = now + lease;
                var update = l.Command("UPDATE loyalty_outbox SET owner = $o, lease_until = $u, attempts = attempts + 1 WHERE seq = $s");
                foreach (var r in rows)
                {
                    update.Parameters["$o"].Value = owner;
                    update.Parameters["$u"].Value = until.ToUnixTimeTicks();
                    update.Parameters["$s"].Value = r.Seq;
                    update.ExecuteNonQuery();
                    var message = OutboxMessageJson.Deserialize(r.Body) with { Attempts = r.Attempts + 1, DueAt = r.DueAt };
                    claims.Add(new OutboxClaim(message, until, owner));
                }
            },
            cancellationToken).ConfigureAwait(false);
        return claims;
    }

    public async ValueTask CompleteAsync(TenantId tenant, string key, string owner, CancellationToken cancellationToken = default)
    {
        using var l = await backend.RentAsync(cancellationToken).ConfigureAwait(false);
        await l.InTransactionAsync(
            () =>
            {
                Owned(l, tenant, key, owner);
                var cmd = l.Command("UPDATE loyalty_outbox SET done = 1, owner = NULL, lease_until = NULL WHERE tenant = $t AND key = $k");
                cmd.Parameters["$t"].Value = tenant.Value;
                cmd.Parameters["$k"].Value = key;
                cmd.ExecuteNonQuery();
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask RetryAsync(TenantId tenant, string key, string owner, Instant retryAt, CancellationToken cancellationToken = default)
    {
        using var l = await backend.RentAsync(cancellationToken).ConfigureAwait(false);
        await l.InTransactionAsync(
            () =>
            {
                Owned(l, tenant, key, owner);
                var cmd = l.Command("UPDATE loyalty_outbox SET owner = NULL, lease_until = NULL, due_at = $d WHERE tenant = $t AND key = $k");
                cmd.Parameters["$t"].Value = tenant.Value;
                cmd.Parameters["$k"].Value = key;
                cmd.Parameters["$d"].Value = retryAt.ToUnixTimeTicks();
                cmd.ExecuteNonQuery();
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<int> CountPendingAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        using var l = await backend.RentAsync(cancellationToken).ConfigureAwait(false);
        var cmd = l.Command("SELECT count(*) FROM loyalty_outbox WHERE tenant = $t AND done = 0");
        cmd.Parameters["$t"].Value = tenant.Value;
        return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Owned(SqliteDocumentBackend.Lease l, TenantId tenant, string key, string owner)
    {
        var cmd = l.Command("SELECT owner, done FROM loyalty_outbox WHERE tenant = $t AND key = $k");
        cmd.Parameters["$t"].Value = tenant.Value;
        cmd.Parameters["$k"].Value = key;
        using var reader = cmd.ExecuteReader();
        if (!reader.Read())
        {
            throw new KeyNotFoundException($"No outbox message has key '{key}'.");
        }

        if (reader.IsDBNull(0) || reader.GetString(0) != owner || reader.GetInt64(1) != 0)
        {
            throw new InvalidOperationException($"Outbox message '{key}' is not claimed by '{owner}'.");
        }
    }
}
