using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Simulation;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Segments.Tests;

public sealed class ConsentTraitTests
{
    private static readonly TenantId Tenant = new("acme");
    private static readonly Instant Start = Instant.FromUtc(2025, 3, 1, 10, 0);

    [Fact]
    public async Task Consent_and_reachability_follow_the_consent_history_and_hard_suppression()
    {
        var clock = new ManualClock(Start);
        var program = DefaultPrograms.Retail() with
        {
            Segments =
            [
                new SegmentDefinition { Id = "emailable", Name = "E-mailable", Rule = "consent(email, marketing) and reachable(email)" },
            ],
        };
        var services = new ServiceCollection().AddSingleton<IClock>(clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program).AddConsent().AddSegments();
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();
        var n = 0;

        async Task<IngestResult> Ingest(Func<EventId, Instant, LoyaltyEvent> make)
        {
            var at = Start + Duration.FromMinutes(++n);
            clock.AdvanceTo(at);
            return await engine.IngestAsync(make(new EventId($"e{n}"), at));
        }

        Identifier[] ids = [new Identifier(IdentifierType.Email, "ann@example.com")];
        var signUp = await Ingest((id, at) => new SignedUp { Id = id, Tenant = Tenant, OccurredAt = at, Channel = Channel.Web, Identifiers = ids });
        Assert.DoesNotContain(signUp.Segments, s => s.Segment == "emailable");

        var granted = await Ingest((id, at) => new ConsentChanged
        {
            Id = id, Tenant = Tenant, OccurredAt = at, Channel = Channel.Web, Identifiers = ids, Source = "form",
            ContactChannel = ContactChannel.Email, Purpose = ConsentPurpose.Marketing, Status = ConsentStatus.Granted,
        });
        Assert.Contains(new SegmentChange("emailable", true), granted.Segments);

        var bounced = await Ingest((id, at) => new Interaction
        {
            Id = id, Tenant = Tenant, OccurredAt = at, Channel = Channel.Email, Identifiers = ids, InteractionKind = InteractionKind.MessageBounced,
        });
        Assert.Contains(new SegmentChange("emailable", false), bounced.Segments);
    }
}
