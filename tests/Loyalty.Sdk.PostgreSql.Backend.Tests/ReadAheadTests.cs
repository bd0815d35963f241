using Loyalty.Sdk.Events;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

/// <summary>Read-ahead: a batch of events, or a ledger command, reads its documents in a few backend calls instead of one
/// call per read, and decides exactly as without it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ReadAheadTests(PostgresServer server)
{
    private static readonly TenantId Tenant = new("acme");
    private static readonly Instant Start = Instant.FromUtc(2025, 3, 3, 10, 0);

    [Fact]
    public async Task A_batch_of_known_and_new_customers_reads_in_a_few_calls()
    {
        await using var backend = await server.NewBackendAsync();
        var counting = new CountingReads(backend);
        var clock = new FakeClock(Start);
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton<ILoyaltyStore>(new DocumentLoyaltyStore(counting));
        services.AddLoyalty().UseDefaultProgram(DefaultPrograms.Retail()).AddConsent().AddLedger().AddSegments();
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();

        // 30 people sign up (new customers), then a batch of their orders and 10 newcomers' orders.
        await engine.IngestBatchAsync([.. Enumerable.Range(0, 30).Select(i => SignUp($"s{i}", $"p{i}@example.com"))]);
        var readsBefore = counting.Reads;
        clock.Advance(Duration.FromHours(1));
        var batch = Enumerable.Range(0, 30).Select(i => Order($"o{i}", $"p{i}@example.com", $"O-{i}"))
            .Concat(Enumerable.Range(0, 10).Select(i => Order($"n{i}", $"new{i}@example.com", $"N-{i}")))
            .ToArray();
        var results = await engine.IngestBatchAsync(batch);

        Assert.All(results, r => Assert.Equal(IngestOutcome.Applied, r.Outcome));
        Assert.Equal(30, results.Take(30).Count(r => !r.NewCustomer));
        var reads = counting.Reads - readsBefore;
        Assert.True(reads <= 8, $"40 events took {reads} backend reads: {counting.Describe()}");

        // Retried, every event is a duplicate, found by the read-ahead.
        var again = counting.Reads;
        Assert.All(await engine.IngestBatchAsync(batch), r => Assert.Equal(IngestOutcome.Duplicate, r.Outcome));
        Assert.True(counting.Reads - again <= 8, counting.Describe());
    }

    [Fact]
    public async Task A_ledger_command_reads_once_before_it_commits()
    {
        await using var backend = await server.NewBackendAsync();
        var counting = new CountingReads(backend);
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(new FakeClock(Start));
        services.AddSingleton<ILoyaltyStore>(new DocumentLoyaltyStore(counting));
        services.AddLoyalty().UseDefaultProgram(DefaultPrograms.Retail()).AddLedger(o => o.RequireKnownCustomers = false);
        await using var provider = services.BuildServiceProvider();
        var ledger = provider.GetRequiredService<ILedgerService>();
        var customer = new CustomerId("cus_ann");
        await ledger.ExecuteAsync(Tenant, new EarnCommand { IdempotencyKey = "k0", Customer = customer, Points = 10 });

        var before = counting.Reads;
        var result = await ledger.ExecuteAsync(Tenant, new EarnCommand { IdempotencyKey = "k1", Customer = customer, Points = 5 });
        Assert.Equal(15, result.Balances.Single().Available);
        Assert.Equal(1, counting.Reads - before);

        // A replay is found by that one read.
        before = counting.Reads;
        Assert.True((await ledger.ExecuteAsync(Tenant, new EarnCommand { IdempotencyKey = "k1", Customer = customer, Points = 5 })).Replayed);
        Assert.Equal(1, counting.Reads - before);
    }

    private static SignedUp SignUp(string id, string email) => new()
    {
        Id = new EventId(id), Tenant = Tenant, OccurredAt = Start, Channel = Channel.Web, Identifiers = [new Identifier(IdentifierType.Email, email)],
    };

    private static OrderPlaced Order(string id, string email, string orderId)
    {
        OrderLine[] lines = [new() { LineId = "1", Sku = "SKU-1", Category = "apparel", Quantity = 1, UnitPrice = 40m }];
        return new OrderPlaced
        {
            Id = new EventId(id), Tenant = Tenant, OccurredAt = Start + Duration.FromMinutes(30), Channel = Channel.Web,
            Identifiers = [new Identifier(IdentifierType.Email, email)], OrderId = orderId, Currency = Currency.Eur, Lines = lines, Total = 40m,
        };
    }

    /// <summary>Counts the calls that read (every call but commits and claims), by kind and collection.</summary>
    private sealed class CountingReads(IDocumentBackend inner) : IDocumentBackend
    {
        private readonly Dictionary<string, int> byKind = new(StringComparer.Ordinal);

        public int Reads { get; private set; }

        public IOutboxStore Outbox => inner.Outbox;

        public bool PrefersReadAhead => inner.PrefersReadAhead;

        public string Describe() => string.Join(", ", byKind.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"));

        private void Read(string what)
        {
            lock (byKind)
            {
                Reads++;
                byKind[what] = byKind.GetValueOrDefault(what) + 1;
            }
        }

        public ValueTask<StoredDocument?> GetAsync(TenantId tenant, string collection, string key, CancellationToken cancellationToken = default)
        {
            Read("get " + collection);
            return inner.GetAsync(tenant, collection, key, cancellationToken);
        }

        public ValueTask<IReadOnlyList<StoredDocument>> GetManyAsync(TenantId tenant, IReadOnlyList<DocumentKey> keys, CancellationToken cancellationToken = default)
        {
            Read("get-many");
            return inner.GetManyAsync(tenant, keys, cancellationToken);
        }

        public ValueTask<IReadOnlyList<StoredDocument>> QueryAsync(TenantId tenant, DocumentQuery query, CancellationToken cancellationToken = default)
        {
            Read("query " + query.Collection);
            return inner.QueryAsync(tenant, query, cancellationToken);
        }

        public ValueTask<long> CountAsync(TenantId tenant, string collection, CancellationToken cancellationToken = default)
        {
            Read("count " + collection);
            return inner.CountAsync(tenant, collection, cancellationToken);
        }

        public ValueTask<IReadOnlyList<StoredEntry>> ReadEntriesAsync(TenantId tenant, EntryQuery query, CancellationToken cancellationToken = default)
        {
            Read("entries " + query.Stream);
            return inner.ReadEntriesAsync(tenant, query, cancellationToken);
        }

        public ValueTask<IReadOnlyDictionary<string, long>> ReadCountersAsync(TenantId tenant, string group, CancellationToken cancellationToken = default)
        {
            Read("counters " + group);
            return inner.ReadCountersAsync(tenant, group, cancellationToken);
        }

        public ValueTask<bool> OutboxContainsAsync(TenantId tenant, string key, CancellationToken cancellationToken = default)
        {
            Read("outbox");
            return inner.OutboxContainsAsync(tenant, key, cancellationToken);
        }

        public ValueTask<IReadOnlyList<StoredDocument>> ClaimDueAsync(TenantId tenant, string collection, Instant now, int max, string owner, Instant leaseUntil, CancellationToken cancellationToken = default) =>
            inner.ClaimDueAsync(tenant, collection, now, max, owner, leaseUntil, cancellationToken);

        public ValueTask CommitAsync(TenantId tenant, DocumentChangeSet changes, CancellationToken cancellationToken = default) =>
            inner.CommitAsync(tenant, changes, cancellationToken);
    }
}
