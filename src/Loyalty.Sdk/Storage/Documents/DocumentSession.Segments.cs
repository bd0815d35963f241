using Loyalty.Sdk.Segments;
using NodaTime;

namespace Loyalty.Sdk.Storage.Documents;

// Segments as documents: "segment" (a customer's state, due at its next time-based re-evaluation), "segment-member"
// (one per segment and member, keyed segment + customer), "segment-size-record" (when sizes were last recorded);
// counters "segment-size" and "segment-flow" (entries and exits since the last size record); streams
// "segment-history/{segment}" (size points).
internal sealed partial class DocumentSession : ISegmentRepository
{
    internal const string SegmentCollection = "segment";
    internal const string MemberCollection = "segment-member";
    internal const string SizeCounters = "segment-size";
    internal const string FlowCounters = "segment-flow";
    internal const string SizeRecordCollection = "segment-size-record";

    /// <summary>The stored state of each customer whose segment state this session writes, as first read.</summary>
    private readonly Dictionary<CustomerId, CustomerSegmentState?> segmentOriginals = [];

    public ISegmentRepository Segments => this;

    /// <summary>Membership index and counters follow the net change of each state this session wrote (stored state
    /// before, state at commit), like every adapter: a customer who enters and leaves within one unit of work counts
    /// for neither.</summary>
    private void TrackSegmentChanges()
    {
        foreach (var (customer, stored) in segmentOriginals)
        {
            TrackMemberships(customer, stored, tracked.GetValueOrDefault((SegmentCollection, customer.Value))?.Value as CustomerSegmentState);
        }

        segmentOriginals.Clear();
    }

    internal static string HistoryStream(string segment) => "segment-history/" + segment;

    async ValueTask<CustomerSegmentState?> ISegmentRepository.GetAsync(CustomerId customer, CancellationToken cancellationToken) =>
        (await LoadAsync(SegmentCollection, customer.Value, DocumentJson.Segment, cancellationToken).ConfigureAwait(false))?.Clone();

    async ValueTask ISegmentRepository.SaveAsync(CustomerSegmentState state, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        // The loaded object is the stored state as read: callers only ever get clones of it.
        segmentOriginals.TryAdd(state.Customer, await LoadAsync(SegmentCollection, state.Customer.Value, DocumentJson.Segment, cancellationToken).ConfigureAwait(false));
        state.Version = expectedVersion + 1;
        Put(SegmentCollection, state.Customer.Value, state, expectedVersion, DocumentJson.Segment, s => s.Customer.Value, s => s.DueAt);
    }

    async ValueTask ISegmentRepository.DeleteAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        segmentOriginals.TryAdd(customer, await LoadAsync(SegmentCollection, customer.Value, DocumentJson.Segment, cancellationToken).ConfigureAwait(false));
        await PutReadAsync<CustomerSegmentState>(SegmentCollection, customer.Value, null, DocumentJson.Segment, null, cancellationToken).ConfigureAwait(false);
    }

    private void TrackMemberships(CustomerId customer, CustomerSegmentState? old, CustomerSegmentState? now)
    {
        foreach (var segment in old?.Memberships.Keys ?? Enumerable.Empty<string>())
        {
            if (now is null || !now.Memberships.ContainsKey(segment))
            {
                Exit(segment, customer);
            }
        }

        foreach (var segment in now?.Memberships.Keys ?? Enumerable.Empty<string>())
        {
            if (old is null || !old.Memberships.ContainsKey(segment))
            {
                Enter(segment, customer);
            }
        }
    }

    private void Enter(string segment, CustomerId customer)
    {
        PutBlind(MemberCollection, Names.Join(segment, customer.Value), customer.Value, DocumentJson.String, c => c);
        Count(SizeCounters, segment, 1);
        Count(FlowCounters, Names.Join(segment, "in"), 1);
    }

    private void Exit(string segment, CustomerId customer)
    {
        PutBlind<string>(MemberCollection, Names.Join(segment, customer.Value), null, DocumentJson.String);
        Count(SizeCounters, segment, -1);
        Count(FlowCounters, Names.Join(segment, "out"), 1);
    }

    async ValueTask<IReadOnlyList<CustomerId>> ISegmentRepository.ListDueAsync(Instant now, int max, CancellationToken cancellationToken)
    {
        var due = await QueryAsync(new DocumentQuery { Collection = SegmentCollection, Order = DocumentOrder.Due, DueAtOrBefore = now, Take = max }, DocumentJson.Segment, cancellationToken).ConfigureAwait(false);
        return [.. due.Select(d => new CustomerId(d.Key))];
    }

    async ValueTask<IReadOnlyList<CustomerId>> ISegmentRepository.ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken)
    {
        var claimed = await Backend.ClaimDueAsync(Tenant, SegmentCollection, now, max, owner, now + lease, cancellationToken).ConfigureAwait(false);
        return [.. claimed.Select(d => new CustomerId(d.Key))];
    }

    async ValueTask<IReadOnlyList<CustomerSegmentState>> ISegmentRepository.ListAsync(int skip, int take, CancellationToken cancellationToken)
    {
        var page = await QueryAsync(new DocumentQuery { Collection = SegmentCollection, Skip = skip, Take = take }, DocumentJson.Segment, cancellationToken).ConfigureAwait(false);
        return [.. page.Select(p => p.Value)];
    }

    async ValueTask<int> ISegmentRepository.CountAsync(CancellationToken cancellationToken) =>
        (int)await backend.CountAsync(tenant, SegmentCollection, cancellationToken).ConfigureAwait(false);

    async ValueTask ISegmentRepository.ApplyChangesAsync(IReadOnlyList<SegmentMembershipChange> changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        foreach (var c in changes)
        {
            var state = await LoadAsync(SegmentCollection, c.Customer.Value, DocumentJson.Segment, cancellationToken).ConfigureAwait(false);
            if (state is null)
            {
                continue;
            }

            if (!segmentOriginals.ContainsKey(c.Customer))
            {
                segmentOriginals[c.Customer] = state.Clone(); // changed in place below
            }

            if (c.Entered)
            {
                state.Memberships[c.Segment] = c.At;
            }
            else
            {
                state.Memberships.Remove(c.Segment);
            }

            await PutReadAsync(SegmentCollection, c.Customer.Value, state, DocumentJson.Segment, s => s.Customer.Value, cancellationToken, s => s.DueAt).ConfigureAwait(false);
        }
    }

    async ValueTask<IReadOnlyDictionary<string, long>> ISegmentRepository.GetSizesAsync(CancellationToken cancellationToken) =>
        await ReadCountersAsync(SizeCounters, cancellationToken).ConfigureAwait(false);

    async ValueTask<IReadOnlyList<CustomerId>> ISegmentRepository.ListMembersAsync(string segment, CancellationToken cancellationToken)
    {
        var members = await QueryAsync(new DocumentQuery { Collection = MemberCollection, KeyPrefix = Names.Join(segment, string.Empty) }, DocumentJson.String, cancellationToken).ConfigureAwait(false);
        return [.. members.Select(m => new CustomerId(m.Value))];
    }

    async ValueTask ISegmentRepository.RecordSizesAsync(Instant at, CancellationToken cancellationToken)
    {
        // Recording reads the flow counters and takes what it read back out of them. Counters carry no version, so two
        // sessions recording at once would both record the same flows and take them back twice (negative flows in the
        // next point). Every record therefore also rewrites one versioned document, read before the counters: of two
        // concurrent records the later commit conflicts, and a record that reads the document after another committed
        // also reads the counters that one left.
        await PutReadAsync(SizeRecordCollection, "last", NodaTime.Text.InstantPattern.ExtendedIso.Format(at), DocumentJson.String, null, cancellationToken).ConfigureAwait(false);
        var sizes = await ReadCountersAsync(SizeCounters, cancellationToken).ConfigureAwait(false);
        var flow = await ReadCountersAsync(FlowCounters, cancellationToken).ConfigureAwait(false);
        var segments = sizes.Keys.Concat(flow.Keys.Select(k => Names.Split(k)[0])).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var segment in segments)
        {
            var entered = flow.GetValueOrDefault(Names.Join(segment, "in"));
            var exited = flow.GetValueOrDefault(Names.Join(segment, "out"));
            Append(HistoryStream(segment), null, at, new SegmentSizePoint(at, sizes.GetValueOrDefault(segment), entered, exited), DocumentJson.SizePoint);
            Count(FlowCounters, Names.Join(segment, "in"), -entered);
            Count(FlowCounters, Names.Join(segment, "out"), -exited);
        }
    }

    ValueTask<IReadOnlyList<SegmentSizePoint>> ISegmentRepository.GetSizeHistoryAsync(string segment, CancellationToken cancellationToken) =>
        ReadEntriesAsync(new EntryQuery { Stream = HistoryStream(segment) }, DocumentJson.SizePoint, cancellationToken);
}
