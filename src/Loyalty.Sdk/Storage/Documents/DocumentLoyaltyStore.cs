using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NodaTime;

namespace Loyalty.Sdk.Storage.Documents;

/// <summary>
/// An <see cref="ILoyaltyStore"/> over any <see cref="IDocumentBackend"/>: it implements every capability's repository
/// as versioned JSON documents, entry streams and counters. A session reads through to the backend (with
/// read-your-own-writes), buffers its writes and hands them to the backend as one change set on commit; every document
/// it writes is checked against the version it read, so concurrent sessions, in this process or another, never
/// overwrite each other: the later commit fails with <see cref="Validation.ConcurrencyConflictException"/> and applies
/// nothing, and the engine retries it.
/// </summary>
public sealed class DocumentLoyaltyStore : ILoyaltyStore, IAsyncDisposable
{
    private readonly IDocumentBackend backend;

    /// <summary>Creates a store over <paramref name="backend"/>.</summary>
    public DocumentLoyaltyStore(IDocumentBackend backend) => this.backend = backend ?? throw new ArgumentNullException(nameof(backend));

    /// <summary>The backend.</summary>
    public IDocumentBackend Backend => backend;

    /// <inheritdoc />
    public IOutboxStore Outbox => backend.Outbox;

    /// <inheritdoc />
    public ValueTask<ILoyaltyStoreSession> OpenSessionAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        if (tenant.Value is null)
        {
            throw new ArgumentException("A tenant is required.", nameof(tenant));
        }

        return ValueTask.FromResult<ILoyaltyStoreSession>(new DocumentSession(tenant, backend));
    }

    /// <summary>Disposes the backend (idempotent).</summary>
    public ValueTask DisposeAsync() => backend is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>Collection, stream and counter names (one place, so that a backend's data can be read by people).</summary>
internal static class Names
{
    public const char Separator = '\u001f';

    public static string Join(string a, string b) => string.Concat(a, Separator.ToString(), b);

    public static string Join(string a, string b, string c) => string.Concat(a, Separator.ToString(), b, Separator.ToString(), c);

    public static string[] Split(string key) => key.Split(Separator);
}

/// <summary>The unit of work of <see cref="DocumentLoyaltyStore"/>: tracked documents, buffered appends and counters.</summary>
internal sealed partial class DocumentSession(TenantId tenant, IDocumentBackend backend) : ILoyaltyStoreSession
{
    private readonly Dictionary<(string Collection, string Key), Tracked> tracked = [];
    private readonly List<Tracked> writeOrder = [];
    private readonly List<PendingEntry> appends = [];
    private readonly List<EntryChange> entryChanges = [];
    private readonly Dictionary<(string Group, string Key), long> counters = [];
    private readonly Dictionary<string, OutboxMessage> outbox = new(StringComparer.Ordinal);
    private readonly List<CustomerId> outboxCancellations = [];
    private readonly Dictionary<string, string> outboxCompletions = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Collection, string Key), long?> keptSequences = [];
    private bool disposed;

    public TenantId Tenant => tenant;

    public IDocumentBackend Backend => backend;

    public async ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        BeforeCommit();
        var changes = new DocumentChangeSet();
        foreach (var t in writeOrder)
        {
            var w = t.Write!;
            var body = t.Value is null ? null : w.Serialize(t.Value);
            changes.Documents.Add(new DocumentWrite(t.Collection, t.Key, w.Customer(t.Value), t.Value is null ? null : w.DueAt(t.Value), body, w.Expected, w.NewVersion, keptSequences.GetValueOrDefault((t.Collection, t.Key))));
        }

        changes.EntryChanges.AddRange(entryChanges);
        foreach (var a in appends)
        {
            changes.Appends.Add(new EntryAppend(a.Stream, a.Customer, a.At, a.Serialize()));
        }

        foreach (var ((group, key), delta) in counters)
        {
            if (delta != 0)
            {
                changes.Counters.Add(new CounterDelta(group, key, delta));
            }
        }

        changes.OutboxCancellations.AddRange(outboxCancellations);
        changes.Outbox.AddRange(outbox.Values);
        changes.OutboxCompletions.AddRange(outboxCompletions.Select(c => new OutboxCompletion(c.Key, c.Value)));
        if (!changes.IsEmpty)
        {
            await backend.CommitAsync(tenant, changes, cancellationToken).ConfigureAwait(false);
        }

        Clear();
    }

    public ValueTask DisposeAsync()
    {
        disposed = true;
        Clear();
        return ValueTask.CompletedTask;
    }

    private void Clear()
    {
        tracked.Clear();
        writeOrder.Clear();
        appends.Clear();
        entryChanges.Clear();
        counters.Clear();
        outbox.Clear();
        outboxCancellations.Clear();
        outboxCompletions.Clear();
        keptSequences.Clear();
        ClearParts();
    }

    private void ClearParts()
    {
        ledgerStamps.Clear();
        segmentOriginals.Clear();
        consentSequence = -1;
    }

    private void BeforeCommit()
    {
        TrackSegmentChanges();
        StampLedgerStates();
    }

    // ---------------------------------------------------------------- documents

    /// <summary>Loads a document (once per session; later loads return the same object, including after a write).</summary>
    internal async ValueTask<T?> LoadAsync<T>(string collection, string key, JsonTypeInfo<T> info, CancellationToken cancellationToken)
        where T : class
    {
        var t = await TrackAsync(collection, key, cancellationToken).ConfigureAwait(false);
        if (t.Value is null && t.Write is null && t.Stored is { } stored)
        {
            t.Value = JsonSerializer.Deserialize(stored.Body, info);
        }

        return (T?)t.Value;
    }

    /// <summary>The version of a document as this session sees it: the stored version it read (0 if none), or the
    /// version its own pending write will have.</summary>
    internal async ValueTask<long> VersionAsync(string collection, string key, CancellationToken cancellationToken)
    {
        var t = await TrackAsync(collection, key, cancellationToken).ConfigureAwait(false);
        return t.Write is { } w ? w.NewVersion : t.Stored?.Version ?? 0;
    }

    /// <summary>Buffers a versioned write: <paramref name="expectedVersion"/> is what the caller read (the first
    /// expectation of the session wins when a document is written twice).</summary>
    internal void Put<T>(string collection, string key, T? value, long expectedVersion, JsonTypeInfo<T> info, Func<T, string?>? customer = null, Func<T, Instant?>? dueAt = null)
        where T : class =>
        PutCore(collection, key, value, expectedVersion, expectedVersion + 1, info, customer, dueAt);

    /// <summary>Buffers a write checked against the version this session read (read first if it did not).</summary>
    internal async ValueTask PutReadAsync<T>(string collection, string key, T? value, JsonTypeInfo<T> info, Func<T, string?>? customer, CancellationToken cancellationToken, Func<T, Instant?>? dueAt = null)
        where T : class
    {
        var t = await TrackAsync(collection, key, cancellationToken).ConfigureAwait(false);
        var expected = t.Write?.Expected ?? t.Stored?.Version ?? 0;
        var current = t.Write?.NewVersion ?? t.Stored?.Version ?? 0;
        PutCore(collection, key, value, expected, current + 1, info, customer, dueAt);
    }

    /// <summary>The insertion sequence of a document this session read (null if it did not, or there is none).</summary>
    internal long? StoredSequence(string collection, string key) => tracked.TryGetValue((collection, key), out var t) ? t.Stored?.Sequence : null;

    /// <summary>Makes a new document take <paramref name="sequence"/> as its insertion sequence (see
    /// <see cref="DocumentWrite.Sequence"/>).</summary>
    internal void KeepSequence(string collection, string key, long? sequence) => keptSequences[(collection, key)] = sequence;

    /// <summary>Buffers an unconditional write (last writer wins: for records nobody reads back to update).</summary>
    internal void PutBlind<T>(string collection, string key, T? value, JsonTypeInfo<T> info, Func<T, string?>? customer = null)
        where T : class =>
        PutCore(collection, key, value, null, 0, info, customer, null);

    private void PutCore<T>(string collection, string key, T? value, long? expected, long newVersion, JsonTypeInfo<T> info, Func<T, string?>? customer, Func<T, Instant?>? dueAt)
        where T : class
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!tracked.TryGetValue((collection, key), out var t))
        {
            tracked[(collection, key)] = t = new Tracked(collection, key) { Loaded = false };
        }

        if (t.Write is null)
        {
            writeOrder.Add(t);
        }

        t.Write = new PendingWrite(
            t.Write is null ? expected : t.Write.Expected,
            newVersion,
            v => JsonSerializer.Serialize((T)v, info),
            v => v is T typed && customer is not null ? customer(typed) : null,
            v => v is T typed && dueAt is not null ? dueAt(typed) : null);
        t.Value = value;
    }

    private async ValueTask<Tracked> TrackAsync(string collection, string key, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!tracked.TryGetValue((collection, key), out var t))
        {
            tracked[(collection, key)] = t = new Tracked(collection, key);
        }

        if (!t.Loaded && t.Write is null)
        {
            t.Stored = await backend.GetAsync(tenant, collection, key, cancellationToken).ConfigureAwait(false);
            t.Loaded = true;
        }

        return t;
    }

    /// <summary>Documents of a query as this session sees them: stored ones overlaid with the session's writes.</summary>
    internal async ValueTask<IReadOnlyList<(string Key, T Value)>> QueryAsync<T>(DocumentQuery query, JsonTypeInfo<T> info, CancellationToken cancellationToken)
        where T : class =>
        [.. (await QueryWithSequenceAsync(query, info, cancellationToken).ConfigureAwait(false)).Select(r => (r.Key, r.Value))];

    /// <summary><see cref="QueryAsync{T}"/> with each document's insertion sequence (the session's new documents come
    /// last, as <see cref="long.MaxValue"/>).</summary>
    internal async ValueTask<IReadOnlyList<(string Key, T Value, long Sequence)>> QueryWithSequenceAsync<T>(DocumentQuery query, JsonTypeInfo<T> info, CancellationToken cancellationToken)
        where T : class
    {
        var pending = writeOrder.Where(t => t.Collection == query.Collection && Matches(query, t)).ToList();
        var fetch = pending.Count == 0 ? query : query with { Skip = 0, Take = query.Take == int.MaxValue ? int.MaxValue : query.Skip + query.Take + pending.Count };
        var stored = await backend.QueryAsync(tenant, fetch, cancellationToken).ConfigureAwait(false);
        var result = new List<(string Key, T Value, Instant? Due, long Sequence)>(stored.Count + pending.Count);
        foreach (var doc in stored)
        {
            if (tracked.TryGetValue((doc.Collection, doc.Key), out var t) && t.Write is not null)
            {
                continue; // the session's own version is added below
            }

            var value = tracked.TryGetValue((doc.Collection, doc.Key), out var seen) && seen.Value is T known && seen.Stored?.Version == doc.Version
                ? known
                : JsonSerializer.Deserialize(doc.Body, info)!;
            result.Add((doc.Key, value, doc.DueAt, doc.Sequence));
        }

        if (pending.Count == 0)
        {
            return [.. result.Select(r => (r.Key, r.Value, r.Sequence))];
        }

        foreach (var t in pending)
        {
            if (t.Value is T value)
            {
                result.Add((t.Key, value, t.Write!.DueAt(value), t.Stored?.Sequence ?? long.MaxValue));
            }
        }

        IEnumerable<(string Key, T Value, Instant? Due, long Sequence)> ordered = query.Order switch
        {
            DocumentOrder.Key => result.OrderBy(r => r.Key, StringComparer.Ordinal),
            DocumentOrder.Due => result.Where(r => r.Due is { } d && d <= query.DueAtOrBefore).OrderBy(r => r.Due).ThenBy(r => r.Key, StringComparer.Ordinal),
            _ => result.OrderBy(r => r.Sequence),
        };
        return [.. ordered.Skip(query.Skip).Take(query.Take).Select(r => (r.Key, r.Value, r.Sequence))];
    }

    private static bool Matches(DocumentQuery query, Tracked t)
    {
        if (query.KeyPrefix is { } prefix && !t.Key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        if (query.Customer is { } customer && t.Value is not null && !string.Equals(t.Write!.Customer(t.Value), customer, StringComparison.Ordinal)
            && !string.Equals(t.Stored?.Customer, customer, StringComparison.Ordinal))
        {
            return false;
        }

        return true;
    }

    // ---------------------------------------------------------------- entries, counters

    internal void Append<T>(string stream, string? customer, Instant at, T value, JsonTypeInfo<T> info)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        appends.Add(new PendingEntry(stream, customer, at, value!, () => JsonSerializer.Serialize(value, info)));
    }

    internal IEnumerable<PendingEntry> PendingEntries(string stream) => appends.Where(a => a.Stream == stream);

    internal void RemovePendingEntries(Predicate<PendingEntry> match) => appends.RemoveAll(match);

    internal void ChangeEntry(EntryChange change)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        entryChanges.Add(change);
    }

    /// <summary>Entries of a stream as this session sees them (stored, then the session's appends).</summary>
    internal async ValueTask<IReadOnlyList<T>> ReadEntriesAsync<T>(EntryQuery query, JsonTypeInfo<T> info, CancellationToken cancellationToken)
    {
        var pending = appends.Where(a => a.Stream == query.Stream
            && (query.Customer is null || a.Customer == query.Customer)
            && (query.From is null || a.At >= query.From) && (query.To is null || a.At < query.To)).ToList();
        var fetch = pending.Count == 0 ? query : query with { Skip = 0, Take = query.Take == int.MaxValue ? int.MaxValue : query.Skip + query.Take };
        var stored = await backend.ReadEntriesAsync(tenant, fetch, cancellationToken).ConfigureAwait(false);
        var all = stored.Select(e => JsonSerializer.Deserialize(e.Body, info)!);
        if (pending.Count == 0)
        {
            return [.. all];
        }

        return [.. all.Concat(pending.Select(p => (T)p.Value)).Skip(query.Skip).Take(query.Take)];
    }

    internal void Count(string group, string key, long delta)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        counters[(group, key)] = counters.GetValueOrDefault((group, key)) + delta;
    }

    /// <summary>Counters of a group as this session sees them (stored plus the session's increments).</summary>
    internal async ValueTask<Dictionary<string, long>> ReadCountersAsync(string group, CancellationToken cancellationToken)
    {
        var stored = await backend.ReadCountersAsync(tenant, group, cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, long>(stored, StringComparer.Ordinal);
        foreach (var ((g, key), delta) in counters)
        {
            if (g == group)
            {
                result[key] = result.GetValueOrDefault(key) + delta;
            }
        }

        return result;
    }

    /// <summary>A tracked document: what was read and what the session will write.</summary>
    private sealed class Tracked(string collection, string key)
    {
        public string Collection { get; } = collection;

        public string Key { get; } = key;

        public bool Loaded { get; set; }

        public StoredDocument? Stored { get; set; }

        public object? Value { get; set; }

        public PendingWrite? Write { get; set; }
    }

    private sealed record PendingWrite(long? Expected, long NewVersion, Func<object, string> Serialize, Func<object?, string?> Customer, Func<object?, Instant?> DueAt);

    internal sealed record PendingEntry(string Stream, string? Customer, Instant At, object Value, Func<string> Serialize);
}
