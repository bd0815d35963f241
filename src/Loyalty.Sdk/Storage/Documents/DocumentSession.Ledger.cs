using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Storage.InMemory;
using NodaTime;

namespace Loyalty.Sdk.Storage.Documents;

// The ledger as documents: "ledger" (a customer's hot state, due at its next expiry/activation work), "ledger-transfer"
// (the journal, keyed by transfer id, under the debited customer or else the credited one), "ledger-transfer-x" (the
// second side of a member-to-member transfer), "ledger-command" (idempotency records), "ledger-order"; counters
// "ledger-account" (program account debits and credits).
internal sealed partial class DocumentSession : ILedgerRepository
{
    internal const string LedgerCollection = "ledger";
    internal const string TransferCollection = "ledger-transfer";
    internal const string TransferOtherSideCollection = "ledger-transfer-x";
    internal const string CommandCollection = "ledger-command";
    internal const string LedgerOrderCollection = "ledger-order";
    internal const string AccountCounters = "ledger-account";

    private readonly List<(CustomerLedger State, long Version)> ledgerStamps = [];

    public ILedgerRepository Ledger => this;

    private void StampLedgerStates()
    {
        // The stored version is the one the state will have once committed.
        foreach (var (state, version) in ledgerStamps)
        {
            state.Version = version;
        }
    }

    ValueTask<CustomerLedger?> ILedgerRepository.GetAsync(CustomerId customer, CancellationToken cancellationToken) =>
        LoadAsync(LedgerCollection, customer.Value, DocumentJson.Ledger, cancellationToken);

    async ValueTask ILedgerRepository.SaveAsync(CustomerLedger state, long expectedVersion, IReadOnlyList<LedgerTransfer> transfers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(transfers);
        Put(LedgerCollection, state.Customer.Value, state, expectedVersion, DocumentJson.Ledger, s => s.Customer.Value, s => s.NextDueAt);
        ledgerStamps.Add((state, await VersionAsync(LedgerCollection, state.Customer.Value, cancellationToken).ConfigureAwait(false)));
        foreach (var t in transfers)
        {
            AddTransfer(t);
        }
    }

    private void AddTransfer(LedgerTransfer t)
    {
        var primary = t.Debit.Customer ?? t.Credit.Customer;
        Put(TransferCollection, t.Id, t, 0, DocumentJson.Transfer, x => primary?.Value);
        if (t.Debit.Customer is { } d && t.Credit.Customer is { } c && d != c)
        {
            Put(TransferOtherSideCollection, t.Id, t, 0, DocumentJson.Transfer, x => c.Value);
        }

        if (!t.Debit.IsCustomer)
        {
            Count(AccountCounters, Names.Join(t.Ledger, t.Debit.Kind.ToString(), "d"), t.Amount);
        }

        if (!t.Credit.IsCustomer)
        {
            Count(AccountCounters, Names.Join(t.Ledger, t.Credit.Kind.ToString(), "c"), t.Amount);
        }
    }

    ValueTask<LedgerCommandRecord?> ILedgerRepository.FindCommandAsync(string idempotencyKey, CancellationToken cancellationToken) =>
        LoadAsync(CommandCollection, idempotencyKey, DocumentJson.Command, cancellationToken);

    async ValueTask ILedgerRepository.AddCommandAsync(string idempotencyKey, LedgerCommandRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (await LoadAsync(CommandCollection, idempotencyKey, DocumentJson.Command, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new Validation.ConcurrencyConflictException($"Ledger command {idempotencyKey} was already recorded.");
        }

        Put(CommandCollection, idempotencyKey, record, 0, DocumentJson.Command, r => r.Command.Customer.Value);
    }

    ValueTask<LedgerOrder?> ILedgerRepository.GetOrderAsync(string orderId, CancellationToken cancellationToken) =>
        LoadAsync(LedgerOrderCollection, orderId, DocumentJson.LedgerOrder, cancellationToken);

    ValueTask ILedgerRepository.SaveOrderAsync(LedgerOrder order, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        Put(LedgerOrderCollection, order.OrderId, order with { Version = expectedVersion + 1 }, expectedVersion, DocumentJson.LedgerOrder, o => o.Customer.Value);
        return ValueTask.CompletedTask;
    }

    ValueTask<LedgerTransfer?> ILedgerRepository.GetTransferAsync(string transferId, CancellationToken cancellationToken) =>
        LoadAsync(TransferCollection, transferId, DocumentJson.Transfer, cancellationToken);

    async ValueTask<IReadOnlyList<LedgerTransfer>> ILedgerRepository.ListTransfersAsync(CustomerId? customer, int skip, int take, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        if (take == 0)
        {
            return [];
        }

        if (customer is null)
        {
            var all = await QueryAsync(new DocumentQuery { Collection = TransferCollection, Skip = skip, Take = take }, DocumentJson.Transfer, cancellationToken).ConfigureAwait(false);
            return [.. all.Select(x => x.Value)];
        }

        // Both sides, in journal order (insertion sequence): the primary collection, plus transfers where the customer
        // is the second side (stored with the same sequence order as the journal, since both are written together).
        var limit = take == int.MaxValue ? int.MaxValue : skip + take;
        var own = await QueryWithSequenceAsync(new DocumentQuery { Collection = TransferCollection, Customer = customer.Value.Value, Take = limit }, DocumentJson.Transfer, cancellationToken).ConfigureAwait(false);
        var other = await QueryWithSequenceAsync(new DocumentQuery { Collection = TransferOtherSideCollection, Customer = customer.Value.Value, Take = limit }, DocumentJson.Transfer, cancellationToken).ConfigureAwait(false);
        return [.. own.Concat(other).DistinctBy(x => x.Key).OrderBy(x => x.Sequence).Skip(skip).Take(take).Select(x => x.Value)];
    }

    async ValueTask<IReadOnlyList<CustomerId>> ILedgerRepository.ListDueAsync(Instant now, int take, CancellationToken cancellationToken)
    {
        var due = await QueryAsync(new DocumentQuery { Collection = LedgerCollection, Order = DocumentOrder.Due, DueAtOrBefore = now, Take = take }, DocumentJson.Ledger, cancellationToken).ConfigureAwait(false);
        return [.. due.Select(d => new CustomerId(d.Key))];
    }

    async ValueTask<IReadOnlyList<CustomerId>> ILedgerRepository.ClaimDueAsync(Instant now, int take, Duration lease, string owner, CancellationToken cancellationToken)
    {
        var claimed = await Backend.ClaimDueAsync(Tenant, LedgerCollection, now, take, owner, now + lease, cancellationToken).ConfigureAwait(false);
        return [.. claimed.Select(d => new CustomerId(d.Key))];
    }

    async ValueTask<IReadOnlyList<CustomerId>> ILedgerRepository.ListCustomersAsync(int skip, int take, CancellationToken cancellationToken)
    {
        var page = await QueryAsync(new DocumentQuery { Collection = LedgerCollection, Skip = skip, Take = take }, DocumentJson.Ledger, cancellationToken).ConfigureAwait(false);
        return [.. page.Select(d => new CustomerId(d.Key))];
    }

    async ValueTask<IReadOnlyList<ProgramAccountBalance>> ILedgerRepository.GetProgramBalancesAsync(CancellationToken cancellationToken)
    {
        var counts = await ReadCountersAsync(AccountCounters, cancellationToken).ConfigureAwait(false);
        var accounts = new Dictionary<(string Ledger, AccountKind Kind), (long Debits, long Credits)>();
        foreach (var (key, value) in counts)
        {
            var parts = Names.Split(key);
            var account = (parts[0], Enum.Parse<AccountKind>(parts[1]));
            var (d, c) = accounts.GetValueOrDefault(account);
            accounts[account] = parts[2] == "d" ? (d + value, c) : (d, c + value);
        }

        return [.. accounts.Select(kv => new ProgramAccountBalance(kv.Key.Ledger, kv.Key.Kind, kv.Value.Debits, kv.Value.Credits))];
    }

    async ValueTask ILedgerRepository.AnonymizeAsync(IReadOnlyList<CustomerId> customers, CustomerId pseudonym, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customers);
        if (customers.Contains(pseudonym))
        {
            throw new ArgumentException("The pseudonym cannot be one of the customers.", nameof(pseudonym));
        }

        // Gather what the erasure touches into the in-memory shape, let the one anonymizer re-key it, and write back
        // what changed, checked against the versions read here.
        ILedgerRepository self = this;
        var ids = customers.Distinct().ToArray();
        var data = new InMemoryLoyaltyStore.LedgerData();
        var originalStates = new List<CustomerId>();
        foreach (var c in ids.Append(pseudonym))
        {
            if (await self.GetAsync(c, cancellationToken).ConfigureAwait(false) is { } state)
            {
                data.States[c] = state;
                data.CustomerOrder.Add(c);
                originalStates.Add(c);
            }

            foreach (var t in await self.ListTransfersAsync(c, 0, int.MaxValue, cancellationToken).ConfigureAwait(false))
            {
                if (!data.TransferIndex.ContainsKey(t.Id))
                {
                    data.TransferIndex[t.Id] = data.Journal.Count;
                    data.Journal.Add(t);
                }
            }

            foreach (var (key, order) in await QueryAsync(new DocumentQuery { Collection = LedgerOrderCollection, Customer = c.Value }, DocumentJson.LedgerOrder, cancellationToken).ConfigureAwait(false))
            {
                data.Orders[key] = order;
            }

            foreach (var (key, record) in await QueryAsync(new DocumentQuery { Collection = CommandCollection, Customer = c.Value }, DocumentJson.Command, cancellationToken).ConfigureAwait(false))
            {
                data.Commands[key] = record;
            }
        }

        for (var i = 0; i < data.Journal.Count; i++)
        {
            foreach (var c in new[] { data.Journal[i].Debit.Customer, data.Journal[i].Credit.Customer }.OfType<CustomerId>().Distinct())
            {
                if (!data.ByCustomer.TryGetValue(c, out var list))
                {
                    data.ByCustomer[c] = list = [];
                }

                list.Add(i);
                if (!data.States.ContainsKey(c) && await self.GetAsync(c, cancellationToken).ConfigureAwait(false) is { } counterparty)
                {
                    data.States[c] = counterparty;
                    originalStates.Add(c);
                }
            }
        }

        var before = data.Journal.ToArray();
        var commandsBefore = data.Commands.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var ordersBefore = data.Orders.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        new InMemoryLoyaltyStore.LedgerAnonymizer(ids, pseudonym).Apply(data);

        // Journal entries: re-keyed ones move to their new id.
        for (var i = 0; i < before.Length; i++)
        {
            var (old, now) = (before[i], data.Journal[i]);
            if (ReferenceEquals(old, now))
            {
                continue;
            }

            var renamed = !string.Equals(old.Id, now.Id, StringComparison.Ordinal);
            foreach (var collection in new[] { TransferCollection, TransferOtherSideCollection })
            {
                if (renamed && await LoadAsync(collection, old.Id, DocumentJson.Transfer, cancellationToken).ConfigureAwait(false) is not null)
                {
                    // The entry keeps its place in the journal under its new id.
                    KeepSequence(collection, now.Id, StoredSequence(collection, old.Id));
                    await PutReadAsync<LedgerTransfer>(collection, old.Id, null, DocumentJson.Transfer, null, cancellationToken).ConfigureAwait(false);
                }
            }

            var primary = now.Debit.Customer ?? now.Credit.Customer;
            await PutReadAsync(TransferCollection, now.Id, now, DocumentJson.Transfer, x => primary?.Value, cancellationToken).ConfigureAwait(false);
            if (now.Debit.Customer is { } d && now.Credit.Customer is { } c && d != c)
            {
                await PutReadAsync(TransferOtherSideCollection, now.Id, now, DocumentJson.Transfer, x => c.Value, cancellationToken).ConfigureAwait(false);
            }
        }

        // Hot states: the customers' states become the pseudonym's; counterparties' lots follow renamed ids.
        foreach (var c in originalStates.Where(c => !data.States.ContainsKey(c)))
        {
            await PutReadAsync<CustomerLedger>(LedgerCollection, c.Value, null, DocumentJson.Ledger, null, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (c, state) in data.States)
        {
            await PutReadAsync(LedgerCollection, c.Value, state, DocumentJson.Ledger, s => s.Customer.Value, cancellationToken, s => s.NextDueAt).ConfigureAwait(false);
            ledgerStamps.Add((state, await VersionAsync(LedgerCollection, c.Value, cancellationToken).ConfigureAwait(false)));
        }

        foreach (var (key, order) in data.Orders)
        {
            if (!ordersBefore.TryGetValue(key, out var was) || !ReferenceEquals(was, order))
            {
                await PutReadAsync(LedgerOrderCollection, key, order, DocumentJson.LedgerOrder, o => o.Customer.Value, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var key in commandsBefore.Keys.Where(k => !data.Commands.ContainsKey(k)))
        {
            await PutReadAsync<LedgerCommandRecord>(CommandCollection, key, null, DocumentJson.Command, null, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (key, record) in data.Commands.Where(kv => !commandsBefore.TryGetValue(kv.Key, out var was) || !ReferenceEquals(was, kv.Value)))
        {
            await PutReadAsync(CommandCollection, key, record, DocumentJson.Command, r => r.Command.Customer.Value, cancellationToken).ConfigureAwait(false);
        }
    }
}
