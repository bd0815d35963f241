using System.Text.Json;

namespace Loyalty.Sdk.Storage.Documents;

// Read-ahead for batches: the documents a batch of events will read by key, loaded in two backend calls (what the
// events name, then the documents of the customers their identifiers belong to) instead of one call per read.
internal sealed partial class DocumentSession : IReadAheadSession
{
    /// <summary>The per-customer documents the ingest pipeline reads by customer id.</summary>
    private static readonly string[] IngestCollections =
    [
        IdentityCollection, ProfileCollection, SegmentCollection, LedgerCollection, ConsentRecordsCollection,
        SuppressionsCollection, PreferencesCollection, PurchaseHistoryCollection, JourneyResponses,
    ];

    /// <summary>What a ledger command reads by customer id.</summary>
    private static readonly string[] LedgerCommandCollections = [IdentityCollection, LedgerCollection];

    async ValueTask IReadAheadSession.ReadAheadAsync(ReadAheadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!backend.PrefersReadAhead)
        {
            return;
        }

        var first = new List<DocumentKey>();
        foreach (var id in request.EventIds)
        {
            first.Add(new DocumentKey(EventCollection, id.Value));
        }

        foreach (var identifier in request.Identifiers)
        {
            var key = IdentifierKey(identifier);
            first.Add(new DocumentKey(IdentifierCollection, key));
            first.Add(new DocumentKey(BlockCollection, key));
            first.Add(new DocumentKey(SharingCollection, key));
        }

        foreach (var order in request.OrderIds)
        {
            first.Add(new DocumentKey(OrderCollection, order));
            first.Add(new DocumentKey(LedgerOrderCollection, order));
        }

        foreach (var key in request.LedgerCommandKeys)
        {
            first.Add(new DocumentKey(CommandCollection, key));
        }

        var customers = new HashSet<string>(request.Customers.Select(c => c.Value), StringComparer.Ordinal);
        var collections = request.Purpose == ReadAheadPurpose.LedgerCommand ? LedgerCommandCollections : IngestCollections;
        AddCustomerKeys(first, customers, collections);
        await PrefetchAsync(first, cancellationToken).ConfigureAwait(false);

        // The holders of the identifiers (as this session now sees them) and the customers of the events' ids.
        var holders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var identifier in request.Identifiers)
        {
            if (Holder(IdentifierCollection, IdentifierKey(identifier)) is { } holder && !customers.Contains(holder))
            {
                holders.Add(holder);
            }
        }

        var second = new List<DocumentKey>();
        AddCustomerKeys(second, holders, collections);
        await PrefetchAsync(second, cancellationToken).ConfigureAwait(false);
    }

    private static void AddCustomerKeys(List<DocumentKey> keys, IEnumerable<string> customers, string[] collections)
    {
        foreach (var customer in customers)
        {
            foreach (var collection in collections)
            {
                keys.Add(new DocumentKey(collection, customer));
            }
        }
    }

    /// <summary>
    /// A customer whose identity is being created (saved expecting no stored version) has no other documents yet: its
    /// id is new (derived from the event that creates it, or from a split), so the pipeline's reads of its profile,
    /// ledger, segment and consent records are answered "none" without a round trip. Were the guess ever wrong, the
    /// writes that follow (which expect no stored version) would make the commit conflict, never overwrite.
    /// </summary>
    private void KnownNew(string customer)
    {
        if (tracked.TryGetValue((IdentityCollection, customer), out var identity) && identity.Stored is not null)
        {
            return;
        }

        foreach (var collection in IngestCollections)
        {
            if (collection != IdentityCollection && !tracked.ContainsKey((collection, customer)))
            {
                tracked[(collection, customer)] = new Tracked(collection, customer) { Loaded = true };
            }
        }
    }

    /// <summary>The customer id stored in an identifier index document this session has loaded, if any.</summary>
    private string? Holder(string collection, string key) =>
        tracked.TryGetValue((collection, key), out var t) ? t.Value as string ?? (t.Stored is { } s ? JsonSerializer.Deserialize(s.Body, DocumentJson.String) : null) : null;

    /// <summary>Loads, in one backend call, the documents of <paramref name="keys"/> this session has neither read nor
    /// written yet; later reads of them are answered by the session.</summary>
    internal async ValueTask PrefetchAsync(IReadOnlyList<DocumentKey> keys, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var missing = new List<DocumentKey>(keys.Count);
        var seen = new HashSet<DocumentKey>();
        foreach (var k in keys)
        {
            if (seen.Add(k) && !(tracked.TryGetValue((k.Collection, k.Key), out var t) && (t.Loaded || t.Write is not null)))
            {
                missing.Add(k);
            }
        }

        if (missing.Count == 0)
        {
            return;
        }

        var found = await backend.GetManyAsync(tenant, missing, cancellationToken).ConfigureAwait(false);
        var byKey = new Dictionary<DocumentKey, StoredDocument>(found.Count);
        foreach (var d in found)
        {
            byKey[new DocumentKey(d.Collection, d.Key)] = d;
        }

        foreach (var k in missing)
        {
            if (!tracked.TryGetValue((k.Collection, k.Key), out var t))
            {
                tracked[(k.Collection, k.Key)] = t = new Tracked(k.Collection, k.Key);
            }

            if (!t.Loaded && t.Write is null)
            {
                t.Stored = byKey.GetValueOrDefault(k);
                t.Loaded = true;
            }
        }
    }
}
