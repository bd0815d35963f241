using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Storage.InMemory;

/// <summary>The ledger's in-memory storage.</summary>
public sealed partial class InMemoryLoyaltyStore
{
    internal sealed partial class InMemorySession
    {
        public ILedgerRepository Ledger => Part(d => new InMemoryLedgerPart(d.Extension<LedgerData>()));
    }

    /// <summary>The ledger data of one tenant (written only on commit, under the tenant gate).</summary>
    internal sealed class LedgerData
    {
        public Dictionary<CustomerId, CustomerLedger> States { get; } = [];

        public List<CustomerId> CustomerOrder { get; } = [];

        public List<LedgerTransfer> Journal { get; } = [];

        public Dictionary<string, int> TransferIndex { get; } = new(StringComparer.Ordinal);

        public Dictionary<CustomerId, List<int>> ByCustomer { get; } = [];

        public Dictionary<string, LedgerCommandRecord> Commands { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, LedgerOrder> Orders { get; } = new(StringComparer.Ordinal);

        public Dictionary<(string Ledger, AccountKind Account), (long Debits, long Credits)> ProgramAccounts { get; } = [];

        public SortedSet<(Instant Due, CustomerId Customer)> Due { get; } = new(LedgerDueComparer.Instance);

        public Dictionary<CustomerId, Instant> DueOf { get; } = [];

        public DueLeases<CustomerId> Leases { get; } = new();
    }

    private sealed class LedgerDueComparer : IComparer<(Instant Due, CustomerId Customer)>
    {
        public static readonly LedgerDueComparer Instance = new();

        public int Compare((Instant Due, CustomerId Customer) x, (Instant Due, CustomerId Customer) y)
        {
            var c = x.Due.CompareTo(y.Due);
            return c != 0 ? c : string.CompareOrdinal(x.Customer.Value, y.Customer.Value);
        }
    }

    /// <summary>A session's view of the ledger: working copies of the customers it touched, and buffered writes.</summary>
    internal sealed partial class InMemoryLedgerPart(LedgerData data) : IInMemoryPart, ILedgerRepository
    {
        private readonly Dictionary<CustomerId, CustomerLedger> working = [];
        private readonly Dictionary<CustomerId, long> expected = [];
        private readonly List<LedgerTransfer> transfers = [];
        private readonly Dictionary<string, LedgerCommandRecord> commands = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (LedgerOrder Order, long Expected)> orders = new(StringComparer.Ordinal);

        public ValueTask<CustomerLedger?> GetAsync(CustomerId customer, CancellationToken cancellationToken = default)
        {
            if (working.TryGetValue(customer, out var w))
            {
                return ValueTask.FromResult<CustomerLedger?>(w);
            }

            if (!data.States.TryGetValue(customer, out var stored))
            {
                return ValueTask.FromResult<CustomerLedger?>(null);
            }

            var copy = stored.Clone();
            working[customer] = copy;
            return ValueTask.FromResult<CustomerLedger?>(copy);
        }

        public ValueTask SaveAsync(CustomerLedger state, long expectedVersion, IReadOnlyList<LedgerTransfer> transfers, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(state);
            ArgumentNullException.ThrowIfNull(transfers);
            working[state.Customer] = state;
            expected.TryAdd(state.Customer, expectedVersion);
            this.transfers.AddRange(transfers);
            return ValueTask.CompletedTask;
        }

        public ValueTask<LedgerCommandRecord?> FindCommandAsync(string idempotencyKey, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(commands.TryGetValue(idempotencyKey, out var c) || data.Commands.TryGetValue(idempotencyKey, out c) ? c : null);

        public ValueTask AddCommandAsync(string idempotencyKey, LedgerCommandRecord record, CancellationToken cancellationToken = default)
        {
            if (commands.ContainsKey(idempotencyKey) || data.Commands.ContainsKey(idempotencyKey))
            {
                throw new ConcurrencyConflictException($"Ledger command {idempotencyKey} was already recorded.");
            }

            commands[idempotencyKey] = record;
            return ValueTask.CompletedTask;
        }

        public ValueTask<LedgerOrder?> GetOrderAsync(string orderId, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(orders.TryGetValue(orderId, out var o) ? o.Order : data.Orders.GetValueOrDefault(orderId));

        public ValueTask SaveOrderAsync(LedgerOrder order, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(order);
            var first = orders.TryGetValue(order.OrderId, out var pending) ? pending.Expected : expectedVersion;
            orders[order.OrderId] = (order with { Version = expectedVersion + 1 }, first);
            return ValueTask.CompletedTask;
        }

        public ValueTask<LedgerTransfer?> GetTransferAsync(string transferId, CancellationToken cancellationToken = default)
        {
            if (data.TransferIndex.TryGetValue(transferId, out var i))
            {
                return ValueTask.FromResult<LedgerTransfer?>(data.Journal[i]);
            }

            return ValueTask.FromResult(transfers.FirstOrDefault(t => t.Id == transferId));
        }

        public ValueTask<IReadOnlyList<LedgerTransfer>> ListTransfersAsync(CustomerId? customer, int skip, int take, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(skip);
            ArgumentOutOfRangeException.ThrowIfNegative(take);
            if (customer is null)
            {
                var count = Math.Max(0, Math.Min(take, data.Journal.Count - skip));
                return ValueTask.FromResult<IReadOnlyList<LedgerTransfer>>(count == 0 ? [] : data.Journal.GetRange(skip, count));
            }

            if (!data.ByCustomer.TryGetValue(customer.Value, out var positions))
            {
                return ValueTask.FromResult<IReadOnlyList<LedgerTransfer>>([]);
            }

            return ValueTask.FromResult<IReadOnlyList<LedgerTransfer>>([.. positions.Skip(skip).Take(take).Select(p => data.Journal[p])]);
        }

        public ValueTask<IReadOnlyList<CustomerId>> ListDueAsync(Instant now, int take, CancellationToken cancellationToken = default)
        {
            var due = new List<CustomerId>();
            foreach (var (at, customer) in data.Due)
            {
                if (at > now || due.Count >= take)
                {
                    break;
                }

                due.Add(customer);
            }

            return ValueTask.FromResult<IReadOnlyList<CustomerId>>(due);
        }

        public ValueTask<IReadOnlyList<CustomerId>> ClaimDueAsync(Instant now, int take, Duration lease, string owner, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IReadOnlyList<CustomerId>>(data.Leases.Claim(data.Due.TakeWhile(d => d.Due <= now).Select(d => d.Customer), take, owner, now, now + lease));

        public ValueTask<IReadOnlyList<CustomerId>> ListCustomersAsync(int skip, int take, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IReadOnlyList<CustomerId>>([.. data.CustomerOrder.Skip(skip).Take(take)]);

        public ValueTask<IReadOnlyList<ProgramAccountBalance>> GetProgramBalancesAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IReadOnlyList<ProgramAccountBalance>>([.. data.ProgramAccounts.Select(kv => new ProgramAccountBalance(kv.Key.Ledger, kv.Key.Account, kv.Value.Debits, kv.Value.Credits))]);

        public void Validate()
        {
            foreach (var (customer, version) in expected)
            {
                InMemorySession.CheckVersion(data.States.TryGetValue(customer, out var s) ? s.Version : 0, version, $"ledger of {customer}");
            }

            foreach (var (id, (_, version)) in orders)
            {
                InMemorySession.CheckVersion(data.Orders.TryGetValue(id, out var o) ? o.Version : 0, version, $"ledger order {id}");
            }

            foreach (var key in commands.Keys)
            {
                if (data.Commands.ContainsKey(key))
                {
                    throw new ConcurrencyConflictException($"Ledger command {key} was recorded by another session.");
                }
            }

            foreach (var t in transfers)
            {
                if (data.TransferIndex.ContainsKey(t.Id))
                {
                    throw new ConcurrencyConflictException($"Transfer {t.Id} is already in the journal.");
                }
            }
        }

        public void Apply()
        {
            foreach (var (customer, version) in expected)
            {
                var state = working[customer];
                state.Version = version + 1;
                if (!data.States.ContainsKey(customer))
                {
                    data.CustomerOrder.Add(customer);
                }

                data.States[customer] = state;
                data.Leases.End(customer);
                if (data.DueOf.Remove(customer, out var old))
                {
                    data.Due.Remove((old, customer));
                }

                if (state.NextDueAt is { } due)
                {
                    data.DueOf[customer] = due;
                    data.Due.Add((due, customer));
                }
            }

            foreach (var t in transfers)
            {
                var position = data.Journal.Count;
                data.Journal.Add(t);
                data.TransferIndex[t.Id] = position;
                Index(t.Debit.Customer, position);
                if (t.Credit.Customer != t.Debit.Customer)
                {
                    Index(t.Credit.Customer, position);
                }

                if (!t.Debit.IsCustomer)
                {
                    var (d, c) = data.ProgramAccounts.GetValueOrDefault((t.Ledger, t.Debit.Kind));
                    data.ProgramAccounts[(t.Ledger, t.Debit.Kind)] = (checked(d + t.Amount), c);
                }

                if (!t.Credit.IsCustomer)
                {
                    var (d, c) = data.ProgramAccounts.GetValueOrDefault((t.Ledger, t.Credit.Kind));
                    data.ProgramAccounts[(t.Ledger, t.Credit.Kind)] = (d, checked(c + t.Amount));
                }
            }

            foreach (var (key, record) in commands)
            {
                data.Commands[key] = record;
            }

            foreach (var (id, (order, _)) in orders)
            {
                data.Orders[id] = order;
            }

            ApplyAnonymizations();
        }

        private void Index(CustomerId? customer, int position)
        {
            if (customer is not { } c)
            {
                return;
            }

            if (!data.ByCustomer.TryGetValue(c, out var list))
            {
                data.ByCustomer[c] = list = [];
            }

            list.Add(position);
        }

        public void Clear()
        {
            working.Clear();
            expected.Clear();
            transfers.Clear();
            commands.Clear();
            orders.Clear();
            anonymizations.Clear();
        }
    }
}
