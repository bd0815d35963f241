using NodaTime;

namespace Loyalty.Sdk.Storage.Documents;

/// <summary>
/// The small contract a database implements to become a full <see cref="ILoyaltyStore"/> through
/// <see cref="DocumentLoyaltyStore"/>: versioned JSON documents, append-only entry streams, counters and an outbox, all
/// keyed by tenant (and by customer where there is one). SQLite and PostgreSQL ship as backends; an adapter for another
/// database implements this (about a dozen methods) instead of every capability's repository, then runs the conformance
/// kit (<c>Loyalty.Sdk.Testing</c>). See <c>docs/adapters.md</c>.
/// </summary>
/// <remarks>
/// Reads see committed data (read committed is enough: every write is checked against the version that was read).
/// <see cref="CommitAsync"/> applies a whole <see cref="DocumentChangeSet"/> in one transaction, or nothing.
/// </remarks>
public interface IDocumentBackend
{
    /// <summary>The outbox as dispatchers see it (claims with leases). Messages are written by <see cref="CommitAsync"/>.</summary>
    IOutboxStore Outbox { get; }

    /// <summary>One document, or null when there is none.</summary>
    ValueTask<StoredDocument?> GetAsync(TenantId tenant, string collection, string key, CancellationToken cancellationToken = default);

    /// <summary>Whether reads cost a network round trip each, so that sessions should read ahead what a unit of work
    /// will read (with <see cref="GetManyAsync"/>). False by default: an embedded database reads a document in
    /// microseconds, and reading ahead would only read more.</summary>
    bool PrefersReadAhead => false;

    /// <summary>
    /// Several documents by key at once: the ones that exist, in any order. The SDK prefetches what a batch of events
    /// will read with it, so a backend whose reads are network round trips should answer it in one (the default reads
    /// them one by one with <see cref="GetAsync"/>).
    /// </summary>
    async ValueTask<IReadOnlyList<StoredDocument>> GetManyAsync(TenantId tenant, IReadOnlyList<DocumentKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new List<StoredDocument>(keys.Count);
        foreach (var key in keys)
        {
            if (await GetAsync(tenant, key.Collection, key.Key, cancellationToken).ConfigureAwait(false) is { } document)
            {
                found.Add(document);
            }
        }

        return found;
    }

    /// <summary>Documents of one collection matching <paramref name="query"/>, in the query's order, paged.</summary>
    ValueTask<IReadOnlyList<StoredDocument>> QueryAsync(TenantId tenant, DocumentQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims due work: documents of <paramref name="collection"/> due at or before <paramref name="now"/> that no other
    /// owner holds a live lease on (a lease ending after <paramref name="now"/>), earliest due first, at most
    /// <paramref name="max"/>, and leases them to <paramref name="owner"/> until <paramref name="leaseUntil"/>. The claim
    /// takes effect at once, outside any change set. Claims made concurrently by different owners return disjoint
    /// documents and never wait for each other; an owner may claim its own leased documents again. A write of a document
    /// by <see cref="CommitAsync"/> ends its lease; a lease that is never ended (its owner crashed) lapses at
    /// <paramref name="leaseUntil"/> and the document can be claimed again.
    /// </summary>
    ValueTask<IReadOnlyList<StoredDocument>> ClaimDueAsync(TenantId tenant, string collection, Instant now, int max, string owner, Instant leaseUntil, CancellationToken cancellationToken = default);

    /// <summary>How many documents a collection holds.</summary>
    ValueTask<long> CountAsync(TenantId tenant, string collection, CancellationToken cancellationToken = default);

    /// <summary>Entries of one stream matching <paramref name="query"/>, oldest (lowest sequence) first, paged.</summary>
    ValueTask<IReadOnlyList<StoredEntry>> ReadEntriesAsync(TenantId tenant, EntryQuery query, CancellationToken cancellationToken = default);

    /// <summary>The counters of one group, by key.</summary>
    ValueTask<IReadOnlyDictionary<string, long>> ReadCountersAsync(TenantId tenant, string group, CancellationToken cancellationToken = default);

    /// <summary>Whether the outbox holds a message with <paramref name="key"/> (delivered or not).</summary>
    ValueTask<bool> OutboxContainsAsync(TenantId tenant, string key, CancellationToken cancellationToken = default);

    /// <summary>Applies every change atomically.</summary>
    /// <exception cref="Validation.ConcurrencyConflictException">A document's stored version is not the expected one
    /// (or a document expected to be new exists); nothing is applied.</exception>
    ValueTask CommitAsync(TenantId tenant, DocumentChangeSet changes, CancellationToken cancellationToken = default);
}

/// <summary>The key of a document: its collection and its key within the collection.</summary>
/// <param name="Collection">The collection.</param>
/// <param name="Key">The key (ordinal).</param>
public readonly record struct DocumentKey(string Collection, string Key);

/// <summary>A stored document.</summary>
/// <param name="Collection">The collection, e.g. <c>identity</c> or <c>ledger</c>.</param>
/// <param name="Key">The key within the collection (ordinal).</param>
/// <param name="Customer">The customer the document belongs to, if any (indexed; it changes on merges and erasure).</param>
/// <param name="Version">The version, 1 for a new document, incremented by every write.</param>
/// <param name="DueAt">When work on the document falls due, if ever (indexed).</param>
/// <param name="Body">The JSON body.</param>
/// <param name="Sequence">Insertion order across the tenant's documents (stable; used for paging in insertion order).</param>
public sealed record StoredDocument(string Collection, string Key, string? Customer, long Version, Instant? DueAt, string Body, long Sequence);

/// <summary>An entry of an append-only stream.</summary>
/// <param name="Stream">The stream, e.g. <c>decision</c>.</param>
/// <param name="Sequence">Position (ascending in append order within the tenant).</param>
/// <param name="Customer">The customer, if any (indexed).</param>
/// <param name="At">The entry's time (indexed for range reads).</param>
/// <param name="Body">The JSON body.</param>
public sealed record StoredEntry(string Stream, long Sequence, string? Customer, Instant At, string Body);

/// <summary>The order of a <see cref="DocumentQuery"/>.</summary>
public enum DocumentOrder
{
    /// <summary>Insertion order (<see cref="StoredDocument.Sequence"/>).</summary>
    Insertion,

    /// <summary>Key, ordinal.</summary>
    Key,

    /// <summary>Due time, then key; only documents with a due time at or before <see cref="DocumentQuery.DueAtOrBefore"/>.</summary>
    Due,
}

/// <summary>A query over one collection.</summary>
public sealed record DocumentQuery
{
    /// <summary>The collection.</summary>
    public required string Collection { get; init; }

    /// <summary>Only documents of this customer.</summary>
    public string? Customer { get; init; }

    /// <summary>Only keys starting with this (ordinal).</summary>
    public string? KeyPrefix { get; init; }

    /// <summary>With <see cref="DocumentOrder.Due"/>: the latest due time included (required: without it a due query
    /// returns nothing).</summary>
    public Instant? DueAtOrBefore { get; init; }

    /// <summary>The order.</summary>
    public DocumentOrder Order { get; init; }

    /// <summary>Documents to skip.</summary>
    public int Skip { get; init; }

    /// <summary>Documents to return at most.</summary>
    public int Take { get; init; } = int.MaxValue;
}

/// <summary>A read of one stream.</summary>
public sealed record EntryQuery
{
    /// <summary>The stream.</summary>
    public required string Stream { get; init; }

    /// <summary>Only entries of this customer.</summary>
    public string? Customer { get; init; }

    /// <summary>Only entries at or after this time.</summary>
    public Instant? From { get; init; }

    /// <summary>Only entries before this time.</summary>
    public Instant? To { get; init; }

    /// <summary>Entries to skip.</summary>
    public int Skip { get; init; }

    /// <summary>Entries to return at most.</summary>
    public int Take { get; init; } = int.MaxValue;
}

/// <summary>A document write of a change set.</summary>
/// <param name="Collection">The collection.</param>
/// <param name="Key">The key.</param>
/// <param name="Customer">The customer column.</param>
/// <param name="DueAt">The due column.</param>
/// <param name="Body">The new body, or null to delete the document.</param>
/// <param name="ExpectedVersion">The version the writer read (0: the document must not exist), or null for an
/// unconditional write.</param>
/// <param name="Version">The version to store (for an unconditional write the backend stores the existing version + 1,
/// or 1).</param>
/// <param name="Sequence">For a new document: the insertion sequence to give it instead of a new one. Used when a
/// record is re-keyed (GDPR pseudonymization of journal entries): the document under the old key is deleted earlier in
/// the same change set and the new one keeps its place in insertion order.</param>
public sealed record DocumentWrite(string Collection, string Key, string? Customer, Instant? DueAt, string? Body, long? ExpectedVersion, long Version, long? Sequence = null);

/// <summary>An entry appended by a change set.</summary>
/// <param name="Stream">The stream.</param>
/// <param name="Customer">The customer.</param>
/// <param name="At">The time.</param>
/// <param name="Body">The JSON body.</param>
public sealed record EntryAppend(string Stream, string? Customer, Instant At, string Body);

/// <summary>A change to stored entries (erasure and anonymization only: streams are otherwise append-only).</summary>
/// <param name="Stream">The stream.</param>
/// <param name="Sequence">The entry to change, or null to delete every entry of <paramref name="Customer"/>.</param>
/// <param name="Customer">The entry's new customer (or, with no sequence, the customer whose entries are deleted).</param>
/// <param name="Body">The new body; null deletes.</param>
public sealed record EntryChange(string Stream, long? Sequence, string? Customer, string? Body);

/// <summary>An increment of a counter.</summary>
/// <param name="Group">The counter group.</param>
/// <param name="Key">The counter.</param>
/// <param name="Delta">The increment (may be negative).</param>
public sealed record CounterDelta(string Group, string Key, long Delta);

/// <summary>Everything one unit of work writes, applied atomically by <see cref="IDocumentBackend.CommitAsync"/>.</summary>
public sealed class DocumentChangeSet
{
    /// <summary>Document writes, in the order they were first made.</summary>
    public List<DocumentWrite> Documents { get; } = [];

    /// <summary>Entries appended.</summary>
    public List<EntryAppend> Appends { get; } = [];

    /// <summary>Changes to stored entries (applied before the appends).</summary>
    public List<EntryChange> EntryChanges { get; } = [];

    /// <summary>Counter increments.</summary>
    public List<CounterDelta> Counters { get; } = [];

    /// <summary>Outbox messages to enqueue (a key already in the outbox is ignored).</summary>
    public List<OutboxMessage> Outbox { get; } = [];

    /// <summary>Customers whose outbox messages are dropped, delivered ones included, which frees their keys (applied
    /// before <see cref="Outbox"/>).</summary>
    public List<CustomerId> OutboxCancellations { get; } = [];

    /// <summary>Claimed outbox messages to mark delivered (see <see cref="IOutboxRepository.CompleteAsync"/>): if one is
    /// no longer claimed by its owner, the backend throws <see cref="Validation.ConcurrencyConflictException"/> and
    /// applies nothing.</summary>
    public List<OutboxCompletion> OutboxCompletions { get; } = [];

    /// <summary>Whether there is nothing to write.</summary>
    public bool IsEmpty => Documents.Count == 0 && Appends.Count == 0 && EntryChanges.Count == 0 && Counters.Count == 0 && Outbox.Count == 0 && OutboxCancellations.Count == 0 && OutboxCompletions.Count == 0;
}

/// <summary>A claimed outbox message to mark delivered in a change set.</summary>
/// <param name="Key">The message key.</param>
/// <param name="Owner">The dispatcher that must still hold the claim.</param>
public sealed record OutboxCompletion(string Key, string Owner);
