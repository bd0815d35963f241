using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage.InMemory;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using NodaTime.Testing;
using static Loyalty.Sdk.Tests.Ev;

namespace Loyalty.Sdk.Tests;

public sealed class TenantIsolationTests
{
    private static readonly TenantId A = new("brand-a");
    private static readonly TenantId B = new("brand-b");
    private static readonly IdentifierType ClubCard = new("club_card");

    private static readonly LoyaltyProgram ProgramA = TestPrograms.Retail() with
    {
        Id = "brand-a-club",
        Name = "Brand A Club",
        Version = 7,
        DefaultRegion = "US",
        CustomIdentifierTypes = [ClubCard],
    };

    /// <summary>Two tenants with their own programs, wired through the container as a host would.</summary>
    private static (ServiceProvider Provider, ILoyaltyEngine Engine, InMemoryLoyaltyStore Store) Build()
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton<IClock>(new FakeClock(Fixed.Now));
        services.AddLoyalty().UseInMemoryStorage().UseProgram(A, ProgramA).UseProgram(B, TestPrograms.Retail());
        var provider = services.BuildServiceProvider();
        return (provider, provider.GetRequiredService<ILoyaltyEngine>(), provider.GetRequiredService<InMemoryLoyaltyStore>());
    }

    private static T In<T>(T e, TenantId tenant)
        where T : LoyaltyEvent => e with { Tenant = tenant };

    [Fact]
    public async Task The_same_identifier_and_event_id_in_two_tenants_make_two_customers()
    {
        var (provider, engine, store) = Build();
        await using var _ = provider;

        var inA = await engine.IngestAsync(In(Order("evt-1", "ord-1"), A));
        var inB = await engine.IngestAsync(In(Order("evt-1", "ord-1", lines: [Line("l1", 1, 10m)]), B));

        Assert.Equal(IngestOutcome.Applied, inA.Outcome);
        Assert.Equal(IngestOutcome.Applied, inB.Outcome);
        Assert.True(inB.NewCustomer);
        Assert.NotEqual(inA.Customer, inB.Customer);
        Assert.Equal(IdentityStage.NewCustomerId(A, new EventId("evt-1")), inA.Customer);
        Assert.Equal(IdentityStage.NewCustomerId(B, new EventId("evt-1")), inB.Customer);
        Assert.Equal(inA.Customer, await engine.ResolveAsync(A, Ada));
        Assert.Equal(inB.Customer, await engine.ResolveAsync(B, Ada));
        Assert.Equal(100m, (await engine.GetCustomerAsync(A, inA.Customer!.Value))!.Profile!.Traits.GrossSpend);
        Assert.Equal(10m, (await engine.GetCustomerAsync(B, inB.Customer!.Value))!.Profile!.Traits.GrossSpend);
        Assert.Equal(1, StoreCounts.Of(store, A).Profiles);
        Assert.Equal(1, StoreCounts.Of(store, B).Profiles);
    }

    [Fact]
    public async Task Reads_with_one_tenant_never_see_the_customers_or_decisions_of_another()
    {
        var (provider, engine, _) = Build();
        await using var _p = provider;
        var inA = await engine.IngestAsync(In(SignUp("evt-a", [Email("only-in-a@example.com")]), A));
        var customerA = inA.Customer!.Value;

        Assert.NotNull(await engine.GetCustomerAsync(A, customerA));
        Assert.NotEmpty(await engine.GetDecisionTrailAsync(A, customerA));
        Assert.Null(await engine.GetCustomerAsync(B, customerA));
        Assert.Empty(await engine.GetDecisionTrailAsync(B, customerA));
        Assert.Null(await engine.ResolveAsync(B, Email("only-in-a@example.com")));
    }

    [Fact]
    public async Task Ingesting_in_one_tenant_never_links_or_merges_customers_of_another()
    {
        var (provider, engine, store) = Build();
        await using var _ = provider;
        var inA = await engine.IngestAsync(In(Visit("evt-1", [Ada]), A));
        var inB = await engine.IngestAsync(In(Visit("evt-2", [Phone("+33612345678")]), B));

        // In B, an event carrying both identifiers: only B's customer is involved.
        var both = await engine.IngestAsync(In(Visit("evt-3", [Ada, Phone("+33612345678")]), B));

        Assert.Empty(both.Merged);
        Assert.Equal(inB.Customer, both.Customer);
        Assert.Equal(inA.Customer, await engine.ResolveAsync(A, Ada));
        Assert.Equal(inB.Customer, await engine.ResolveAsync(B, Ada));
        Assert.Null(await engine.ResolveAsync(A, Phone("+33612345678")));
        Assert.Single((await engine.GetCustomerAsync(A, inA.Customer!.Value))!.Identity.Links);
        Assert.Equal(1, StoreCounts.Of(store, A).Identities);
    }

    [Fact]
    public async Task A_batch_over_two_tenants_applies_each_event_in_its_own_tenant()
    {
        var (provider, engine, store) = Build();
        await using var _ = provider;

        var results = await engine.IngestBatchAsync([In(Visit("evt-1"), B), In(Visit("evt-1"), A), In(Visit("evt-2"), B)]);

        Assert.All(results, r => Assert.Equal(IngestOutcome.Applied, r.Outcome));
        Assert.Equal([B, A, B], results.Select(r => r.Tenant));
        Assert.NotEqual(results[0].Customer, results[1].Customer);
        Assert.Equal(results[0].Customer, results[2].Customer);
        Assert.Equal(2, StoreCounts.Of(store, B).Events);
        Assert.Equal(1, StoreCounts.Of(store, A).Events);
    }

    [Fact]
    public async Task An_identifier_type_registered_only_in_one_tenants_program_is_refused_in_the_other()
    {
        var (provider, engine, store) = Build();
        await using var _ = provider;
        var card = new Identifier(ClubCard, "CARD-0042");

        var inA = await engine.IngestAsync(In(Visit("evt-1", [card]), A));
        var ex = await Assert.ThrowsAsync<EventValidationException>(async () => await engine.IngestAsync(In(Visit("evt-1", [card]), B)));

        Assert.Equal(IngestOutcome.Applied, inA.Outcome);
        Assert.Equal(inA.Customer, await engine.ResolveAsync(A, card));
        var error = Assert.Single(ex.Errors);
        Assert.Equal("$.identifiers[0].type", error.Path);
        Assert.Equal("unknown_identifier_type", error.Code);
        Assert.Equal(StoreCounts.Empty, StoreCounts.Of(store, B));

        // And the other way round: B's (retail) membership_number is unknown to A.
        var membership = new Identifier(TestPrograms.MembershipNumber, "M-1");
        Assert.Equal(IngestOutcome.Applied, (await engine.IngestAsync(In(Visit("evt-2", [membership]), B))).Outcome);
        await Assert.ThrowsAsync<EventValidationException>(async () => await engine.IngestAsync(In(Visit("evt-2", [membership]), A)));
    }

    [Fact]
    public async Task Each_tenant_uses_its_own_program_for_rule_versions_and_phone_regions()
    {
        var (provider, engine, _) = Build();
        await using var _p = provider;

        var inA = await engine.IngestAsync(In(Visit("evt-1", [Phone("(650) 253-0000")]), A));
        var inB = await engine.IngestAsync(In(Visit("evt-1", [Phone("06 12 34 56 78")]), B));

        Assert.All(inA.Decisions, d => Assert.Equal(7, d.RuleVersion));
        Assert.All(inB.Decisions, d => Assert.Equal(1, d.RuleVersion));
        Assert.Equal("+16502530000", Assert.Single((await engine.GetCustomerAsync(A, inA.Customer!.Value))!.Identity.Links).Identifier.Value);
        Assert.Equal("+33612345678", Assert.Single((await engine.GetCustomerAsync(B, inB.Customer!.Value))!.Identity.Links).Identifier.Value);

        // A French national number is not a valid number for tenant A's region (US).
        var ex = await Assert.ThrowsAsync<EventValidationException>(async () => await engine.IngestAsync(In(Visit("evt-2", [Phone("06 12 34 56 78")]), A)));
        Assert.Equal(("$.identifiers[0].value", "invalid_identifier"), (ex.Errors[0].Path, ex.Errors[0].Code));
    }

    [Fact]
    public async Task A_tenant_without_a_program_is_refused_when_there_is_no_default()
    {
        var (provider, engine, store) = Build();
        await using var _ = provider;

        await Assert.ThrowsAsync<LoyaltyException>(async () => await engine.IngestAsync(In(Visit("evt-1"), new TenantId("unknown-brand"))));

        Assert.Equal(StoreCounts.Empty, StoreCounts.Of(store, new TenantId("unknown-brand")));
    }
}
