using Loyalty.Sdk.Events;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using Loyalty.Sdk.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

/// <summary>The engine over <see cref="DocumentLoyaltyStore"/> and this backend, wired as a host would, against the same
/// engine over the in-memory store.</summary>
[Collection(PostgresCollection.Name)]
public sealed class EngineTests(PostgresServer server)
{
    private static readonly TenantId Tenant = new("acme");
    private static readonly Instant Start = Instant.FromUtc(2025, 3, 3, 10, 0);

    private static LoyaltyProgram Program() => new()
    {
        Id = "test",
        Name = "Test",
        BaseCurrency = Currency.Eur,
        DefaultTimeZone = "Europe/Paris",
        Ledger = new LedgerProgram
        {
            Currencies = [new PointCurrency { Code = "points", ValuePerPoint = 0.01m }],
            EarningRules = [new EarningRule { Id = "base", Kind = EarningRuleKind.Base, Rate = 1m, Priority = 100 }],
            Expiry = new ExpiryPolicy { Kind = ExpiryKind.AfterActivation, Months = 12, RoundUpTo = ExpiryRounding.Month },
            Pending = new PendingPolicy { Days = 30, StartsAt = PendingStart.Completion },
            Returns = new ReturnPolicy { Mode = ReturnMode.WithinBalance },
        },
    };

    private sealed class Host : IAsyncDisposable
    {
        private readonly ServiceProvider provider;
        private int events;

        public Host(Action<ILoyaltyBuilder> storage, Action<LedgerOptions>? ledger = null)
        {
            var services = new ServiceCollection();
            services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
            services.AddSingleton<IClock>(Clock);
            var builder = services.AddLoyalty().UseDefaultProgram(Program());
            storage(builder);
            builder.AddLedger(ledger);
            provider = services.BuildServiceProvider();
            Engine = provider.GetRequiredService<ILoyaltyEngine>();
            Ledger = provider.GetRequiredService<ILedgerService>();
            Store = provider.GetRequiredService<ILoyaltyStore>();
        }

        public FakeClock Clock { get; } = new(Start);

        public ILoyaltyEngine Engine { get; }

        public ILedgerService Ledger { get; }

        public ILoyaltyStore Store { get; }

        public IServiceProvider Services => provider;

        private Instant Now => Clock.GetCurrentInstant();

        public async Task<IngestResult> OrderAsync(string email, string orderId, decimal price, int quantity = 1, string? eventId = null)
        {
            OrderLine[] lines = [new() { LineId = "1", Sku = "SKU-1", Category = "apparel", Quantity = quantity, UnitPrice = price }];
            return await Engine.IngestAsync(new OrderPlaced
            {
                Id = new EventId(eventId ?? $"e{++events}"), Tenant = Tenant, OccurredAt = Now, Channel = Channel.Web,
                Identifiers = [new Identifier(IdentifierType.Email, email)], OrderId = orderId, Currency = Currency.Eur,
                Lines = lines, Total = lines.Sum(l => l.LineTotal),
            });
        }

        public async Task<IngestResult> CompletedAsync(string email, string orderId) => await Engine.IngestAsync(new OrderCompleted
        {
            Id = new EventId($"e{++events}"), Tenant = Tenant, OccurredAt = Now, Identifiers = [new Identifier(IdentifierType.Email, email)], OrderId = orderId,
        });

        public async Task<IngestResult> ReturnedAsync(string email, string orderId, string returnId, int quantity) => await Engine.IngestAsync(new OrderReturned
        {
            Id = new EventId($"e{++events}"), Tenant = Tenant, OccurredAt = Now, Identifiers = [new Identifier(IdentifierType.Email, email)],
            OrderId = orderId, ReturnId = returnId, Lines = [new OrderLineQuantity { LineId = "1", Quantity = quantity }],
        });

        public async Task<IngestResult> SignUpAsync(string email, string phone) => await Engine.IngestAsync(new SignedUp
        {
            Id = new EventId($"e{++events}"), Tenant = Tenant, OccurredAt = Now, Channel = Channel.App,
            Identifiers = [new Identifier(IdentifierType.Email, email), new Identifier(IdentifierType.Phone, phone)],
        });

        public ValueTask DisposeAsync() => provider.DisposeAsync();
    }

    /// <summary>The same story told to a host: returns every customer's balances, profile spend and trail length.</summary>
    private static async Task<Dictionary<CustomerId, (LedgerBalance[] Balances, decimal? Spend, int Trail, int Statement)>> StoryAsync(Host host)
    {
        var customers = new HashSet<CustomerId>();
        void Saw(IngestResult r)
        {
            if (r.Customer is { } c)
            {
                customers.Add(c);
            }
        }

        Saw(await host.OrderAsync("ann@example.com", "O-1", 50m, quantity: 2));
        Saw(await host.SignUpAsync("bob@example.com", "+33612345678"));
        Saw(await host.OrderAsync("bob@example.com", "O-2", 40m));
        Saw(await host.OrderAsync("ann@example.com", "O-3", 30m));
        var duplicate = await host.OrderAsync("cat@example.com", "O-4", 20m, eventId: "dup");
        Saw(duplicate);
        Assert.Equal(IngestOutcome.Duplicate, (await host.OrderAsync("cat@example.com", "O-4", 20m, eventId: "dup")).Outcome);
        host.Clock.Advance(Duration.FromDays(2));
        Saw(await host.CompletedAsync("ann@example.com", "O-1"));
        Saw(await host.CompletedAsync("bob@example.com", "O-2"));
        Saw(await host.ReturnedAsync("ann@example.com", "O-3", "R-1", 1));
        Saw(await host.ReturnedAsync("bob@example.com", "O-2", "R-2", 1));
        host.Clock.Advance(Duration.FromDays(31));
        var due = await host.Ledger.RunDueWorkAsync(Tenant, host.Clock.GetCurrentInstant());
        Assert.True(due.PointsActivated > 0);
        Saw(await host.OrderAsync("ann@example.com", "O-5", 12.5m));

        var report = await host.Ledger.ReconcileAsync(Tenant);
        Assert.True(report.Balanced, string.Join("\n", report.Problems));

        var result = new Dictionary<CustomerId, (LedgerBalance[], decimal?, int, int)>();
        foreach (var customer in customers)
        {
            var balances = (await host.Ledger.GetBalancesAsync(Tenant, customer)).OrderBy(b => b.Ledger, StringComparer.Ordinal).ToArray();
            var view = await host.Engine.GetCustomerAsync(Tenant, customer);
            var trail = await host.Engine.GetDecisionTrailAsync(Tenant, customer, 0, 10_000);
            var statement = await host.Ledger.GetStatementAsync(Tenant, customer, 0, 1_000);
            result[customer] = (balances, view?.Profile?.Traits.GrossSpend, trail.Count, statement.Count);
        }

        return result;
    }

    [Fact]
    public async Task The_engine_over_postgres_ends_with_the_same_balances_as_over_memory()
    {
        await using var memory = new Host(b => b.UseInMemoryStorage());
        var schema = PostgresServer.NewSchema();
        await using var postgres = new Host(b => b.UsePostgreSqlStorage(server.ConnectionString, o =>
        {
            o.Schema = schema;
            o.MigrateOnStart = true;
        }));
        Assert.IsType<DocumentLoyaltyStore>(postgres.Store);

        var expected = await StoryAsync(memory);
        var actual = await StoryAsync(postgres);

        Assert.Equal(3, expected.Count);
        Assert.Equal(expected.Keys.Select(k => k.Value).Order(StringComparer.Ordinal), actual.Keys.Select(k => k.Value).Order(StringComparer.Ordinal));
        foreach (var (customer, (balances, spend, trail, statement)) in expected)
        {
            var got = actual[customer];
            Assert.Equal(balances, got.Balances);
            Assert.Equal(spend, got.Spend);
            Assert.Equal(trail, got.Trail);
            Assert.Equal(statement, got.Statement);
        }

        Assert.Contains(expected.Values, v => v.Balances.Any(b => b.Available > 0));
        Assert.Contains(expected.Values, v => v.Balances.Any(b => b.Pending > 0));

        // And the data is in PostgreSQL: a second host over the same schema reads it back.
        await using var again = new Host(b => b.UsePostgreSqlStorage(server.ConnectionString, o => o.Schema = schema));
        foreach (var (customer, (balances, _, _, _)) in expected)
        {
            Assert.Equal(balances, (await again.Ledger.GetBalancesAsync(Tenant, customer)).OrderBy(b => b.Ledger, StringComparer.Ordinal).ToArray());
        }
    }

    [Fact]
    public async Task Concurrent_ingestion_for_one_customer_over_two_nodes_loses_nothing()
    {
        var schema = PostgresServer.NewSchema();
        await using var first = new Host(b => b.UsePostgreSqlStorage(server.ConnectionString, o =>
        {
            o.Schema = schema;
            o.MigrateOnStart = true;
        }));
        await using var second = new Host(b => b.UsePostgreSqlStorage(server.ConnectionString, o =>
        {
            o.Schema = schema;
            o.MigrateOnStart = true;
        }));
        var customer = (await first.OrderAsync("ann@example.com", "O-0", 10m, eventId: "seed")).Customer!.Value;
        await Task.WhenAll(
            Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    await first.OrderAsync("ann@example.com", $"A-{i}", 10m, eventId: $"a{i}");
                }
            }),
            Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    await second.OrderAsync("ann@example.com", $"B-{i}", 10m, eventId: $"b{i}");
                }
            }));

        var balance = Assert.Single(await first.Ledger.GetBalancesAsync(Tenant, customer));
        Assert.Equal(210, balance.Pending);
        Assert.Equal(210m, (await first.Engine.GetCustomerAsync(Tenant, customer))!.Profile!.Traits.GrossSpend);
        Assert.True((await first.Ledger.ReconcileAsync(Tenant)).Balanced);
    }

    [Fact]
    public async Task Due_work_run_by_two_nodes_at_once_handles_each_customer_once()
    {
        var schema = PostgresServer.NewSchema();
        Host Node() => new(
            b => b.UsePostgreSqlStorage(server.ConnectionString, o =>
            {
                o.Schema = schema;
                o.MigrateOnStart = true;
            }),
            o => o.DueWorkBatchSize = 7);
        await using var first = Node();
        await using var second = Node();
        const int Customers = 60;
        var customers = new List<CustomerId>();
        for (var i = 0; i < Customers; i++)
        {
            var customer = (await first.SignUpAsync($"m{i}@example.com", $"+3361234{i:D4}")).Customer!.Value;
            customers.Add(customer);
            await first.Ledger.ExecuteAsync(Tenant, new EarnCommand { IdempotencyKey = $"earn-{i}", Customer = customer, Points = 100 + i });
        }

        // Long after every lot expired, a worker claims every due customer and dies: its leases keep the live nodes
        // off them until they lapse (LedgerOptions.DueWorkLease, 5 minutes).
        var expired = Start + Duration.FromDays(500);
        var session = await first.Store.OpenSessionAsync(Tenant);
        await using (session)
        {
            Assert.Equal(Customers, (await session.Ledger.ClaimDueAsync(expired, 1_000, Duration.FromMinutes(5), "crashed-node")).Count);
        }

        Assert.Equal(0, (await second.Ledger.RunDueWorkAsync(Tenant, expired + Duration.FromMinutes(4))).Customers);

        // Then both nodes work off the due customers at the same time.
        var later = expired + Duration.FromMinutes(5);
        var results = await Task.WhenAll(
            Task.Run(async () => await first.Ledger.RunDueWorkAsync(Tenant, later)),
            Task.Run(async () => await second.Ledger.RunDueWorkAsync(Tenant, later)));

        Assert.Equal(Customers, results.Sum(r => r.Customers));
        Assert.Equal(Enumerable.Range(0, Customers).Sum(i => 100L + i), results.Sum(r => r.PointsExpired));
        foreach (var customer in customers)
        {
            var statement = await first.Ledger.GetStatementAsync(Tenant, customer, 0, 100);
            Assert.Single(statement, l => l.Transfer.Kind == TransferKind.Expire);
        }

        Assert.Equal(0, (await first.Ledger.RunDueWorkAsync(Tenant, later)).Customers);
        Assert.True((await first.Ledger.ReconcileAsync(Tenant)).Balanced);
    }

    [Fact]
    public async Task UsePostgreSqlStorage_registers_the_backend_and_store_and_leaves_an_earlier_store_in_place()
    {
        var services = new ServiceCollection();
        services.AddLoyalty().UseDefaultProgram(Program()).UsePostgreSqlStorage(server.ConnectionString, o => o.Schema = "custom_schema");
        await using (var provider = services.BuildServiceProvider())
        {
            var store = Assert.IsType<DocumentLoyaltyStore>(provider.GetRequiredService<ILoyaltyStore>());
            var backend = provider.GetRequiredService<PostgreSqlDocumentBackend>();
            Assert.Same(backend, store.Backend);
            Assert.Same(backend, provider.GetRequiredService<IDocumentBackend>());
            Assert.Equal(("custom_schema", "loyalty_"), (backend.Schema, backend.TablePrefix));
            Assert.Contains("Max Auto Prepare=64", backend.DataSource.ConnectionString, StringComparison.OrdinalIgnoreCase);
        }

        var first = new ServiceCollection();
        first.AddLoyalty().UseDefaultProgram(Program()).UseInMemoryStorage().UsePostgreSqlStorage(server.ConnectionString);
        await using (var provider = first.BuildServiceProvider())
        {
            Assert.IsType<InMemoryLoyaltyStore>(provider.GetRequiredService<ILoyaltyStore>());
        }

        var invalid = new ServiceCollection();
        invalid.AddLoyalty().UseDefaultProgram(Program()).UsePostgreSqlStorage(server.ConnectionString, o => o.Schema = "No Good");
        await using (var provider = invalid.BuildServiceProvider())
        {
            var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ILoyaltyStore>());
            Assert.Contains("Schema", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CreateAsync_returns_a_migrated_store()
    {
        var schema = PostgresServer.NewSchema();
        var store = await PostgreSqlLoyaltyStore.CreateAsync(server.ConnectionString, new PostgreSqlStorageOptions { Schema = schema });
        var backend = Assert.IsType<PostgreSqlDocumentBackend>(store.Backend);
        await using (backend)
        {
            Assert.True((await backend.CheckSchemaAsync()).IsCurrent);
            await using var session = await store.OpenSessionAsync(Tenant);
            Assert.Null(await session.Profiles.GetAsync(new CustomerId("nobody")));
        }
    }
}
