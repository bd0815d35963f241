using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Identity.Matching.Engine;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.Identity.Tests;

public sealed class Harness : IAsyncDisposable
{
    public static readonly TenantId Tenant = new("acme");
    private readonly ServiceProvider provider;
    private int sequence;

    public Harness(LoyaltyProgram? program = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(Clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program ?? DefaultPrograms.Retail()).AddDuplicateDetection();
        provider = services.BuildServiceProvider();
        Engine = provider.GetRequiredService<ILoyaltyEngine>();
        Identity = provider.GetRequiredService<IIdentityService>();
        Duplicates = provider.GetRequiredService<IDuplicateDetectionService>();
    }

    public FakeClock Clock { get; } = new(Instant.FromUtc(2026, 3, 1, 12, 0));

    public ILoyaltyEngine Engine { get; }

    public IIdentityService Identity { get; }

    public IDuplicateDetectionService Duplicates { get; }

    public static Identifier Email(string v) => new(IdentifierType.Email, v);

    public static Identifier Card(string v) => new(IdentifierType.LoyaltyCard, v);

    public static Identifier Phone(string v) => new(IdentifierType.Phone, v);

    public static Identifier Device(string v) => new(IdentifierType.DeviceId, v);

    public static Identifier Ecom(string v) => new(IdentifierType.EcomCustomerId, v);

    public Interaction Visit(params Identifier[] ids)
    {
        Clock.Advance(Duration.FromMinutes(1));
        return new Interaction
        {
            Id = new EventId($"e-{Interlocked.Increment(ref sequence)}"), Tenant = Tenant, OccurredAt = Clock.GetCurrentInstant(), Channel = Channel.Pos,
            InteractionKind = InteractionKind.StoreVisit, Identifiers = ids,
        };
    }

    public async Task<IngestResult> IngestAsync(params Identifier[] ids) => await Engine.IngestAsync(Visit(ids));

    public async Task<CustomerId> CustomerOfAsync(Identifier id) => (await Engine.ResolveAsync(Tenant, id))!.Value;

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}

public sealed class IdentityResolutionTests
{
    [Fact]
    public async Task A_merge_that_would_exceed_a_per_type_limit_drops_the_lowest_priority_identifier_and_records_the_refusal()
    {
        await using var h = new Harness();
        var a = (await h.IngestAsync(Harness.Ecom("ecom-1"), Harness.Phone("+33612345678"))).Customer;
        var b = (await h.IngestAsync(Harness.Ecom("ecom-2"))).Customer;

        // A household phone seen with the second person's e-commerce id: one ecom id per customer, so the phone goes.
        var r = await h.IngestAsync(Harness.Ecom("ecom-2"), Harness.Phone("+33612345678"));

        Assert.Equal(b, r.Customer);
        Assert.Empty(r.Merged);
        var refusal = Assert.Single(r.Decisions, d => d.Action == "link_refused");
        Assert.Equal(IdentityStage.LimitRule, refusal.Rule);
        Assert.Equal(a, await h.CustomerOfAsync(Harness.Phone("+33612345678")));
    }

    [Fact]
    public async Task A_value_refused_for_many_customers_is_auto_blocked_with_a_decision()
    {
        await using var h = new Harness();
        await h.IngestAsync(Harness.Ecom("ecom-0"), Harness.Email("shop.counter@acme.example"));
        for (var i = 1; i <= 3; i++)
        {
            await h.IngestAsync(Harness.Ecom($"ecom-{i}"), Harness.Email("shop.counter@acme.example"));
        }

        var blocked = await h.Identity.ListBlockedValuesAsync(Harness.Tenant);
        var value = Assert.Single(blocked);
        Assert.True(value.Automatic);
        Assert.Equal(Harness.Email("shop.counter@acme.example"), value.Identifier);

        // From now on it is ignored on every event, and alone it is no usable identifier.
        var later = await h.IngestAsync(Harness.Ecom("ecom-9"), Harness.Email("shop.counter@acme.example"));
        Assert.Contains(later.Decisions, d => d is { Action: "identifier_blocked", Rule: IdentityStage.AutoBlockRule });
        var ex = await Assert.ThrowsAsync<EventValidationException>(() => h.IngestAsync(Harness.Email("shop.counter@acme.example")));
        Assert.Equal("no_usable_identifier", Assert.Single(ex.Errors).Code);
    }

    [Theory]
    [InlineData("email", "noreply@acme.example")]
    [InlineData("email", "test@whatever.com")]
    [InlineData("loyalty_card", "TEST-123")]
    [InlineData("phone", "+33666666666")]
    public async Task Configured_blocked_values_and_patterns_never_link(string type, string value)
    {
        await using var h = new Harness();
        var r = await h.IngestAsync(Harness.Ecom("ecom-1"), new Identifier(new IdentifierType(type), value));
        Assert.Contains(r.Decisions, d => d.Action == "identifier_blocked");
        Assert.Null(await h.Engine.ResolveAsync(Harness.Tenant, new Identifier(new IdentifierType(type), value)));
    }

    [Fact]
    public void Gmail_provider_rules_are_opt_in()
    {
        var plain = IdentifierNormalizer.Normalize(Harness.Email("Ada.Lovelace+shop@GoogleMail.com"), "FR", new IdentifierTypePolicy());
        var rules = IdentifierNormalizer.Normalize(Harness.Email("Ada.Lovelace+shop@GoogleMail.com"), "FR", new IdentifierTypePolicy { ProviderRules = true });
        Assert.Equal("ada.lovelace+shop@googlemail.com", plain.Identifier!.Value);
        Assert.Equal("adalovelace@gmail.com", rules.Identifier!.Value);
        Assert.Equal("bob@example.com", IdentifierNormalizer.ApplyProviderRules("bob+news@example.com"));
    }

    [Fact]
    public async Task Invalid_oversized_and_unknown_identifiers_are_refused_with_typed_errors_and_nothing_changes()
    {
        await using var h = new Harness();
        await Assert.ThrowsAsync<EventValidationException>(() => h.IngestAsync(Harness.Email("not-an-email")));
        await Assert.ThrowsAsync<EventValidationException>(() => h.IngestAsync(Harness.Email(new string('a', 300) + "@x.com")));
        await Assert.ThrowsAsync<EventValidationException>(() => h.IngestAsync(new Identifier(new IdentifierType("nope"), "1")));
        Assert.Null(await h.Engine.ResolveAsync(Harness.Tenant, Harness.Email("not-an-email")));
    }

    [Fact]
    public async Task A_long_transitive_chain_of_merges_ends_in_one_customer_up_to_the_merge_cap()
    {
        var program = DefaultPrograms.Retail() with { Identity = new IdentityPolicy { MaxMergesPerCustomer = 5 } };
        await using var h = new Harness(program);
        for (var i = 0; i < 10; i++)
        {
            await h.IngestAsync(Harness.Device($"d{i}"));
        }

        for (var i = 1; i < 10; i++)
        {
            await h.IngestAsync(Harness.Device("d0"), Harness.Device($"d{i}"));
        }

        var survivor = await h.CustomerOfAsync(Harness.Device("d0"));
        var merged = 0;
        for (var i = 0; i < 10; i++)
        {
            merged += await h.CustomerOfAsync(Harness.Device($"d{i}")) == survivor ? 1 : 0;
        }

        Assert.Equal(6, merged);
        var explain = await h.Identity.ExplainAsync(Harness.Tenant, survivor);
        Assert.Equal(5, explain.Merges.Count);
        Assert.Contains(explain.Refusals, d => d.Rule == IdentityStage.CapRule);
    }

    [Fact]
    public async Task Concurrent_events_racing_to_merge_the_same_customers_end_consistent()
    {
        await using var h = new Harness(DefaultPrograms.Retail() with { Identity = new IdentityPolicy() });
        await h.IngestAsync(Harness.Email("a@x.com"));
        await h.IngestAsync(Harness.Card("C1"));
        await h.IngestAsync(Harness.Phone("+33612345678"));

        var events = Enumerable.Range(0, 20).Select(i => h.Visit(Harness.Email("a@x.com"), i % 2 == 0 ? Harness.Card("C1") : Harness.Phone("+33612345678"), Harness.Card("C1"))).ToArray();
        await Task.WhenAll(events.Select(e => Task.Run(async () => await h.Engine.IngestAsync(e))));

        var one = await h.CustomerOfAsync(Harness.Email("a@x.com"));
        Assert.Equal(one, await h.CustomerOfAsync(Harness.Card("C1")));
        Assert.Equal(one, await h.CustomerOfAsync(Harness.Phone("+33612345678")));
        var view = await h.Engine.GetCustomerAsync(Harness.Tenant, one);
        Assert.Equal(2, view!.Identity.Merges.Count);
        Assert.Equal(3, view.Identity.Links.Count);
    }

    [Fact]
    public async Task A_blocked_value_on_every_event_never_links_anyone()
    {
        await using var h = new Harness();
        var customers = new HashSet<CustomerId>();
        for (var i = 0; i < 50; i++)
        {
            var r = await h.IngestAsync(Harness.Card($"LC{i}"), Harness.Phone("0000000000"), Harness.Email("store@acme.example"));
            customers.Add(r.Customer!.Value);
            Assert.Empty(r.Merged);
            Assert.Equal(2, r.Decisions.Count(d => d.Action == "identifier_blocked"));
        }

        Assert.Equal(50, customers.Count);
        Assert.Null(await h.Engine.ResolveAsync(Harness.Tenant, Harness.Email("store@acme.example")));
    }
}
