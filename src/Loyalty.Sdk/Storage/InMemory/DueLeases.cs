using NodaTime;

namespace Loyalty.Sdk.Storage.InMemory;

/// <summary>
/// Leases on the due work of one collection of one tenant (ledger states, segment states, journey instances), so that
/// workers sharing one in-memory store claim disjoint work as they would against a database. Used under the tenant's
/// gate (one session at a time), so it needs no lock of its own.
/// </summary>
/// <typeparam name="TKey">The key of a due item.</typeparam>
internal sealed class DueLeases<TKey>
    where TKey : notnull
{
    private readonly Dictionary<TKey, (string Owner, Instant Until)> leases = [];

    /// <summary>Leases held (live or lapsed but not yet ended by a write).</summary>
    public int Count => leases.Count;

    /// <summary>Leases up to <paramref name="max"/> of <paramref name="due"/> (earliest first) to <paramref name="owner"/>,
    /// skipping those another owner holds a live lease on.</summary>
    public List<TKey> Claim(IEnumerable<TKey> due, int max, string owner, Instant now, Instant until)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        if (leases.Count > 1024)
        {
            // Leases whose item was never written (skipped work, a crashed worker) are dropped once they lapse.
            foreach (var (key, held) in leases)
            {
                if (held.Until <= now)
                {
                    leases.Remove(key);
                }
            }
        }

        var claimed = new List<TKey>();
        foreach (var key in due)
        {
            if (claimed.Count >= max)
            {
                break;
            }

            if (leases.TryGetValue(key, out var held) && held.Until > now && !string.Equals(held.Owner, owner, StringComparison.Ordinal))
            {
                continue;
            }

            leases[key] = (owner, until);
            claimed.Add(key);
        }

        return claimed;
    }

    /// <summary>Ends the lease on <paramref name="key"/> (its item was written).</summary>
    public void End(TKey key) => leases.Remove(key);
}
