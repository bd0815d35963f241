using NodaTime;

namespace Loyalty.Sdk.Storage.InMemory;

/// <summary>The in-memory outbox: claims with leases, completion by the lease owner, retries.</summary>
internal sealed class InMemoryOutboxStore(InMemoryLoyaltyStore store) : IOutboxStore
{
    public ValueTask<IReadOnlyList<OutboxClaim>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        var due = new List<(TenantId Tenant, InMemoryLoyaltyStore.TenantData Data, Entry Entry)>();
        foreach (var (tenant, data) in store.AllTenants())
        {
            lock (data.OutboxLock)
            {
                due.AddRange(data.Outbox.Values
                    .Where(e => !e.Done && e.Message.DueAt <= now && (e.Owner is null || e.LeaseUntil <= now))
                    .Select(e => (tenant, data, e)));
            }
        }

        var claims = new List<OutboxClaim>();
        foreach (var (_, data, entry) in due.OrderBy(d => d.Entry.Message.DueAt).ThenBy(d => d.Entry.Message.Key, StringComparer.Ordinal))
        {
            if (claims.Count == max)
            {
                break;
            }

            lock (data.OutboxLock)
            {
                // Re-check under the lock: another dispatcher may have claimed it meanwhile.
                if (entry.Done || (entry.Owner is not null && entry.LeaseUntil > now))
                {
                    continue;
                }

                entry.Owner = owner;
                entry.LeaseUntil = now + lease;
                entry.Message = entry.Message with { Attempts = entry.Message.Attempts + 1 };
                claims.Add(new OutboxClaim(entry.Message, entry.LeaseUntil, owner));
            }
        }

        return ValueTask.FromResult<IReadOnlyList<OutboxClaim>>(claims);
    }

    public ValueTask CompleteAsync(TenantId tenant, string key, string owner, CancellationToken cancellationToken = default)
    {
        var data = store.Data(tenant);
        lock (data.OutboxLock)
        {
            var entry = Owned(data, key, owner);
            entry.Done = true;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask RetryAsync(TenantId tenant, string key, string owner, Instant retryAt, CancellationToken cancellationToken = default)
    {
        var data = store.Data(tenant);
        lock (data.OutboxLock)
        {
            var entry = Owned(data, key, owner);
            entry.Owner = null;
            entry.Message = entry.Message with { DueAt = retryAt };
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<int> CountPendingAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        var data = store.Data(tenant);
        lock (data.OutboxLock)
        {
            return ValueTask.FromResult(data.Outbox.Values.Count(e => !e.Done));
        }
    }

    private static Entry Owned(InMemoryLoyaltyStore.TenantData data, string key, string owner)
    {
        if (!data.Outbox.TryGetValue(key, out var entry))
        {
            throw new KeyNotFoundException($"No outbox message has key '{key}'.");
        }

        if (entry.Owner != owner || entry.Done)
        {
            throw new InvalidOperationException($"Outbox message '{key}' is not claimed by '{owner}'.");
        }

        return entry;
    }

    internal sealed class Entry(OutboxMessage message)
    {
        public OutboxMessage Message { get; set; } = message;

        public string? Owner { get; set; }

        public Instant LeaseUntil { get; set; }

        public bool Done { get; set; }
    }
}
