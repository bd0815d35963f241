using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.Consent.Tests;

/// <summary>An engine with consent, in memory, on a fake clock.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    public static readonly Instant DefaultNow = Instant.FromUtc(2025, 6, 10, 10, 0);

    private int sequence;

    private TestHost(ServiceProvider provider, FakeClock clock, LoyaltyProgram program)
    {
        Provider = provider;
        Clock = clock;
        Program = program;
        Engine = provider.GetRequiredService<ILoyaltyEngine>();
        Consent = provider.GetRequiredService<IConsentService>();
        Preferences = provider.GetRequiredService<IPreferenceCenter>();
        PersonalData = provider.GetRequiredService<IPersonalDataService>();
        Store = provider.GetRequiredService<InMemoryLoyaltyStore>();
        Policy = CompiledConsentPolicy.For(program);
    }

    public ServiceProvider Provider { get; }

    public FakeClock Clock { get; }

    public LoyaltyProgram Program { get; }

    public CompiledConsentPolicy Policy { get; }

    public ILoyaltyEngine Engine { get; }

    public IConsentService Consent { get; }

    public IPreferenceCenter Preferences { get; }

    public IPersonalDataService PersonalData { get; }

    public InMemoryLoyaltyStore Store { get; }

    public TenantId Tenant { get; } = new("acme");

    public Instant Now => Clock.GetCurrentInstant();

    /// <summary>A small policy for precise tests: quiet hours 21:00–09:00, one promotions cap of 2 per 7 rolling days.</summary>
    public static ConsentPolicy TestPolicy(params FrequencyCapRule[] caps) => new()
    {
        Tags = ["promotions", "news"],
        Topics = [new TopicDefinition { Id = "offers", Name = "Offers" }, new TopicDefinition { Id = "newsletters", Name = "Newsletters" }],
        Caps = caps.Length > 0 ? caps : [new FrequencyCapRule { Id = "promo-weekly", Tag = "promotions", Max = 2, Days = 7 }],
        QuietHours = new QuietHours { Start = "21:00", End = "09:00" },
        SendWindows = [new SendWindow { Channel = ContactChannel.Sms, From = "10:00", To = "20:00" }],
        DoubleOptIn = new DoubleOptInPolicy { TimeoutHours = 48, Channels = [ContactChannel.WhatsApp] },
        MessageClasses =
        [
            new MessageClassDefinition { Id = "promotional", Purpose = ConsentPurpose.Marketing, Tags = ["promotions"], Topic = "offers", OnCapReached = CapAction.Skip },
            new MessageClassDefinition { Id = "promo_defer", Purpose = ConsentPurpose.Marketing, Tags = ["promotions"], Topic = "offers", OnCapReached = CapAction.Defer, DeferHorizonHours = 24 * 7 },
            new MessageClassDefinition { Id = "newsletter", Purpose = ConsentPurpose.Marketing, Tags = ["news"], Topic = "newsletters" },
            new MessageClassDefinition { Id = "transactional", Purpose = ConsentPurpose.Transactional },
        ],
    };

    public static TestHost Create(ConsentPolicy? policy = null, Instant? now = null, Action<ConsentOptions>? configure = null, Action<ILoyaltyBuilder>? capabilities = null)
    {
        var clock = new FakeClock(now ?? DefaultNow);
        var program = DefaultPrograms.Retail() with { Consent = policy ?? TestPolicy() };
        var services = new ServiceCollection().AddSingleton<IClock>(clock);
        var builder = services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program).AddConsent(configure);
        capabilities?.Invoke(builder);
        return new TestHost(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }), clock, program);
    }

    public EventId NextId() => new($"evt-{Interlocked.Increment(ref sequence)}");

    public static Identifier Email(string value) => new(IdentifierType.Email, value);

    public async Task<CustomerId> SignUpAsync(string email, string? phone = null, string? device = null, string? zone = "Europe/Paris", Instant? at = null, string? givenName = null)
    {
        var ids = new List<Identifier> { Email(email) };
        if (phone is not null)
        {
            ids.Add(new Identifier(IdentifierType.Phone, phone));
        }

        if (device is not null)
        {
            ids.Add(new Identifier(IdentifierType.DeviceId, device));
        }

        var result = await Engine.IngestAsync(new SignedUp
        {
            Id = NextId(), Tenant = Tenant, OccurredAt = at ?? Now.Minus(Duration.FromDays(30)), Channel = Channel.Web, Identifiers = ids,
            Profile = new ProfileData { TimeZone = zone, GivenName = givenName },
        });
        return result.Customer!.Value;
    }

    public ValueTask<IngestResult> ConsentEventAsync(string email, ContactChannel channel, ConsentStatus status, ConsentPurpose purpose = ConsentPurpose.Marketing, Instant? at = null, string? source = "form") =>
        Engine.IngestAsync(new ConsentChanged
        {
            Id = NextId(), Tenant = Tenant, OccurredAt = at ?? Now.Minus(Duration.FromDays(20)), Channel = Channel.Web, Identifiers = [Email(email)],
            ContactChannel = channel, Purpose = purpose, Status = status, Source = source, WordingVersion = "2025-01",
        });

    public ValueTask<IngestResult> SignalAsync(string email, InteractionKind kind, Channel channel = Channel.Email, Instant? at = null) =>
        Engine.IngestAsync(new Interaction
        {
            Id = NextId(), Tenant = Tenant, OccurredAt = at ?? Now.Minus(Duration.FromDays(1)), Channel = channel, Identifiers = [Email(email)], InteractionKind = kind, MessageId = "m-1",
        });

    public SendCheck Check(CustomerId customer, ContactChannel channel = ContactChannel.Email, string messageClass = "promotional", Instant? at = null, ConsentPurpose? purpose = null, string? messageId = null) => new()
    {
        Tenant = Tenant, Customer = customer, Channel = channel, MessageClass = messageClass, At = at ?? Now,
        Purpose = purpose ?? (messageClass == "transactional" ? ConsentPurpose.Transactional : ConsentPurpose.Marketing),
        MessageId = messageId,
    };

    /// <summary>A customer granted email marketing, reachable by email, phone and device, in Paris.</summary>
    public async Task<CustomerId> GrantedCustomerAsync(string email = "ann@example.com", string? zone = "Europe/Paris")
    {
        var digits = (email.Aggregate(17u, (h, ch) => (h * 31) + ch) % 1_000_000u).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        var c = await SignUpAsync(email, "+33612" + digits, "dev-" + email, zone);
        await ConsentEventAsync(email, ContactChannel.Email, ConsentStatus.Granted);
        await ConsentEventAsync(email, ContactChannel.Sms, ConsentStatus.Granted);
        await ConsentEventAsync(email, ContactChannel.Push, ConsentStatus.Granted);
        return c;
    }

    public ValueTask DisposeAsync() => Provider.DisposeAsync();
}
