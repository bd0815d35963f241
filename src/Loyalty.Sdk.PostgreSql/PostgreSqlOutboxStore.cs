using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using NodaTime;
using Npgsql;
using NpgsqlTypes;
using static Loyalty.Sdk.PostgreSql.PostgreSqlDocumentBackend;

namespace Loyalty.Sdk.PostgreSql;

/// <summary>
/// The outbox as dispatchers see it. A claim is one statement: a CTE selects the due messages nobody holds a live lease
/// on, oldest due first, with <c>FOR UPDATE SKIP LOCKED</c>, and the UPDATE leases them and counts the attempt; so
/// dispatchers in several processes claim disjoint messages without waiting on each other, and a message whose lease
/// expired is claimable again. The columns (due time, attempts) are authoritative over the stored body.
/// </summary>
internal sealed class PostgreSqlOutboxStore(PostgreSqlDocumentBackend backend) : IOutboxStore
{
    private NpgsqlDataSource DataSource => backend.DataSource;

    private PostgreSqlStatements Sql => backend.Statements;

    public async ValueTask<IReadOnlyList<OutboxClaim>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        await backend.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var leaseUntil = now + lease;
        var command = DataSource.CreateCommand(Sql.ClaimOutbox);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Bigint(now.ToUnixTimeTicks()));
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (long)max });
        command.Parameters.Add(Text(owner));
        command.Parameters.Add(Bigint(leaseUntil.ToUnixTimeTicks()));
        var claimed = new List<(string Tenant, string Key, Instant DueAt, OutboxMessage Message)>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var dueAt = Instant.FromUnixTimeTicks(reader.GetInt64(2));
                var message = OutboxMessageJson.Deserialize(reader.GetString(4)) with { DueAt = dueAt, Attempts = reader.GetInt32(3) };
                claimed.Add((reader.GetString(0), reader.GetString(1), dueAt, message));
            }
        }

        // UPDATE ... RETURNING does not keep the CTE's order.
        return
        [
            .. claimed
                .OrderBy(c => c.DueAt)
                .ThenBy(c => c.Key, StringComparer.Ordinal)
                .ThenBy(c => c.Tenant, StringComparer.Ordinal)
                .Select(c => new OutboxClaim(c.Message, leaseUntil, owner)),
        ];
    }

    public async ValueTask CompleteAsync(TenantId tenant, string key, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(owner);
        await backend.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = DataSource.CreateCommand(Sql.CompleteOutbox);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(Text(key));
        command.Parameters.Add(Text(owner));
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            await ThrowNotOwnedAsync(tenant, key, owner, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask RetryAsync(TenantId tenant, string key, string owner, Instant retryAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(owner);
        await backend.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = DataSource.CreateCommand(Sql.RetryOutbox);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        command.Parameters.Add(Text(key));
        command.Parameters.Add(Text(owner));
        command.Parameters.Add(Bigint(retryAt.ToUnixTimeTicks()));
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            await ThrowNotOwnedAsync(tenant, key, owner, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<int> CountPendingAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        await backend.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = DataSource.CreateCommand(Sql.CountPendingOutbox);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Text(Tenant(tenant)));
        return checked((int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
    }

    /// <summary>Completion or retry changed nothing: say whether the message is missing or held by someone else.</summary>
    private async ValueTask ThrowNotOwnedAsync(TenantId tenant, string key, string owner, CancellationToken cancellationToken)
    {
        if (!await backend.OutboxContainsAsync(tenant, key, cancellationToken).ConfigureAwait(false))
        {
            throw new KeyNotFoundException($"No outbox message has key '{key}'.");
        }

        throw new InvalidOperationException($"Outbox message '{key}' is not claimed by '{owner}'.");
    }
}
