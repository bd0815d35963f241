using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Loyalty.Sdk.Storage.Documents;
using NodaTime;

namespace Loyalty.Sdk.Storage.Benchmarks;

/// <summary>
/// An <see cref="IDocumentBackend"/> that forwards to another and counts what the store asks of it: calls by kind (and
/// reads by collection), what the commits carry, and the wall time spent waiting for the backend. It costs two
/// timestamps and a few interlocked additions per call.
/// </summary>
public sealed class CountingBackend(IDocumentBackend inner) : IDocumentBackend, IAsyncDisposable
{
    /// <summary>The counts since the backend was created or <see cref="TakeCounts"/> was last called.</summary>
    public BackendCounts Counts { get; private set; } = new();

    /// <summary>Returns the counts so far and starts new ones (not thread-safe against calls in flight).</summary>
    public BackendCounts TakeCounts()
    {
        var taken = Counts;
        Counts = new BackendCounts();
        return taken;
    }

    /// <summary>The wrapped backend.</summary>
    public IDocumentBackend Inner => inner;

    /// <inheritdoc />
    public IOutboxStore Outbox => inner.Outbox;

    /// <inheritdoc />
    public async ValueTask<StoredDocument?> GetAsync(TenantId tenant, string collection, string key, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.GetAsync(tenant, collection, key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Counts.Call(BackendCall.Get, start, collection);
        }
    }

    /// <inheritdoc />
    public bool PrefersReadAhead => inner.PrefersReadAhead;

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredDocument>> GetManyAsync(TenantId tenant, IReadOnlyList<DocumentKey> keys, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.GetManyAsync(tenant, keys, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Counts.Call(BackendCall.GetMany, start, "(read-ahead)");
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredDocument>> ClaimDueAsync(TenantId tenant, string collection, Instant now, int max, string owner, Instant leaseUntil, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.ClaimDueAsync(tenant, collection, now, max, owner, leaseUntil, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Counts.Call(BackendCall.ClaimDue, start, collection);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredDocument>> QueryAsync(TenantId tenant, DocumentQuery query, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.QueryAsync(tenant, query, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Counts.Call(BackendCall.Query, start, query.Collection);
        }
    }

    /// <inheritdoc />
    public async ValueTask<long> CountAsync(TenantId tenant, string collection, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.CountAsync(tenant, collection, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Counts.Call(BackendCall.Count, start, collection);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StoredEntry>> ReadEntriesAsync(TenantId tenant, EntryQuery query, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.ReadEntriesAsync(tenant, query, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Counts.Call(BackendCall.ReadEntries, start, query.Stream);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<string, long>> ReadCountersAsync(TenantId tenant, string group, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.ReadCountersAsync(tenant, group, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Counts.Call(BackendCall.ReadCounters, start, group);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> OutboxContainsAsync(TenantId tenant, string key, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.OutboxContainsAsync(tenant, key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Counts.Call(BackendCall.OutboxContains, start, "outbox");
        }
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(TenantId tenant, DocumentChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        Counts.Commit(changes);
        var start = Stopwatch.GetTimestamp();
        try
        {
            await inner.CommitAsync(tenant, changes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Counts.Call(BackendCall.Commit, start, null);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>The kinds of <see cref="IDocumentBackend"/> calls.</summary>
public enum BackendCall
{
    /// <summary><see cref="IDocumentBackend.GetAsync"/>.</summary>
    Get,

    /// <summary><see cref="IDocumentBackend.QueryAsync"/>.</summary>
    Query,

    /// <summary><see cref="IDocumentBackend.CountAsync"/>.</summary>
    Count,

    /// <summary><see cref="IDocumentBackend.ReadEntriesAsync"/>.</summary>
    ReadEntries,

    /// <summary><see cref="IDocumentBackend.ReadCountersAsync"/>.</summary>
    ReadCounters,

    /// <summary><see cref="IDocumentBackend.OutboxContainsAsync"/>.</summary>
    OutboxContains,

    /// <summary><see cref="IDocumentBackend.GetManyAsync"/> (one call, however many keys).</summary>
    GetMany,

    /// <summary><see cref="IDocumentBackend.ClaimDueAsync"/>.</summary>
    ClaimDue,

    /// <summary><see cref="IDocumentBackend.CommitAsync"/>.</summary>
    Commit,
}

/// <summary>What a <see cref="CountingBackend"/> saw; can be added up over several backends.</summary>
public sealed class BackendCounts
{
    private const int Kinds = (int)BackendCall.Commit + 1;
    private readonly long[] calls = new long[Kinds];
    private readonly long[] ticks = new long[Kinds];
    private readonly ConcurrentDictionary<string, long> readsByCollection = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> bytesByCollection = new(StringComparer.Ordinal);
    private long documentWrites;
    private long inserts;
    private long bodyBytes;
    private long appends;
    private long counters;
    private long outbox;

    /// <summary>Calls of a kind.</summary>
    public long Calls(BackendCall kind) => Interlocked.Read(ref calls[(int)kind]);

    /// <summary>Wall time spent in calls of every kind.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, ticks.Sum());

    internal void Call(BackendCall kind, long start, string? collection)
    {
        Interlocked.Increment(ref calls[(int)kind]);
        Interlocked.Add(ref ticks[(int)kind], Stopwatch.GetTimestamp() - start);
        if (collection is not null)
        {
            readsByCollection.AddOrUpdate($"{kind} {collection}", 1, (_, n) => n + 1);
        }
    }

    internal void Commit(DocumentChangeSet changes)
    {
        Interlocked.Add(ref documentWrites, changes.Documents.Count);
        Interlocked.Add(ref inserts, changes.Documents.Count(d => d.ExpectedVersion == 0));
        Interlocked.Add(ref bodyBytes, changes.Documents.Sum(d => (long)(d.Body?.Length ?? 0)) + changes.Appends.Sum(a => (long)a.Body.Length));
        Interlocked.Add(ref appends, changes.Appends.Count);
        Interlocked.Add(ref counters, changes.Counters.Count);
        Interlocked.Add(ref outbox, changes.Outbox.Count);
        foreach (var d in changes.Documents)
        {
            bytesByCollection.AddOrUpdate(d.Collection, d.Body?.Length ?? 0, (_, n) => n + (d.Body?.Length ?? 0));
        }

        foreach (var a in changes.Appends)
        {
            bytesByCollection.AddOrUpdate(a.Stream, a.Body.Length, (_, n) => n + a.Body.Length);
        }
    }

    /// <summary>Adds <paramref name="other"/> to these counts.</summary>
    public void Add(BackendCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < Kinds; i++)
        {
            calls[i] += other.calls[i];
            ticks[i] += other.ticks[i];
        }

        foreach (var (key, n) in other.readsByCollection)
        {
            readsByCollection.AddOrUpdate(key, n, (_, m) => m + n);
        }

        foreach (var (key, n) in other.bytesByCollection)
        {
            bytesByCollection.AddOrUpdate(key, n, (_, m) => m + n);
        }

        documentWrites += other.documentWrites;
        inserts += other.inserts;
        bodyBytes += other.bodyBytes;
        appends += other.appends;
        counters += other.counters;
        outbox += other.outbox;
    }

    /// <summary>The counts per operation (event, posting), with the share of <paramref name="wall"/> spent in the backend.</summary>
    public string Describe(long operations, TimeSpan wall, string unit)
    {
        var ci = CultureInfo.InvariantCulture;
        double Per(long n) => (double)n / operations;
        var b = new StringBuilder();
        var reads = calls.Take(Kinds - 1).Sum();
        b.Append(ci, $"per {unit}: {Per(reads):0.00} reads (");
        b.AppendJoin(", ", readsByCollection.Where(kv => !kv.Key.StartsWith("Commit", StringComparison.Ordinal)).OrderByDescending(kv => kv.Value)
            .Select(kv => string.Create(ci, $"{kv.Key} {Per(kv.Value):0.00}")));
        b.Append(ci, $"), {Per(Calls(BackendCall.Commit)):0.00} commits carrying {Per(documentWrites):0.00} document writes ({Per(inserts):0.00} inserts), ");
        b.Append(ci, $"{Per(appends):0.00} entry appends, {Per(counters):0.00} counters, {Per(outbox):0.00} outbox messages, {Per(bodyBytes):N0} chars of JSON (");
        b.AppendJoin(", ", bytesByCollection.OrderByDescending(kv => kv.Value).Take(4).Select(kv => string.Create(ci, $"{kv.Key} {Per(kv.Value):N0}")));
        b.Append("); ");
        var readTicks = ticks.Take(Kinds - 1).Sum();
        var inBackend = Elapsed;
        b.Append(ci, $"time in the backend {inBackend.TotalMicroseconds / operations:N0} µs per {unit} ");
        b.Append(ci, $"(reads {Stopwatch.GetElapsedTime(0, readTicks).TotalMicroseconds / operations:N0} µs, commits {Stopwatch.GetElapsedTime(0, ticks[(int)BackendCall.Commit]).TotalMicroseconds / operations:N0} µs)");
        if (wall > TimeSpan.Zero)
        {
            b.Append(ci, $" of {wall.TotalMicroseconds / operations:N0} µs wall time ({inBackend / wall:P0})");
        }

        return b.ToString();
    }
}
