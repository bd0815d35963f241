using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Loyalty.Sdk;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Programs;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

BenchmarkSwitcher.FromAssembly(typeof(EarnBenchmarks).Assembly).Run(args);

/// <summary>Earn postings: the floor (a bare dictionary increment), the pure engine, and the full service path.</summary>
[MemoryDiagnoser]
public class EarnBenchmarks
{
    public const int Postings = 100_000;
    private const int Customers = 1_000;
    private static readonly Instant Now = Instant.FromUtc(2025, 3, 3, 10, 0);
    private LoyaltyProgram program = null!;
    private LedgerEngine engine = null!;
    private CustomerId[] customers = null!;
    private string[] keys = null!;
    private EarnCommand[] commands = null!;
    private CustomerLedger[]? states;
    private Dictionary<CustomerId, long>? floor;
    private ServiceProvider provider = null!;
    private ILedgerService service = null!;
    private int round;

    [GlobalSetup]
    public void Setup()
    {
        program = new LoyaltyProgram
        {
            Id = "bench", Name = "Bench", BaseCurrency = Currency.Eur, DefaultTimeZone = "Europe/Paris",
            Ledger = new LedgerProgram { Expiry = new ExpiryPolicy { Kind = ExpiryKind.AfterActivation, Months = 12, RoundUpTo = ExpiryRounding.Month } },
        };
        engine = new LedgerEngine(program);
        customers = Enumerable.Range(0, Customers).Select(i => new CustomerId($"c{i}")).ToArray();
        keys = Enumerable.Range(0, Postings).Select(i => $"earn-{i}").ToArray();
        commands = keys.Select((k, i) => new EarnCommand { IdempotencyKey = k, Customer = customers[i % Customers], Points = 10 + (i % 7) }).ToArray();
    }

    // The floor and the engine reset their own state at the start of each invocation (1,000 empty dictionary entries
    // or states against 100,000 postings, about 1% of the work), so that BenchmarkDotNet can run them as ordinary
    // multi-invocation benchmarks, tiered JIT included; only the service needs a fresh container per iteration.
    [IterationSetup(Target = nameof(Service_earn))]
    public void Reset()
    {
        provider?.Dispose();
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(new FixedClock(Now));
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program).AddLedger(o => o.RequireKnownCustomers = false);
        provider = services.BuildServiceProvider();
        service = provider.GetRequiredService<ILedgerService>();
        round++;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Postings)]
    public long Floor_dictionary_increment()
    {
        (floor ??= new Dictionary<CustomerId, long>(Customers)).Clear();
        long sum = 0;
        for (var i = 0; i < Postings; i++)
        {
            var c = customers[i % Customers];
            floor[c] = sum = floor.GetValueOrDefault(c) + commands[i].Points;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Postings)]
    public long Engine_earn()
    {
        states ??= new CustomerLedger[Customers];
        for (var c = 0; c < Customers; c++)
        {
            states[c] = new CustomerLedger(customers[c]);
        }

        long sum = 0;
        for (var i = 0; i < Postings; i++)
        {
            var posting = engine.Execute(states[i % Customers], commands[i], Now);
            sum += posting.Transfers.Count;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Postings)]
    public async Task<long> Service_earn()
    {
        long sum = 0;
        var tenant = new TenantId("bench");
        for (var i = 0; i < Postings; i++)
        {
            var result = await service.ExecuteAsync(tenant, commands[i]);
            sum += result.Net;
        }

        return sum;
    }

    private sealed class FixedClock(Instant now) : IClock
    {
        public Instant GetCurrentInstant() => now;
    }
}

/// <summary>Redemptions against balances with a few lots each: pure engine and service.</summary>
[MemoryDiagnoser]
public class RedeemBenchmarks
{
    public const int Redemptions = 50_000;
    private const int Customers = 1_000;
    private static readonly Instant Now = Instant.FromUtc(2025, 3, 3, 10, 0);
    private LedgerEngine engine = null!;
    private LoyaltyProgram program = null!;
    private CustomerId[] customers = null!;
    private RedeemCommand[] commands = null!;
    private CustomerLedger[] states = null!;
    private ServiceProvider provider = null!;
    private ILedgerService service = null!;

    [GlobalSetup]
    public void Setup()
    {
        program = new LoyaltyProgram
        {
            Id = "bench", Name = "Bench", BaseCurrency = Currency.Eur,
            Ledger = new LedgerProgram { Expiry = new ExpiryPolicy { Kind = ExpiryKind.AfterActivation, Months = 12, RoundUpTo = ExpiryRounding.Month } },
        };
        engine = new LedgerEngine(program);
        customers = Enumerable.Range(0, Customers).Select(i => new CustomerId($"c{i}")).ToArray();
        commands = Enumerable.Range(0, Redemptions).Select(i => new RedeemCommand { IdempotencyKey = $"redeem-{i}", Customer = customers[i % Customers], Points = 5 }).ToArray();
    }

    [IterationSetup]
    public void Reset()
    {
        states = customers.Select(c => new CustomerLedger(c)).ToArray();
        provider?.Dispose();
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(new FixedClock(Now));
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program).AddLedger(o => o.RequireKnownCustomers = false);
        provider = services.BuildServiceProvider();
        service = provider.GetRequiredService<ILedgerService>();
        var tenant = new TenantId("bench");
        for (var c = 0; c < Customers; c++)
        {
            for (var l = 0; l < 4; l++)
            {
                var earn = new EarnCommand { IdempotencyKey = $"seed-{c}-{l}", Customer = customers[c], Points = 100 };
                engine.Execute(states[c], earn, Now + Duration.FromDays(l));
                service.ExecuteAsync(tenant, earn).AsTask().GetAwaiter().GetResult();
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Redemptions)]
    public long Engine_redeem()
    {
        long sum = 0;
        for (var i = 0; i < Redemptions; i++)
        {
            sum += engine.Execute(states[i % Customers], commands[i], Now + Duration.FromDays(10)).Transfers.Count;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Redemptions)]
    public async Task<long> Service_redeem()
    {
        long sum = 0;
        var tenant = new TenantId("bench");
        for (var i = 0; i < Redemptions; i++)
        {
            sum += (await service.ExecuteAsync(tenant, commands[i])).Net;
        }

        return sum;
    }

    private sealed class FixedClock(Instant now) : IClock
    {
        public Instant GetCurrentInstant() => now;
    }
}
