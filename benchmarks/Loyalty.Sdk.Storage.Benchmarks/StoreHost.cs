using Loyalty.Sdk.PostgreSql;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Simulation;
using Loyalty.Sdk.Sqlite;
using Loyalty.Sdk.Storage.Documents;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;

namespace Loyalty.Sdk.Storage.Benchmarks;

/// <summary>The stores the benchmarks compare.</summary>
public static class Stores
{
    public const string Memory = "memory";
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>PostgreSQL with <c>No Reset On Close=true</c> in the connection string (an extra measurement: Npgsql then
    /// skips resetting the session of a pooled connection each time the backend returns it to the pool).</summary>
    public const string PostgresNoReset = "postgres-noreset";
}

/// <summary>
/// A fresh, empty store of one kind with an engine over it, wired as the <c>loyalty</c> CLI does
/// (<c>EngineHost</c>): <c>AddLoyalty()</c>, the default retail program, consent, ledger and segments, a
/// <see cref="ManualClock"/> that the caller moves along with the events, no logging. The durable stores are a
/// <see cref="DocumentLoyaltyStore"/> over a <see cref="CountingBackend"/> over the real backend: a new SQLite file
/// (WAL, <c>synchronous=NORMAL</c>, the defaults) or a new PostgreSQL schema (migrated, then given another tenant's rows
/// and analyzed, see <see cref="BenchDatabases.FillAndAnalyzeDocumentSchemaAsync"/>).
/// </summary>
public sealed class StoreHost : IAsyncDisposable
{
    private readonly ServiceProvider provider;
    private readonly DocumentLoyaltyStore? documents;
    private readonly string? sqliteFile;
    private readonly string? schema;

    private StoreHost(ServiceProvider provider, ManualClock clock, DocumentLoyaltyStore? documents, CountingBackend? counting, string? sqliteFile, string? schema)
    {
        this.provider = provider;
        this.documents = documents;
        this.sqliteFile = sqliteFile;
        this.schema = schema;
        Clock = clock;
        Backend = counting;
        Services = provider;
    }

    /// <summary>The engine clock (moves only forward).</summary>
    public ManualClock Clock { get; }

    /// <summary>The counting backend of a durable store, with what the store asked of it (null for the in-memory store).</summary>
    public CountingBackend? Backend { get; }

    /// <summary>The container.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Creates an empty store of kind <paramref name="store"/> and the engine over it.</summary>
    /// <param name="store">One of <see cref="Stores"/>.</param>
    /// <param name="start">The engine clock's start.</param>
    /// <param name="configure">Registers the program and capabilities on the builder (storage is done here).</param>
    public static async Task<StoreHost> CreateAsync(string store, Instant start, Action<ILoyaltyBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var clock = new ManualClock(start);
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        DocumentLoyaltyStore? documents = null;
        CountingBackend? counting = null;
        string? file = null, schema = null;
        switch (store)
        {
            case Stores.Memory:
                break;
            case Stores.Sqlite:
                file = BenchDatabases.NewSqliteFile("store");
                var sqlite = await SqliteLoyaltyStore.OpenFileAsync(file).ConfigureAwait(false);
                counting = new CountingBackend(sqlite.Backend);
                break;
            case Stores.Postgres or Stores.PostgresNoReset:
                schema = BenchDatabases.NewSchema("store");
                var connectionString = store == Stores.PostgresNoReset
                    ? new Npgsql.NpgsqlConnectionStringBuilder(BenchDatabases.PostgresConnection) { NoResetOnClose = true }.ConnectionString
                    : BenchDatabases.PostgresConnection;
                var postgres = await PostgreSqlLoyaltyStore.CreateAsync(connectionString, new PostgreSqlStorageOptions { Schema = schema }).ConfigureAwait(false);
                await BenchDatabases.FillAndAnalyzeDocumentSchemaAsync(schema).ConfigureAwait(false);
                counting = new CountingBackend(postgres.Backend);
                break;
            default:
                throw new ArgumentException($"Unknown store '{store}'.", nameof(store));
        }

        var builder = services.AddLoyalty();
        if (counting is null)
        {
            builder.UseInMemoryStorage();
        }
        else
        {
            documents = new DocumentLoyaltyStore(counting);
            services.AddSingleton<ILoyaltyStore>(documents);
        }

        configure(builder);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new StoreHost(provider, clock, documents, counting, file, schema);
    }

    /// <summary>The engine of the CLI: default retail program, consent, ledger, segments.</summary>
    public static void Retail(ILoyaltyBuilder builder) =>
        builder.UseDefaultProgram(DefaultPrograms.Retail()).AddConsent().AddLedger().AddSegments();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await provider.DisposeAsync().ConfigureAwait(false);
        if (documents is not null)
        {
            await documents.DisposeAsync().ConfigureAwait(false);
        }

        if (sqliteFile is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            BenchDatabases.DeleteSqliteFile(sqliteFile);
        }

        if (schema is not null)
        {
            await BenchDatabases.DropSchemaAsync(schema).ConfigureAwait(false);
        }
    }
}
