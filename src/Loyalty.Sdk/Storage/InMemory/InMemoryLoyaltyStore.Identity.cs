using Loyalty.Sdk.Identity;

namespace Loyalty.Sdk.Storage.InMemory;

public sealed partial class InMemoryLoyaltyStore
{
    internal sealed partial class InMemorySession
    {
        public IIdentityControlRepository IdentityControls => Part(d => new IdentityControlPart(d, d.Extension<IdentityControlData>()));
    }

    /// <summary>A tenant's identity controls.</summary>
    internal sealed class IdentityControlData
    {
        public Dictionary<Identifier, BlockedValue> Blocks { get; } = [];

        public Dictionary<Identifier, HashSet<CustomerId>> Sharing { get; } = [];

        public Dictionary<(CustomerId, CustomerId), DoNotLinkRule> DoNotLink { get; } = [];

        public Dictionary<(CustomerId, CustomerId), MergeReview> Reviews { get; } = [];
    }

    private sealed class IdentityControlPart(TenantData tenant, IdentityControlData data) : IIdentityControlRepository, IInMemoryPart
    {
        private readonly Dictionary<Identifier, BlockedValue> blocks = [];
        private readonly Dictionary<Identifier, HashSet<CustomerId>> sharing = [];
        private readonly Dictionary<(CustomerId, CustomerId), DoNotLinkRule> doNotLink = [];
        private readonly Dictionary<(CustomerId, CustomerId), MergeReview> reviews = [];
        private readonly List<(CustomerId Customer, IReadOnlyList<Identifier> Identifiers)> erasures = [];

        public ValueTask EraseCustomerAsync(CustomerId customer, IReadOnlyList<Identifier> identifiers, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(identifiers);
            erasures.Add((customer, identifiers));
            foreach (var identifier in identifiers)
            {
                if (sharing.TryGetValue(identifier, out var pending))
                {
                    pending.Remove(customer);
                }
            }

            foreach (var key in doNotLink.Keys.Where(k => k.Item1 == customer || k.Item2 == customer).ToArray())
            {
                doNotLink.Remove(key);
            }

            foreach (var key in reviews.Keys.Where(k => k.Item1 == customer || k.Item2 == customer).ToArray())
            {
                reviews.Remove(key);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask<BlockedValue?> GetBlockAsync(Identifier identifier, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(blocks.TryGetValue(identifier, out var b) || data.Blocks.TryGetValue(identifier, out b) ? b : null);

        public ValueTask BlockAsync(BlockedValue blocked, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(blocked);
            blocks[blocked.Identifier] = blocked;
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<BlockedValue>> ListBlocksAsync(CancellationToken cancellationToken = default)
        {
            var all = new Dictionary<Identifier, BlockedValue>(data.Blocks);
            foreach (var (k, v) in blocks)
            {
                all[k] = v;
            }

            return ValueTask.FromResult<IReadOnlyList<BlockedValue>>(all.Values.OrderBy(b => b.BlockedAt).ThenBy(b => b.Identifier.ToString(), StringComparer.Ordinal).ToArray());
        }

        public ValueTask<int> RecordSharingAsync(Identifier identifier, CustomerId customer, int cap, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(identifier);
            if (!sharing.TryGetValue(identifier, out var pending))
            {
                sharing[identifier] = pending = data.Sharing.TryGetValue(identifier, out var stored) ? [.. stored] : [];
            }

            if (pending.Count < Math.Max(cap, 1))
            {
                pending.Add(customer);
            }

            return ValueTask.FromResult(pending.Count);
        }

        public ValueTask<bool> IsDoNotLinkAsync(CustomerId first, CustomerId second, CancellationToken cancellationToken = default)
        {
            var key = Key(first, second);
            return ValueTask.FromResult(doNotLink.ContainsKey(key) || data.DoNotLink.ContainsKey(key));
        }

        public ValueTask AddDoNotLinkAsync(DoNotLinkRule rule, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(rule);
            doNotLink[Key(rule.First, rule.Second)] = rule;
            return ValueTask.CompletedTask;
        }

        public ValueTask SaveReviewAsync(MergeReview review, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(review);
            reviews[Key(review.Left, review.Right)] = review;
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<MergeReview>> ListReviewsAsync(CancellationToken cancellationToken = default)
        {
            var all = new Dictionary<(CustomerId, CustomerId), MergeReview>(data.Reviews);
            foreach (var (k, v) in reviews)
            {
                all[k] = v;
            }

            return ValueTask.FromResult<IReadOnlyList<MergeReview>>(all.Values.OrderBy(r => r.QueuedAt).ThenBy(r => r.Left.Value, StringComparer.Ordinal).ThenBy(r => r.Right.Value, StringComparer.Ordinal).ToArray());
        }

        public ValueTask<IReadOnlyList<CustomerIdentity>> ListCustomersAsync(int skip, int take, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(skip);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(take);
            IReadOnlyList<CustomerIdentity> page = tenant.Identities.Values.Where(i => i.MergedInto is null)
                .OrderBy(i => i.Customer.Value, StringComparer.Ordinal).Skip(skip).Take(take).ToArray();
            return ValueTask.FromResult(page);
        }

        public void Validate()
        {
        }

        public void Apply()
        {
            foreach (var (k, v) in blocks)
            {
                data.Blocks[k] = v;
            }

            foreach (var (k, v) in sharing)
            {
                data.Sharing[k] = v;
            }

            foreach (var (k, v) in doNotLink)
            {
                data.DoNotLink[k] = v;
            }

            foreach (var (k, v) in reviews)
            {
                data.Reviews[k] = v;
            }

            foreach (var (customer, identifiers) in erasures)
            {
                foreach (var identifier in identifiers)
                {
                    if (data.Sharing.TryGetValue(identifier, out var set))
                    {
                        set.Remove(customer);
                        if (set.Count == 0)
                        {
                            data.Sharing.Remove(identifier);
                        }
                    }
                }

                foreach (var key in data.DoNotLink.Keys.Where(k => k.Item1 == customer || k.Item2 == customer).ToArray())
                {
                    data.DoNotLink.Remove(key);
                }

                foreach (var key in data.Reviews.Keys.Where(k => k.Item1 == customer || k.Item2 == customer).ToArray())
                {
                    data.Reviews.Remove(key);
                }
            }
        }

        public void Clear()
        {
            blocks.Clear();
            sharing.Clear();
            doNotLink.Clear();
            reviews.Clear();
            erasures.Clear();
        }

        private static (CustomerId, CustomerId) Key(CustomerId a, CustomerId b) =>
            string.CompareOrdinal(a.Value, b.Value) <= 0 ? (a, b) : (b, a);
    }
}
