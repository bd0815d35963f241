using Loyalty.Sdk.Predictive;

namespace Loyalty.Sdk.Storage.InMemory;

public sealed partial class InMemoryLoyaltyStore
{
    internal sealed partial class InMemorySession
    {
        public IPredictiveRepository Predictive => Part(d => new PredictivePart(d.Extension<PredictiveData>()));
    }

    /// <summary>A tenant's predictive data.</summary>
    internal sealed class PredictiveData
    {
        public SortedDictionary<string, PurchaseHistory> Histories { get; } = new(StringComparer.Ordinal);

        public PredictiveModelSnapshot? Model { get; set; }
    }

    private sealed class PredictivePart(PredictiveData data) : IPredictiveRepository, IInMemoryPart
    {
        private readonly Dictionary<string, (PurchaseHistory? Value, long Expected)> pending = new(StringComparer.Ordinal);
        private PredictiveModelSnapshot? model;

        public ValueTask<PurchaseHistory?> GetAsync(CustomerId customer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(pending.TryGetValue(customer.Value, out var p) ? p.Value : data.Histories.GetValueOrDefault(customer.Value));

        public ValueTask SaveAsync(PurchaseHistory history, long expectedVersion, CancellationToken cancellationToken = default)
        {
            var first = pending.TryGetValue(history.Customer.Value, out var p) ? p.Expected : expectedVersion;
            pending[history.Customer.Value] = (history with { Version = expectedVersion + 1 }, first);
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(CustomerId customer, CancellationToken cancellationToken = default)
        {
            var stored = data.Histories.TryGetValue(customer.Value, out var s) ? s.Version : 0;
            pending[customer.Value] = (null, pending.TryGetValue(customer.Value, out var p) ? p.Expected : stored);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<PurchaseHistory>> ListAsync(int skip, int take, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(skip);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(take);
            IEnumerable<PurchaseHistory> all = data.Histories.Values;
            if (pending.Count > 0)
            {
                var merged = new SortedDictionary<string, PurchaseHistory>(data.Histories, StringComparer.Ordinal);
                foreach (var (key, (value, _)) in pending)
                {
                    if (value is null)
                    {
                        merged.Remove(key);
                    }
                    else
                    {
                        merged[key] = value;
                    }
                }

                all = merged.Values;
            }

            return ValueTask.FromResult<IReadOnlyList<PurchaseHistory>>(all.Skip(skip).Take(take).ToArray());
        }

        public ValueTask<PredictiveModelSnapshot?> GetModelAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(model ?? data.Model);

        public ValueTask SaveModelAsync(PredictiveModelSnapshot snapshot, CancellationToken cancellationToken = default)
        {
            model = snapshot ?? throw new ArgumentNullException(nameof(snapshot));
            return ValueTask.CompletedTask;
        }

        public void Validate()
        {
            foreach (var (key, (_, expected)) in pending)
            {
                InMemorySession.CheckVersion(data.Histories.TryGetValue(key, out var s) ? s.Version : 0, expected, $"purchase history {key}");
            }
        }

        public void Apply()
        {
            foreach (var (key, (value, _)) in pending)
            {
                if (value is null)
                {
                    data.Histories.Remove(key);
                }
                else
                {
                    data.Histories[key] = value;
                }
            }

            if (model is not null)
            {
                data.Model = model;
            }
        }

        public void Clear()
        {
            pending.Clear();
            model = null;
        }
    }
}
