using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Programs;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;
using NpgsqlTypes;

namespace Loyalty.Sdk.Storage.Benchmarks;

/// <summary>
/// One ledger posting (an earn of 10 points) on PostgreSQL: our path, <see cref="ILedgerService.ExecuteAsync"/> through
/// <see cref="Documents.DocumentLoyaltyStore"/>, against a raw Npgsql loop doing the least SQL a posting needs, in the
/// same run and on the same server. Every invocation makes <see cref="PostingsPerInvoke"/> postings.
/// <list type="bullet">
/// <item><c>low</c> contention: the postings rotate over <see cref="Customers"/> customers who already have a balance.</item>
/// <item><c>hot</c>: every posting of an invocation goes to one customer, a new one each iteration (given a first
/// posting by <see cref="IterationSetup"/>, outside the measurement).</item>
/// </list>
/// </summary>
/// <remarks>
/// The raw loop holds one open connection and three prepared statements, sent as one <see cref="NpgsqlBatch"/> (one
/// round trip, one implicit transaction): insert the journal row (the transfer; its key is the idempotency key), update
/// the customer's balance row where its version is the one the loop last wrote (the loop checks that one row changed),
/// and upsert the program account's counter. <see cref="RawNpgsqlTransaction"/> does the same in an explicit
/// transaction (BEGIN goes with the batch, COMMIT is a second round trip).
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
[OperationsPerSecond]
public class PostingBenchmarks
{
    /// <summary>Postings per invocation.</summary>
    public const int PostingsPerInvoke = 1_000;

    /// <summary>Customers the low-contention postings rotate over.</summary>
    public const int Customers = 1_000;

    private static readonly TenantId Tenant = new("acme");
    private static readonly Instant Now = Instant.FromUtc(2025, 3, 3, 10, 0);

    private readonly string[] customers = [.. Enumerable.Range(0, Customers).Select(i => $"c{i:D4}")];

    // Raw loop.
    private string? rawSchema;
    private NpgsqlConnection? connection;
    private NpgsqlBatch? posting;
    private NpgsqlBatch? postingInTransaction;
    private Dictionary<string, long> versions = [];

    // Ours.
    private StoreHost? host;
    private ILedgerService ledger = null!;
    private BackendCounts counts = new();

    private bool raw;
    private string label = string.Empty;
    private string hotCustomer = string.Empty;
    private int iteration;
    private long next;
    private TimeSpan measured;
    private int invocations;

    /// <summary>low: rotate over <see cref="Customers"/> customers; hot: one customer.</summary>
    [Params("low", "hot")]
    public string Contention { get; set; } = "low";

    [GlobalSetup(Targets = [nameof(RawNpgsql), nameof(RawNpgsqlTransaction)])]
    public void SetupRaw() => SetupRawAsync().GetAwaiter().GetResult();

    [GlobalSetup(Target = nameof(LedgerService))]
    public void SetupOurs() => SetupOursAsync(Stores.Postgres).GetAwaiter().GetResult();

    [GlobalSetup(Target = nameof(LedgerServiceNoResetOnClose))]
    public void SetupOursNoReset() => SetupOursAsync(Stores.PostgresNoReset).GetAwaiter().GetResult();

    [IterationSetup]
    public void IterationSetup()
    {
        iteration++;
        hotCustomer = $"hot{iteration:D3}";
        if (Contention != "hot")
        {
            return;
        }

        // The iteration's hot customer gets a first posting (a balance, a ledger document) outside the measurement.
        if (raw)
        {
            SeedRawCustomersAsync([hotCustomer]).GetAwaiter().GetResult();
        }
        else
        {
            ledger.ExecuteAsync(Tenant, new EarnCommand { IdempotencyKey = $"seed-{hotCustomer}", Customer = new CustomerId(hotCustomer), Points = 10 }).AsTask().GetAwaiter().GetResult();
            host!.Backend!.TakeCounts();
        }
    }

    [IterationCleanup]
    public void IterationCleanup()
    {
        if (host?.Backend is { } backend)
        {
            counts.Add(backend.TakeCounts());
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (host is not null && invocations > 0)
        {
            Console.WriteLine($"// Backend {label} Contention={Contention}, {invocations} invocations: {counts.Describe((long)invocations * PostingsPerInvoke, measured, "posting")}");
        }

        posting?.Dispose();
        postingInTransaction?.Dispose();
        connection?.Dispose();
        connection = null;
        host?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        host = null;
        if (rawSchema is not null)
        {
            BenchDatabases.DropSchemaAsync(rawSchema).GetAwaiter().GetResult();
            rawSchema = null;
        }
    }

    /// <summary>The floor: three prepared statements in one round trip.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = PostingsPerInvoke)]
    public async Task<long> RawNpgsql()
    {
        var started = Stopwatch.GetTimestamp();
        long total = 0;
        for (var i = 0; i < PostingsPerInvoke; i++)
        {
            total += await PostRawAsync(posting!, transaction: false).ConfigureAwait(false);
        }

        Measured(started);
        return total;
    }

    /// <summary>The same statements in an explicit transaction (two round trips).</summary>
    [Benchmark(OperationsPerInvoke = PostingsPerInvoke)]
    public async Task<long> RawNpgsqlTransaction()
    {
        var started = Stopwatch.GetTimestamp();
        long total = 0;
        for (var i = 0; i < PostingsPerInvoke; i++)
        {
            total += await PostRawAsync(postingInTransaction!, transaction: true).ConfigureAwait(false);
        }

        Measured(started);
        return total;
    }

    /// <summary>Ours: <see cref="ILedgerService.ExecuteAsync"/> with an earn command.</summary>
    [Benchmark(OperationsPerInvoke = PostingsPerInvoke)]
    public async Task<long> LedgerService()
    {
        var started = Stopwatch.GetTimestamp();
        long total = 0;
        for (var i = 0; i < PostingsPerInvoke; i++)
        {
            var command = new EarnCommand { IdempotencyKey = $"earn-{++next}", Customer = new CustomerId(NextCustomer()), Points = 10 };
            total += (await ledger.ExecuteAsync(Tenant, command).ConfigureAwait(false)).Net;
        }

        Measured(started);
        return total;
    }

    /// <summary>Ours with <c>No Reset On Close=true</c> in the connection string (an extra measurement).</summary>
    [Benchmark(OperationsPerInvoke = PostingsPerInvoke)]
    public Task<long> LedgerServiceNoResetOnClose() => LedgerService();

    private void Measured(long started)
    {
        measured += Stopwatch.GetElapsedTime(started);
        invocations++;
    }

    private string NextCustomer() => Contention == "hot" ? hotCustomer : customers[(int)(next % Customers)];

    private async Task<long> PostRawAsync(NpgsqlBatch batch, bool transaction)
    {
        var customer = NextCustomer();
        var id = $"earn-{++next}";
        var expected = versions[customer];
        var journal = batch.BatchCommands[0].Parameters;
        journal[1].Value = id;
        journal[2].Value = customer;
        var balance = batch.BatchCommands[1].Parameters;
        balance[1].Value = customer;
        balance[3].Value = expected;
        NpgsqlTransaction? tx = transaction ? await connection!.BeginTransactionAsync().ConfigureAwait(false) : null;
        try
        {
            batch.Transaction = tx;
            await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
            if (batch.BatchCommands[1].RecordsAffected != 1)
            {
                throw new InvalidOperationException($"The balance of {customer} was changed by another writer (version {expected}).");
            }

            if (tx is not null)
            {
                await tx.CommitAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            if (tx is not null)
            {
                await tx.DisposeAsync().ConfigureAwait(false);
            }
        }

        versions[customer] = expected + 1;
        return 10;
    }

    private async Task SetupRawAsync()
    {
        ResetMeasurements();
        raw = true;
        rawSchema = BenchDatabases.NewSchema("raw");
        var s = $"\"{rawSchema}\"";
        await BenchDatabases.ExecuteAsync($"""
            CREATE SCHEMA {s};
            CREATE TABLE {s}.journal (
                tenant text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, customer text COLLATE "C" NOT NULL,
                amount bigint NOT NULL, at bigint NOT NULL, seq bigint GENERATED ALWAYS AS IDENTITY,
                PRIMARY KEY (tenant, id));
            CREATE INDEX journal_customer_idx ON {s}.journal (tenant, customer, seq);
            CREATE TABLE {s}.balances (
                tenant text COLLATE "C" NOT NULL, customer text COLLATE "C" NOT NULL, points bigint NOT NULL, version bigint NOT NULL,
                PRIMARY KEY (tenant, customer));
            CREATE TABLE {s}.accounts (
                tenant text COLLATE "C" NOT NULL, account text COLLATE "C" NOT NULL, value bigint NOT NULL,
                PRIMARY KEY (tenant, account));
            """).ConfigureAwait(false);
        connection = new NpgsqlConnection(BenchDatabases.PostgresConnection);
        await connection.OpenAsync().ConfigureAwait(false);
        await SeedRawCustomersAsync(customers).ConfigureAwait(false);
        await BenchDatabases.ExecuteAsync($"ANALYZE {s}.journal; ANALYZE {s}.balances; ANALYZE {s}.accounts;").ConfigureAwait(false);
        posting = await PrepareAsync(s).ConfigureAwait(false);
        postingInTransaction = await PrepareAsync(s).ConfigureAwait(false);
    }

    private async Task<NpgsqlBatch> PrepareAsync(string s)
    {
        static NpgsqlParameter P(NpgsqlDbType type, object value) => new() { NpgsqlDbType = type, Value = value };
        var batch = new NpgsqlBatch(connection);
        var journal = new NpgsqlBatchCommand($"INSERT INTO {s}.journal (tenant, id, customer, amount, at) VALUES ($1, $2, $3, $4, $5)");
        journal.Parameters.Add(P(NpgsqlDbType.Text, Tenant.Value));
        journal.Parameters.Add(P(NpgsqlDbType.Text, string.Empty));
        journal.Parameters.Add(P(NpgsqlDbType.Text, string.Empty));
        journal.Parameters.Add(P(NpgsqlDbType.Bigint, 10L));
        journal.Parameters.Add(P(NpgsqlDbType.Bigint, Now.ToUnixTimeTicks()));
        var balance = new NpgsqlBatchCommand($"UPDATE {s}.balances SET points = points + $3, version = version + 1 WHERE tenant = $1 AND customer = $2 AND version = $4");
        balance.Parameters.Add(P(NpgsqlDbType.Text, Tenant.Value));
        balance.Parameters.Add(P(NpgsqlDbType.Text, string.Empty));
        balance.Parameters.Add(P(NpgsqlDbType.Bigint, 10L));
        balance.Parameters.Add(P(NpgsqlDbType.Bigint, 0L));
        var account = new NpgsqlBatchCommand($"INSERT INTO {s}.accounts AS a (tenant, account, value) VALUES ($1, $2, $3) ON CONFLICT (tenant, account) DO UPDATE SET value = a.value + excluded.value");
        account.Parameters.Add(P(NpgsqlDbType.Text, Tenant.Value));
        account.Parameters.Add(P(NpgsqlDbType.Text, "points/earning/d"));
        account.Parameters.Add(P(NpgsqlDbType.Bigint, 10L));
        batch.BatchCommands.Add(journal);
        batch.BatchCommands.Add(balance);
        batch.BatchCommands.Add(account);
        await batch.PrepareAsync().ConfigureAwait(false);
        return batch;
    }

    private async Task SeedRawCustomersAsync(IReadOnlyList<string> ids)
    {
        foreach (var sql in new[]
        {
            $"INSERT INTO \"{rawSchema}\".balances (tenant, customer, points, version) SELECT $1, c, 10, 1 FROM unnest($2::text[]) AS c",
            $"INSERT INTO \"{rawSchema}\".journal (tenant, id, customer, amount, at) SELECT $1, 'seed-' || c, c, 10, 0 FROM unnest($2::text[]) AS c",
        })
        {
            await using var seed = new NpgsqlCommand(sql, connection);
            seed.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = Tenant.Value });
            seed.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = ids.ToArray() });
            await seed.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        foreach (var id in ids)
        {
            versions[id] = 1;
        }
    }

    private async Task SetupOursAsync(string store)
    {
        ResetMeasurements();
        raw = false;
        label = store == Stores.PostgresNoReset ? nameof(LedgerServiceNoResetOnClose) : nameof(LedgerService);
        var program = new LoyaltyProgram
        {
            Id = "bench", Name = "Bench", BaseCurrency = Currency.Eur, DefaultTimeZone = "Europe/Paris",
            Ledger = new LedgerProgram { Expiry = new ExpiryPolicy { Kind = ExpiryKind.AfterActivation, Months = 12, RoundUpTo = ExpiryRounding.Month } },
        };
        host = await StoreHost.CreateAsync(store, Now, b => b.UseDefaultProgram(program).AddLedger(o => o.RequireKnownCustomers = false)).ConfigureAwait(false);
        ledger = host.Services.GetRequiredService<ILedgerService>();
        foreach (var c in customers)
        {
            await ledger.ExecuteAsync(Tenant, new EarnCommand { IdempotencyKey = $"seed-{c}", Customer = new CustomerId(c), Points = 10 }).ConfigureAwait(false);
        }

        host.Backend!.TakeCounts();
    }

    private void ResetMeasurements()
    {
        counts = new BackendCounts();
        versions = [];
        measured = TimeSpan.Zero;
        invocations = 0;
        iteration = 0;
        next = 0;
    }
}
