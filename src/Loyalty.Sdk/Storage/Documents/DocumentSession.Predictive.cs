using Loyalty.Sdk.Predictive;

namespace Loyalty.Sdk.Storage.Documents;

// Predictive data as documents: "purchase-history" (one per customer) and "predictive-model" (the tenant's latest fit).
internal sealed partial class DocumentSession : IPredictiveRepository
{
    internal const string PurchaseHistoryCollection = "purchase-history";
    internal const string ModelCollection = "predictive-model";

    public IPredictiveRepository Predictive => this;

    ValueTask<PurchaseHistory?> IPredictiveRepository.GetAsync(CustomerId customer, CancellationToken cancellationToken) =>
        LoadAsync(PurchaseHistoryCollection, customer.Value, DocumentJson.PurchaseHistory, cancellationToken);

    ValueTask IPredictiveRepository.SaveAsync(PurchaseHistory history, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(history);
        Put(PurchaseHistoryCollection, history.Customer.Value, history with { Version = expectedVersion + 1 }, expectedVersion, DocumentJson.PurchaseHistory, h => h.Customer.Value);
        return ValueTask.CompletedTask;
    }

    ValueTask IPredictiveRepository.DeleteAsync(CustomerId customer, CancellationToken cancellationToken) =>
        PutReadAsync<PurchaseHistory>(PurchaseHistoryCollection, customer.Value, null, DocumentJson.PurchaseHistory, null, cancellationToken);

    async ValueTask<IReadOnlyList<PurchaseHistory>> IPredictiveRepository.ListAsync(int skip, int take, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(take);
        var page = await QueryAsync(new DocumentQuery { Collection = PurchaseHistoryCollection, Order = DocumentOrder.Key, Skip = skip, Take = take }, DocumentJson.PurchaseHistory, cancellationToken).ConfigureAwait(false);
        return [.. page.Select(p => p.Value)];
    }

    ValueTask<PredictiveModelSnapshot?> IPredictiveRepository.GetModelAsync(CancellationToken cancellationToken) =>
        LoadAsync(ModelCollection, "model", DocumentJson.Model, cancellationToken);

    ValueTask IPredictiveRepository.SaveModelAsync(PredictiveModelSnapshot model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        PutBlind(ModelCollection, "model", model, DocumentJson.Model);
        return ValueTask.CompletedTask;
    }
}
