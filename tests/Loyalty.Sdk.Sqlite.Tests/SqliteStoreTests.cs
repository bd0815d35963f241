using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Simulation;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using Loyalty.Sdk.Validation;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Sqlite.Tests;

public sealed class SqliteStoreTests : IDisposable
{
    private static readonly TenantId Tenant = new("t1");
    private readonly string folder = Directory.CreateTempSubdirectory("loyalty-sqlite-").FullName;

    private string File(string name = "loyalty.db") => Path.Combine(folder, name);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task The_engine_on_a_file_keeps_its_state_across_restarts_and_matches_the_in_memory_store()
    {
        var shop = ShopGenerator.Generate(new ShopSettings { Customers = 60, Days = 40, Seed = 3 });
        var events = shop.Events.Where(e => e.Tenant == shop.Settings.Tenant).ToArray();
        var half = events.Length / 2;

        Dictionary<string, long> sqliteBalances;
        await using (var host = await Host.SqliteAsync(File(), events[0].OccurredAt))
        {
            await host.IngestAsync(events[..half]);
        }

        // A new process: the first half is already there, a re-sent event changes nothing, the rest continues.
        await using (var host = await Host.SqliteAsync(File(), events[half].OccurredAt))
        {
            var again = await host.Engine.IngestAsync(events[0]);
            Assert.Equal(IngestOutcome.Duplicate, again.Outcome);
            await host.IngestAsync(events[half..]);
            sqliteBalances = await host.BalancesAsync(shop.Settings.Tenant);
        }

        await using var memory = Host.InMemory(events[0].OccurredAt);
        await memory.IngestAsync(events);
        var memoryBalances = await memory.BalancesAsync(shop.Settings.Tenant);
        Assert.NotEmpty(memoryBalances);
        Assert.Equal(memoryBalances.OrderBy(kv => kv.Key), sqliteBalances.OrderBy(kv => kv.Key));
    }

    [Fact]
    public async Task Migrations_are_applied_once_and_a_newer_database_is_refused()
    {
        using (await SqliteDocumentBackend.OpenAsync(SqliteStorageOptions.ForFile(File())))
        {
        }

        using (await SqliteDocumentBackend.OpenAsync(SqliteStorageOptions.ForFile(File())))
        {
        }

        await using var connection = new SqliteConnection($"Data Source={File()}");
        await connection.OpenAsync();
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT count(*) FROM loyalty_migrations";
            Assert.Equal((long)SqliteMigrations.Shipped.Count, (long)(await cmd.ExecuteScalarAsync())!);
            cmd.CommandText = "INSERT INTO loyalty_migrations (version, name, applied_at) VALUES (9999, 'future', 'x')";
            await cmd.ExecuteNonQueryAsync();
        }

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await SqliteDocumentBackend.OpenAsync(SqliteStorageOptions.ForFile(File())));
        Assert.Contains("9999", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_processes_writing_the_same_record_conflict_and_the_loser_applies_nothing()
    {
        // Two backends on one file stand for two processes.
        await using var a = new DocumentLoyaltyStore(await SqliteDocumentBackend.OpenAsync(SqliteStorageOptions.ForFile(File())));
        await using var b = new DocumentLoyaltyStore(await SqliteDocumentBackend.OpenAsync(SqliteStorageOptions.ForFile(File())));
        var ann = new CustomerId("ann");
        var bob = new CustomerId("bob");
        var at = Instant.FromUtc(2026, 1, 1, 0, 0);

        await using var first = await a.OpenSessionAsync(Tenant);
        await using var second = await b.OpenSessionAsync(Tenant);
        Assert.Null(await first.Profiles.GetAsync(ann));
        Assert.Null(await second.Profiles.GetAsync(ann));
        await first.Profiles.SaveAsync(new CustomerProfile { Customer = ann, FirstSeen = at, LastSeen = at }, 0);
        await second.Profiles.SaveAsync(new CustomerProfile { Customer = ann, FirstSeen = at, LastSeen = at }, 0);
        await second.Profiles.SaveAsync(new CustomerProfile { Customer = bob, FirstSeen = at, LastSeen = at }, 0);
        await first.CommitAsync();
        await Assert.ThrowsAsync<ConcurrencyConflictException>(async () => await second.CommitAsync());

        await using var check = await a.OpenSessionAsync(Tenant);
        Assert.Equal(1, (await check.Profiles.GetAsync(ann))!.Version);
        Assert.Null(await check.Profiles.GetAsync(bob));
    }

    [Fact]
    public async Task Dispatchers_in_two_processes_claim_disjoint_messages()
    {
        await using var a = new DocumentLoyaltyStore(await SqliteDocumentBackend.OpenAsync(SqliteStorageOptions.ForFile(File())));
        await using var b = new DocumentLoyaltyStore(await SqliteDocumentBackend.OpenAsync(SqliteStorageOptions.ForFile(File())));
        var at = Instant.FromUtc(2026, 1, 1, 0, 0);
        await using (var session = await a.OpenSessionAsync(Tenant))
        {
            for (var i = 0; i < 200; i++)
            {
                Assert.True(await session.Outbox.EnqueueAsync(new OutboxMessage { Key = $"m{i:D3}", Tenant = Tenant, Customer = new CustomerId($"c{i % 7}"), ActionKind = "message", DueAt = at }));
            }

            await session.CommitAsync();
        }

        var claimedA = new List<string>();
        var claimedB = new List<string>();
        await Task.WhenAll(
            Task.Run(async () => { for (var i = 0; i < 20; i++) { claimedA.AddRange((await a.Outbox.ClaimDueAsync(at, 7, Duration.FromMinutes(5), "a")).Select(c => c.Message.Key)); } }),
            Task.Run(async () => { for (var i = 0; i < 20; i++) { claimedB.AddRange((await b.Outbox.ClaimDueAsync(at, 7, Duration.FromMinutes(5), "b")).Select(c => c.Message.Key)); } }));
        Assert.Empty(claimedA.Intersect(claimedB));
        Assert.Equal(200, claimedA.Concat(claimedB).Distinct().Count());

        // An expired lease makes a message claimable again, with one more attempt.
        var again = await b.Outbox.ClaimDueAsync(at + Duration.FromMinutes(6), 500, Duration.FromMinutes(5), "b");
        Assert.Equal(200, again.Count);
        Assert.All(again, c => Assert.Equal(2, c.Message.Attempts));
    }

    private sealed class Host : IAsyncDisposable
    {
        private readonly ServiceProvider provider;

        private Host(ServiceProvider provider, ManualClock clock)
        {
            this.provider = provider;
            Clock = clock;
        }

        public ManualClock Clock { get; }

        public ILoyaltyEngine Engine => provider.GetRequiredService<ILoyaltyEngine>();

        public static ValueTask<Host> SqliteAsync(string file, Instant start) => ValueTask.FromResult(Create(b => b.UseSqliteStorage($"Data Source={file}"), start));

        public static Host InMemory(Instant start) => Create(b => b.UseInMemoryStorage(), start);

        private static Host Create(Action<ILoyaltyBuilder> store, Instant start)
        {
            var clock = new ManualClock(start);
            var services = new ServiceCollection();
            services.AddSingleton<IClock>(clock);
            var builder = services.AddLoyalty().UseDefaultProgram(DefaultPrograms.Retail()).AddConsent().AddLedger().AddSegments();
            store(builder);
            return new Host(services.BuildServiceProvider(), clock);
        }

        public async Task IngestAsync(IEnumerable<Events.LoyaltyEvent> events)
        {
            foreach (var e in events)
            {
                if (e.OccurredAt > Clock.Now)
                {
                    Clock.AdvanceTo(e.OccurredAt);
                }

                await Engine.IngestAsync(e);
            }
        }

        public async Task<Dictionary<string, long>> BalancesAsync(TenantId tenant)
        {
            var ledger = provider.GetRequiredService<ILedgerService>();
            var result = new Dictionary<string, long>(StringComparer.Ordinal);
            var store = provider.GetRequiredService<ILoyaltyStore>();
            await using (var session = await store.OpenSessionAsync(tenant))
            {
                foreach (var customer in await session.Ledger.ListCustomersAsync(0, int.MaxValue))
                {
                    var state = await session.Ledger.GetAsync(customer);
                    foreach (var b in state!.Balances)
                    {
                        result[$"{customer}/{b.Ledger}"] = (b.Available * 1_000_000) + b.LifetimeEarned;
                    }
                }
            }

            // (The in-memory store serializes sessions of a tenant: the one above must be closed first.)

            var report = await ledger.ReconcileAsync(tenant);
            Assert.True(report.Balanced, string.Join("; ", report.Problems));
            return result;
        }

        public ValueTask DisposeAsync() => provider.DisposeAsync();
    }
}
