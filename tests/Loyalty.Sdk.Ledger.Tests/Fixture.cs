using Loyalty.Sdk.Events;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.Ledger.Tests;

/// <summary>An engine with the ledger, a fake clock and an in-memory store.</summary>
public sealed class Host : IAsyncDisposable
{
    public static readonly TenantId Tenant = new("acme");
    public static readonly Instant Start = Instant.FromUtc(2025, 3, 3, 10, 0);
    private readonly ServiceProvider provider;
    private int events;

    public Host(LoyaltyProgram? program = null, bool requireKnown = false)
    {
        Clock = new FakeClock(Start);
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(Clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program ?? Programs.Simple()).AddLedger(o => o.RequireKnownCustomers = requireKnown);
        provider = services.BuildServiceProvider();
        Engine = provider.GetRequiredService<ILoyaltyEngine>();
        Ledger = provider.GetRequiredService<ILedgerService>();
        Identity = provider.GetRequiredService<Identity.IIdentityService>();
    }

    public Identity.IIdentityService Identity { get; }

    public FakeClock Clock { get; }

    public ILoyaltyEngine Engine { get; }

    public ILedgerService Ledger { get; }

    public Instant Now => Clock.GetCurrentInstant();

    public async Task<IngestResult> Ingest(LoyaltyEvent e) => await Engine.IngestAsync(e);

    public string NextEventId() => $"e{Interlocked.Increment(ref events)}";

    public OrderPlaced Order(string email, string orderId, decimal unitPrice, int quantity = 1, string category = "apparel", long pointsRedeemed = 0, string? eventId = null, IReadOnlyList<OrderLine>? lines = null)
    {
        var l = lines ?? [new OrderLine { LineId = "1", Sku = "SKU-" + category, Category = category, Quantity = quantity, UnitPrice = unitPrice }];
        return new OrderPlaced
        {
            Id = new EventId(eventId ?? NextEventId()), Tenant = Tenant, OccurredAt = Now, Channel = Channel.Web,
            Identifiers = [new Identifier(IdentifierType.Email, email)], OrderId = orderId, Currency = Currency.Eur,
            Lines = l, Total = l.Sum(x => x.LineTotal), PointsRedeemed = pointsRedeemed,
        };
    }

    public OrderCompleted Completed(string email, string orderId) => new()
    {
        Id = new EventId(NextEventId()), Tenant = Tenant, OccurredAt = Now, Identifiers = [new Identifier(IdentifierType.Email, email)], OrderId = orderId,
    };

    public OrderReturned Returned(string email, string orderId, string returnId, params OrderLineQuantity[] lines) => new()
    {
        Id = new EventId(NextEventId()), Tenant = Tenant, OccurredAt = Now, Identifiers = [new Identifier(IdentifierType.Email, email)], OrderId = orderId, ReturnId = returnId, Lines = lines,
    };

    public async Task<LedgerBalance> Balance(CustomerId customer, string ledger = "points") =>
        (await Ledger.GetBalancesAsync(Tenant, customer)).FirstOrDefault(b => b.Ledger == ledger) is { Ledger: not null } b ? b : new LedgerBalance { Ledger = ledger };

    public async Task AssertReconciled()
    {
        var report = await Ledger.ReconcileAsync(Tenant);
        Assert.True(report.Balanced, string.Join("\n", report.Problems));
        Assert.All(report.SumByLedger.Values, v => Assert.Equal(0, v));
    }

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}

public static class Programs
{
    /// <summary>1 point per EUR, 12-month expiry rounded to month end, 30-day window from completion, within balance.</summary>
    public static LoyaltyProgram Simple(ReturnMode mode = ReturnMode.WithinBalance, int pendingDays = 30, PendingStart start = PendingStart.Completion, TierProgram? tiers = null, ExpiryPolicy? expiry = null) => new()
    {
        Id = "test",
        Name = "Test",
        BaseCurrency = Currency.Eur,
        DefaultTimeZone = "Europe/Paris",
        Ledger = new LedgerProgram
        {
            Currencies = [new PointCurrency { Code = "points", ValuePerPoint = 0.01m }, new PointCurrency { Code = "stamps", ValuePerPoint = 0.5m }],
            EarningRules = [new EarningRule { Id = "base", Kind = EarningRuleKind.Base, Rate = 1m, Priority = 100 }],
            Expiry = expiry ?? new ExpiryPolicy { Kind = ExpiryKind.AfterActivation, Months = 12, RoundUpTo = ExpiryRounding.Month },
            Pending = new PendingPolicy { Days = pendingDays, StartsAt = start },
            Returns = new ReturnPolicy { Mode = mode },
            Conversions = [new CurrencyConversion { From = "stamps", To = "points", Rate = 50m }],
            ExpiryNoticeDays = 30,
            Tiers = tiers,
        },
    };

    public static readonly CustomerId Ann = new("ann");
    public static readonly CustomerId Bob = new("bob");
}
