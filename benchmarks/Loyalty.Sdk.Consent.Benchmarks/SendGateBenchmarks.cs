using BenchmarkDotNet.Attributes;
using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Consent.Benchmarks;

/// <summary>
/// The send gate's pure decision path over prepared state: a Paris customer with email consent, 24 dispatched messages
/// over the last 30 days, and 5 cap rules active (rolling and calendar-day, channel- and tag-scoped), plus quiet hours
/// and an SMS send window. One operation is one <see cref="SendGateEngine.Decide"/> call.
/// </summary>
[MemoryDiagnoser]
public class SendGateBenchmarks
{
    private CompiledConsentPolicy policy = null!;
    private ContactState state = null!;
    private ContactState capped = null!;
    private Instant sendAt;
    private Instant quietAt;

    [GlobalSetup]
    public void Setup()
    {
        policy = CompiledConsentPolicy.Compile(
            new ConsentPolicy
            {
                Tags = ["promotions", "newsletter"],
                Caps =
                [
                    new FrequencyCapRule { Id = "all-weekly", Max = 6, Days = 7 },
                    new FrequencyCapRule { Id = "all-daily", Max = 2, Window = CapWindowKind.CalendarDays, Days = 1 },
                    new FrequencyCapRule { Id = "promotions-weekly", Tag = "promotions", Max = 3, Days = 7 },
                    new FrequencyCapRule { Id = "email-monthly", Channel = ContactChannel.Email, Max = 20, Window = CapWindowKind.CalendarDays, Days = 30 },
                    new FrequencyCapRule { Id = "sms-monthly", Channel = ContactChannel.Sms, Max = 2, Days = 30 },
                ],
                QuietHours = new QuietHours { Start = "21:00", End = "09:00" },
                SendWindows = [new SendWindow { Channel = ContactChannel.Sms, From = "10:00", To = "20:00" }],
                MessageClasses =
                [
                    new MessageClassDefinition { Id = "promotional", Purpose = ConsentPurpose.Marketing, Tags = ["promotions"], OnCapReached = CapAction.Defer, DeferHorizonHours = 72 },
                ],
            },
            "Europe/Paris");
        sendAt = Instant.FromUtc(2025, 6, 18, 10, 0); // 12:00 in Paris
        quietAt = Instant.FromUtc(2025, 6, 18, 21, 30); // 23:30 in Paris
        var customer = new CustomerId("cus_bench");
        var consents = new[]
        {
            new ConsentState(ContactChannel.Email, ConsentPurpose.Marketing, ConsentStatus.Granted, sendAt - Duration.FromDays(200), null, "r1"),
            new ConsentState(ContactChannel.Sms, ConsentPurpose.Marketing, ConsentStatus.Granted, sendAt - Duration.FromDays(200), null, "r2"),
        };
        SendRecord Send(int i, int daysAgo, string tag) => new()
        {
            MessageId = $"m{i}", Customer = customer, Channel = i % 4 == 0 ? ContactChannel.Push : ContactChannel.Email, MessageClass = "promotional", Tags = [tag],
            SentAt = sendAt - Duration.FromDays(daysAgo) - Duration.FromHours(3),
        };
        var zone = DateTimeZoneProviders.Tzdb["Europe/Paris"];
        var light = Enumerable.Range(0, 24).Select(i => Send(i, 8 + i % 22, i % 2 == 0 ? "newsletter" : "promotions")).ToArray();
        var heavy = light.Concat(Enumerable.Range(24, 4).Select(i => Send(i, i % 3, "promotions"))).ToArray();
        ContactState Build(SendRecord[] sends) => ContactState.Create(
            customer, zone, TimeZoneSource.Profile, consents, [ContactChannel.Email, ContactChannel.Sms, ContactChannel.Push], [], [], sends, sends.Length, null, false, policy);
        state = Build(light);
        capped = Build(heavy);
    }

    /// <summary>Everything passes: all five caps counted, quiet hours checked.</summary>
    [Benchmark(Baseline = true)]
    public SendDecision Send() => SendGateEngine.Decide(state, policy, ContactChannel.Email, ConsentPurpose.Marketing, "promotional", sendAt);

    /// <summary>Quiet hours: deferred to 09:00 local.</summary>
    [Benchmark]
    public SendDecision QuietHours() => SendGateEngine.Decide(state, policy, ContactChannel.Email, ConsentPurpose.Marketing, "promotional", quietAt);

    /// <summary>A cap is hit and the message is deferred until the window frees.</summary>
    [Benchmark]
    public SendDecision CapHit() => SendGateEngine.Decide(capped, policy, ContactChannel.Email, ConsentPurpose.Marketing, "promotional", sendAt);
}
