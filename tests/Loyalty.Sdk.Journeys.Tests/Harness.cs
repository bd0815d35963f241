using System.Collections.Concurrent;
using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Journeys;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Simulation;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.Journeys.Tests;

internal sealed class FakeSender(ContactChannel channel) : IChannelSender
{
    public ConcurrentQueue<(string Key, string? Template, CustomerId Customer)> Sent { get; } = new();

    public int FailNext { get; set; }

    /// <summary>Runs before a send (e.g. to let another dispatcher take the message over).</summary>
    public Func<OutboxMessage, Task>? BeforeSend { get; set; }

    public ContactChannel Channel => channel;

    public async ValueTask<DeliveryResult> SendAsync(OutboxMessage message, ContactChannel c, CancellationToken cancellationToken = default)
    {
        if (BeforeSend is { } before)
        {
            await before(message);
        }

        if (FailNext > 0)
        {
            FailNext--;
            throw new InvalidOperationException("injected sender crash");
        }

        Sent.Enqueue((message.Key, message.Template, message.Customer));
        return DeliveryResult.Delivered;
    }
}

internal sealed class FakeHandler : IJourneyActionHandler
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public string Name => "staff_alert";

    public ValueTask<DeliveryResult> HandleAsync(OutboxMessage message, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue(message.Key);
        return ValueTask.FromResult(DeliveryResult.Delivered);
    }
}

/// <summary>A stage after the journey stage that crashes on demand (between steps of the pipeline).</summary>
internal sealed class CrashStage : IOutboxStage
{
    public int CrashNext { get; set; }

    public ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        if (CrashNext > 0)
        {
            CrashNext--;
            throw new InvalidOperationException("injected crash");
        }

        return ValueTask.CompletedTask;
    }
}

internal sealed class Harness : IAsyncDisposable
{
    public static readonly TenantId Tenant = new("acme");
    public static readonly Instant Start = Instant.FromUtc(2025, 3, 3, 10, 0);
    private readonly ServiceProvider provider;
    private int next;

    public Harness(Action<JourneyOptions> configure, LoyaltyProgram? program = null, InMemoryLoyaltyStore? store = null, Func<InMemoryLoyaltyStore, ILoyaltyStore>? wrapStore = null)
    {
        Clock = new FakeClock(Start);
        var p = program ?? DefaultPrograms.Retail();
        p = p with { Consent = (p.Consent ?? ConsentPolicy.Default) with { Holdout = null } };
        var services = new ServiceCollection().AddSingleton<IClock>(Clock);
        if (store is not null)
        {
            services.AddSingleton(store);
        }

        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(p).AddConsent().AddLedger().AddJourneys(configure);
        services.AddSingleton<IChannelSender>(Email);
        services.AddSingleton<IChannelSender>(Sms);
        services.AddSingleton<IJourneyActionHandler>(Handler);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOutboxStage>(Crash));
        if (wrapStore is not null)
        {
            services.AddSingleton(sp => wrapStore(sp.GetRequiredService<InMemoryLoyaltyStore>()));
        }
        provider = services.BuildServiceProvider();
        Engine = provider.GetRequiredService<ILoyaltyEngine>();
        Journeys = provider.GetRequiredService<IJourneyService>();
        Dispatcher = provider.GetRequiredService<IOutboxDispatcher>();
        Store = provider.GetRequiredService<InMemoryLoyaltyStore>();
        Ledger = provider.GetRequiredService<Loyalty.Sdk.Ledger.ILedgerService>();
    }

    public Loyalty.Sdk.Ledger.ILedgerService Ledger { get; }

    public IServiceProvider Services => provider;

    public FakeClock Clock { get; }

    public FakeSender Email { get; } = new(ContactChannel.Email);

    public FakeSender Sms { get; } = new(ContactChannel.Sms);

    public FakeHandler Handler { get; } = new();

    public CrashStage Crash { get; } = new();

    public ILoyaltyEngine Engine { get; }

    public IJourneyService Journeys { get; }

    public IOutboxDispatcher Dispatcher { get; }

    public InMemoryLoyaltyStore Store { get; }

    public static Identifier Mail(string email) => new(IdentifierType.Email, email);

    public EventId NextId() => new($"e-{Interlocked.Increment(ref next)}");

    public Task<IngestResult> SignUpAsync(string email, bool consent = true, LocalDate? birthDate = null, EventId? id = null) => IngestAsync(new SignedUp
    {
        Id = id ?? NextId(), Tenant = Tenant, OccurredAt = Clock.GetCurrentInstant(), Channel = Channel.Web, Identifiers = [Mail(email)],
        Profile = new ProfileData { TimeZone = "Europe/Paris", BirthDate = birthDate },
    }, consent ? email : null);

    public async Task<IngestResult> IngestAsync(LoyaltyEvent e, string? consentFor = null)
    {
        var result = await Engine.IngestAsync(e);
        if (consentFor is not null)
        {
            await Engine.IngestAsync(new ConsentChanged
            {
                Id = NextId(), Tenant = Tenant, OccurredAt = Clock.GetCurrentInstant(), Channel = Channel.Web, Identifiers = [Mail(consentFor)],
                ContactChannel = ContactChannel.Email, Purpose = ConsentPurpose.Marketing, Status = ConsentStatus.Granted, Source = "form", WordingVersion = "2025-01",
            });
        }

        return result;
    }

    public OrderPlaced Order(string email, decimal total = 50m, EventId? id = null) => new()
    {
        Id = id ?? NextId(), Tenant = Tenant, OccurredAt = Clock.GetCurrentInstant(), Channel = Channel.Web, Identifiers = [Mail(email)],
        OrderId = "O-" + Guid.NewGuid().ToString("N"), Currency = Currency.Eur, Total = total,
        Lines = [new OrderLine { LineId = "1", Sku = "SKU", Category = "shoes", Quantity = 1, UnitPrice = total }],
    };

    public CartAbandoned Cart(string email, decimal value) => new()
    {
        Id = NextId(), Tenant = Tenant, OccurredAt = Clock.GetCurrentInstant(), Channel = Channel.Web, Identifiers = [Mail(email)],
        CartId = "C-" + Guid.NewGuid().ToString("N"), Currency = Currency.Eur, Value = value,
    };

    /// <summary>Advances the clock day by day (timers and dispatch each day at the current time of day).</summary>
    public async Task RunDaysAsync(int days, TimeSpan? step = null)
    {
        var delta = Duration.FromTimeSpan(step ?? TimeSpan.FromDays(1));
        var end = Clock.GetCurrentInstant() + Duration.FromDays(days);
        while (Clock.GetCurrentInstant() < end)
        {
            Clock.Reset(Clock.GetCurrentInstant() + delta);
            await TickAsync();
        }
    }

    public async Task TickAsync()
    {
        var now = Clock.GetCurrentInstant();
        await Journeys.AdvanceAsync(Tenant, now);
        await Dispatcher.DispatchDueAsync(now);
    }

    public async Task<JourneyReport> ReportAsync(string journey) =>
        (await Journeys.GetReportAsync(Tenant)).Single(r => r.Journey == journey);

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}
