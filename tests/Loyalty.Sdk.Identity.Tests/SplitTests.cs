using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Identity.Tests;

public sealed class SplitTests
{
    private static async Task<(Harness H, CustomerId Survivor, CustomerId Absorbed)> MergedPairAsync()
    {
        var h = new Harness();
        var survivor = (await h.IngestAsync(Harness.Email("ann@example.com"))).Customer!.Value;
        var absorbed = (await h.IngestAsync(Harness.Card("LC1"))).Customer!.Value;
        var order = new OrderPlaced
        {
            Id = new EventId("order-1"), Tenant = Harness.Tenant, OccurredAt = h.Clock.GetCurrentInstant(), Channel = Channel.Pos, Identifiers = [Harness.Card("LC1")],
            OrderId = "O-1", Currency = Currency.Eur, Total = 40m, Lines = [new OrderLine { LineId = "1", Sku = "S", Quantity = 1, UnitPrice = 40m }],
        };
        await h.Engine.IngestAsync(order);
        var merge = await h.IngestAsync(Harness.Email("ann@example.com"), Harness.Card("LC1"));
        Assert.Equal([absorbed], merge.Merged);
        return (h, survivor, absorbed);
    }

    [Fact]
    public async Task Unmerge_restores_the_absorbed_customer_its_identifiers_and_profile_and_subtracts_it_from_the_survivor()
    {
        var (h, survivor, absorbed) = await MergedPairAsync();
        await using var _ = h;
        Assert.Equal(1, (await h.Engine.GetCustomerAsync(Harness.Tenant, survivor))!.Profile!.Traits.Orders);

        var result = await h.Identity.UnmergeAsync(Harness.Tenant, survivor, absorbed, "agent-7", "two different people");

        Assert.Equal([Harness.Card("LC1")], result.Identifiers);
        Assert.Equal(absorbed, await h.CustomerOfAsync(Harness.Card("LC1")));
        Assert.Equal(survivor, await h.CustomerOfAsync(Harness.Email("ann@example.com")));
        Assert.Equal(0, (await h.Engine.GetCustomerAsync(Harness.Tenant, survivor))!.Profile!.Traits.Orders);
        Assert.Equal(1, (await h.Engine.GetCustomerAsync(Harness.Tenant, absorbed))!.Profile!.Traits.Orders);
        Assert.All(result.Decisions, d => Assert.Equal("agent-7", d.Inputs["actor"]));

        // The next event carrying both identifiers does not silently re-merge them.
        var again = await h.IngestAsync(Harness.Email("ann@example.com"), Harness.Card("LC1"));
        Assert.Empty(again.Merged);
        Assert.Contains(again.Decisions, d => d is { Action: "link_refused", Rule: IdentityStage.DoNotLinkRule });
        Assert.NotEqual(await h.CustomerOfAsync(Harness.Email("ann@example.com")), await h.CustomerOfAsync(Harness.Card("LC1")));

        var explain = await h.Identity.ExplainAsync(Harness.Tenant, survivor);
        Assert.Empty(explain.Merges);
        Assert.Equal("unmerge", Assert.Single(explain.Splits).Kind);
        // The card has the higher priority, so the e-mail was dropped and the refusal sits with the card's customer.
        Assert.Contains((await h.Identity.ExplainAsync(Harness.Tenant, absorbed)).Refusals, d => d.Rule == IdentityStage.DoNotLinkRule);
    }

    [Fact]
    public async Task Split_moves_an_identifier_to_a_new_customer_and_prevents_relinking()
    {
        await using var h = new Harness();
        var c = (await h.IngestAsync(Harness.Email("bo@example.com"), Harness.Device("tablet-1"))).Customer!.Value;

        var result = await h.Identity.SplitAsync(Harness.Tenant, c, Harness.Device("tablet-1"), "agent-2", "shared family tablet");

        Assert.Equal(c, result.Customer);
        Assert.Equal(result.Other, await h.CustomerOfAsync(Harness.Device("tablet-1")));
        var again = await h.IngestAsync(Harness.Email("bo@example.com"), Harness.Device("tablet-1"));
        Assert.Empty(again.Merged);
        Assert.Equal(c, again.Customer);
    }

    [Fact]
    public async Task Splits_and_merges_with_bad_input_are_typed_errors_and_change_nothing()
    {
        var (h, survivor, absorbed) = await MergedPairAsync();
        await using var _ = h;
        var before = await h.Engine.GetCustomerAsync(Harness.Tenant, survivor);

        async Task<string> CodeOf(Func<Task> act) => (await Assert.ThrowsAsync<IdentityOperationException>(act)).Code;
        Assert.Equal("identifier_not_held", await CodeOf(async () => await h.Identity.SplitAsync(Harness.Tenant, survivor, Harness.Email("other@example.com"), "a", "r")));
        Assert.Equal("invalid_identifier", await CodeOf(async () => await h.Identity.SplitAsync(Harness.Tenant, survivor, Harness.Email("bad"), "a", "r")));
        Assert.Equal("invalid_identifier", await CodeOf(async () => await h.Identity.SplitAsync(Harness.Tenant, survivor, new Identifier(new IdentifierType("nope"), "x"), "a", "r")));
        Assert.Equal("unknown_customer", await CodeOf(async () => await h.Identity.SplitAsync(Harness.Tenant, new CustomerId("cus_missing"), Harness.Card("LC1"), "a", "r")));
        Assert.Equal("required", await CodeOf(async () => await h.Identity.SplitAsync(Harness.Tenant, survivor, Harness.Card("LC1"), "", "r")));
        Assert.Equal("not_merged", await CodeOf(async () => await h.Identity.UnmergeAsync(Harness.Tenant, absorbed, survivor, "a", "r")));
        Assert.Equal("same_customer", await CodeOf(async () => await h.Identity.MergeAsync(Harness.Tenant, survivor, absorbed, "manual", "a", "r")));

        var after = await h.Engine.GetCustomerAsync(Harness.Tenant, survivor);
        Assert.Equal(before!.Identity.Version, after!.Identity.Version);
        Assert.Equal(before.Identity.Links, after.Identity.Links);
    }

    [Fact]
    public async Task A_protected_customer_is_not_merged_automatically_and_a_merge_after_a_split_is_refused()
    {
        await using var h = new Harness();
        var a = (await h.IngestAsync(Harness.Email("p@example.com"))).Customer!.Value;
        var b = (await h.IngestAsync(Harness.Card("LC9"))).Customer!.Value;
        await h.Identity.ProtectAsync(Harness.Tenant, a, "agent-1", "VIP, verified identity");

        var r = await h.IngestAsync(Harness.Email("p@example.com"), Harness.Card("LC9"));

        Assert.Empty(r.Merged);
        Assert.Contains(r.Decisions, d => d.Rule == IdentityStage.ProtectedRule);
        var ex = await Assert.ThrowsAsync<IdentityOperationException>(async () => await h.Identity.MergeAsync(Harness.Tenant, a, b, "manual", "agent-1", "same person"));
        Assert.Equal("protected", ex.Code);
        Assert.NotNull((await h.Identity.ExplainAsync(Harness.Tenant, a)).Protection);
    }

    [Fact]
    public async Task Staff_merge_goes_through_the_merge_path_and_can_be_undone()
    {
        await using var h = new Harness();
        var a = (await h.IngestAsync(Harness.Email("m1@example.com"))).Customer!.Value;
        var b = (await h.IngestAsync(Harness.Email("m2@example.com"))).Customer!.Value;

        var merged = await h.Identity.MergeAsync(Harness.Tenant, a, b, IdentityStage.ProbabilisticRule, "dedupe", "p=0.999");
        Assert.Equal(a, merged.Customer);
        Assert.Equal(a, await h.CustomerOfAsync(Harness.Email("m2@example.com")));
        var explain = await h.Identity.ExplainAsync(Harness.Tenant, b);
        Assert.Equal(IdentityStage.ProbabilisticRule, Assert.Single(explain.Merges).Rule);
        Assert.Equal(b, explain.Identifiers.Single(i => i.Identifier == Harness.Email("m2@example.com")).ViaMergeOf);

        await h.Identity.UnmergeAsync(Harness.Tenant, a, b, "agent", "wrong suggestion");
        Assert.Equal(b, await h.CustomerOfAsync(Harness.Email("m2@example.com")));
    }
}
