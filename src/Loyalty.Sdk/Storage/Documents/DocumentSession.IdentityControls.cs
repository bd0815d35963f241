using Loyalty.Sdk.Identity;

namespace Loyalty.Sdk.Storage.Documents;

// Identity controls as documents: "identity-block" and "identity-sharing" (per identifier), "identity-dnl" and
// "identity-review" (per pair of customers, in ordinal order).
internal sealed partial class DocumentSession : IIdentityControlRepository
{
    internal const string BlockCollection = "identity-block";
    internal const string SharingCollection = "identity-sharing";
    internal const string DoNotLinkCollection = "identity-dnl";
    internal const string ReviewCollection = "identity-review";

    public IIdentityControlRepository IdentityControls => this;

    ValueTask<BlockedValue?> IIdentityControlRepository.GetBlockAsync(Identifier identifier, CancellationToken cancellationToken) =>
        LoadAsync(BlockCollection, IdentifierKey(identifier), DocumentJson.Block, cancellationToken);

    ValueTask IIdentityControlRepository.BlockAsync(BlockedValue blocked, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blocked);
        PutBlind(BlockCollection, IdentifierKey(blocked.Identifier), blocked, DocumentJson.Block);
        return ValueTask.CompletedTask;
    }

    async ValueTask<IReadOnlyList<BlockedValue>> IIdentityControlRepository.ListBlocksAsync(CancellationToken cancellationToken)
    {
        var all = await QueryAsync(new DocumentQuery { Collection = BlockCollection }, DocumentJson.Block, cancellationToken).ConfigureAwait(false);
        return [.. all.Select(b => b.Value).OrderBy(b => b.BlockedAt).ThenBy(b => b.Identifier.ToString(), StringComparer.Ordinal)];
    }

    async ValueTask<int> IIdentityControlRepository.RecordSharingAsync(Identifier identifier, CustomerId customer, int cap, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var key = IdentifierKey(identifier);
        var list = await LoadAsync(SharingCollection, key, DocumentJson.Strings, cancellationToken).ConfigureAwait(false) ?? [];
        if (list.Count < Math.Max(cap, 1) && !list.Contains(customer.Value, StringComparer.Ordinal))
        {
            list.Add(customer.Value);
            await PutReadAsync(SharingCollection, key, list, DocumentJson.Strings, null, cancellationToken).ConfigureAwait(false);
        }

        return list.Count;
    }

    async ValueTask<bool> IIdentityControlRepository.IsDoNotLinkAsync(CustomerId first, CustomerId second, CancellationToken cancellationToken) =>
        await LoadAsync(DoNotLinkCollection, PairKey(first, second), DocumentJson.DoNotLink, cancellationToken).ConfigureAwait(false) is not null;

    ValueTask IIdentityControlRepository.AddDoNotLinkAsync(DoNotLinkRule rule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        PutBlind(DoNotLinkCollection, PairKey(rule.First, rule.Second), rule, DocumentJson.DoNotLink);
        return ValueTask.CompletedTask;
    }

    ValueTask IIdentityControlRepository.SaveReviewAsync(MergeReview review, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(review);
        PutBlind(ReviewCollection, PairKey(review.Left, review.Right), review, DocumentJson.Review);
        return ValueTask.CompletedTask;
    }

    async ValueTask<IReadOnlyList<MergeReview>> IIdentityControlRepository.ListReviewsAsync(CancellationToken cancellationToken)
    {
        var all = await QueryAsync(new DocumentQuery { Collection = ReviewCollection }, DocumentJson.Review, cancellationToken).ConfigureAwait(false);
        return [.. all.Select(r => r.Value).OrderBy(r => r.QueuedAt).ThenBy(r => r.Left.Value, StringComparer.Ordinal).ThenBy(r => r.Right.Value, StringComparer.Ordinal)];
    }

    async ValueTask<IReadOnlyList<CustomerIdentity>> IIdentityControlRepository.ListCustomersAsync(int skip, int take, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(take);
        // As committed (like the journal and the due lists): a batch job pages through it in its own sessions.
        var all = await backend.QueryAsync(tenant, new DocumentQuery { Collection = IdentityCollection, Order = DocumentOrder.Key }, cancellationToken).ConfigureAwait(false);
        return [.. all.Select(a => System.Text.Json.JsonSerializer.Deserialize(a.Body, DocumentJson.Identity)!).Where(i => i.MergedInto is null).Skip(skip).Take(take)];
    }

    async ValueTask IIdentityControlRepository.EraseCustomerAsync(CustomerId customer, IReadOnlyList<Identifier> identifiers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identifiers);
        foreach (var identifier in identifiers)
        {
            var key = IdentifierKey(identifier);
            if (await LoadAsync(SharingCollection, key, DocumentJson.Strings, cancellationToken).ConfigureAwait(false) is { } list && list.Remove(customer.Value))
            {
                await PutReadAsync(SharingCollection, key, list.Count == 0 ? null : list, DocumentJson.Strings, null, cancellationToken).ConfigureAwait(false);
            }
        }

        // Rules and reviews are keyed by pair; erasure is rare, so their (small) collections are scanned.
        foreach (var (key, rule) in await QueryAsync(new DocumentQuery { Collection = DoNotLinkCollection }, DocumentJson.DoNotLink, cancellationToken).ConfigureAwait(false))
        {
            if (rule.First == customer || rule.Second == customer)
            {
                await PutReadAsync<DoNotLinkRule>(DoNotLinkCollection, key, null, DocumentJson.DoNotLink, null, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var (key, review) in await QueryAsync(new DocumentQuery { Collection = ReviewCollection }, DocumentJson.Review, cancellationToken).ConfigureAwait(false))
        {
            if (review.Left == customer || review.Right == customer)
            {
                await PutReadAsync<MergeReview>(ReviewCollection, key, null, DocumentJson.Review, null, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static string PairKey(CustomerId a, CustomerId b) =>
        string.CompareOrdinal(a.Value, b.Value) <= 0 ? Names.Join(a.Value, b.Value) : Names.Join(b.Value, a.Value);
}
