using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Segments;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.Ledger.Tests;

/// <summary>Earning rules whose <c>when.rule</c> is written in the segmentation rule language.</summary>
public sealed class EarningConditionTests
{
    private static LoyaltyProgram WithRules(params EarningRule[] extra)
    {
        var program = Programs.Simple(pendingDays: 0, start: PendingStart.Placement);
        return program with { Ledger = program.Ledger! with { EarningRules = [.. program.Ledger!.EarningRules, .. extra] } };
    }

    private static OrderPlaced Order(Host host, string orderId, string category, decimal price, Channel channel = Channel.Web) =>
        host.Order("ann@example.com", orderId, price, category: category) with { Channel = channel };

    [Fact]
    public async Task A_rule_language_condition_decides_whether_a_rule_applies_and_is_named_in_the_explanation()
    {
        var shoes = new EarningRule
        {
            Id = "shoes-app", Kind = EarningRuleKind.Bonus, Points = 50, Priority = 50,
            When = new EarningConditions { Rule = "order_has_category(\"shoes\") and order_channel == \"app\" and order_value >= 40 EUR" },
        };
        await using var host = new Host(WithRules(shoes));

        var web = await host.Ingest(Order(host, "O-1", "shoes", 60m));
        Assert.DoesNotContain(web.Decisions, d => d.Rule == "shoes-app");

        var app = await host.Ingest(Order(host, "O-2", "shoes", 60m, Channel.App));
        var decision = Assert.Single(app.Decisions, d => d.Rule == "shoes-app");
        Assert.Contains("when order_has_category(\"shoes\")", decision.Summary, StringComparison.Ordinal);

        var small = await host.Ingest(Order(host, "O-3", "shoes", 30m, Channel.App));
        Assert.DoesNotContain(small.Decisions, d => d.Rule == "shoes-app");
        Assert.Equal(60 + 60 + 50 + 30, (await host.Balance(app.Customer!.Value)).Available);
        await host.AssertReconciled();
    }

    [Fact]
    public async Task Conditions_read_the_customer_history_and_the_dry_run_agrees_with_the_posting()
    {
        var loyal = new EarningRule
        {
            Id = "third-order", Kind = EarningRuleKind.Multiplier, Multiplier = 2m, Priority = 50,
            When = new EarningConditions { Rule = "orders >= 2 and lifetime_points >= 100" },
        };
        await using var host = new Host(WithRules(loyal));
        var first = await host.Ingest(Order(host, "O-1", "apparel", 80m));
        var customer = first.Customer!.Value;
        await host.Ingest(Order(host, "O-2", "apparel", 30m));

        var preview = await host.Ledger.EvaluateOrderAsync(Host.Tenant, Order(host, "O-3", "apparel", 10m), customer);
        Assert.Contains(preview.Components, c => c.Rule == "third-order" && c.Points == 10);
        var third = await host.Ingest(Order(host, "O-3", "apparel", 10m));
        Assert.Contains(third.Decisions, d => d.Rule == "third-order");
        Assert.Equal(80 + 30 + 20, (await host.Balance(customer)).Available);
    }

    [Fact]
    public async Task A_condition_can_require_segment_membership()
    {
        var program = WithRules(new EarningRule
        {
            Id = "vip-bonus", Kind = EarningRuleKind.Bonus, Points = 25, Priority = 50,
            When = new EarningConditions { Rule = "in_segment(\"big_spenders\")" },
        }) with
        {
            Segments = [new SegmentDefinition { Id = "big_spenders", Name = "Big spenders", Rule = "net_spend >= 100 EUR" }],
        };
        var clock = new FakeClock(Host.Start);
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program).AddLedger().AddSegments();
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();
        await using var host = new Host(program);

        // The first order makes the customer a big spender (segments run after the ledger); the second earns the bonus.
        var first = await engine.IngestAsync(Order(host, "O-1", "apparel", 120m));
        Assert.DoesNotContain(first.Decisions, d => d.Rule == "vip-bonus");
        var second = await engine.IngestAsync(Order(host, "O-2", "apparel", 10m));
        Assert.Contains(second.Decisions, d => d.Rule == "vip-bonus");
    }

    [Fact]
    public void A_bad_condition_is_reported_with_its_path_line_and_column()
    {
        var program = WithRules(
            new EarningRule { Id = "typo", Kind = EarningRuleKind.Bonus, Points = 5, When = new EarningConditions { Rule = "order_valu >= 10 EUR" } },
            new EarningRule { Id = "seg", Kind = EarningRuleKind.Bonus, Points = 5, When = new EarningConditions { Rule = "order_items > 1 and\n in_segment(\"nope\")" } });
        var errors = ProgramValidator.Validate(program);
        var typo = Assert.Single(errors, e => e.Path == "$.ledger.earningRules[1].when.rule");
        Assert.Equal((1, 1), (typo.Line, typo.Column));
        Assert.Contains("order_value", typo.Message, StringComparison.Ordinal);
        var seg = Assert.Single(errors, e => e.Path == "$.ledger.earningRules[2].when.rule");
        Assert.Equal(2, seg.Line);
    }

    [Fact]
    public void Conditions_round_trip_through_program_json()
    {
        var program = WithRules(new EarningRule { Id = "c", Kind = EarningRuleKind.Bonus, Points = 5, When = new EarningConditions { Rule = "first_purchase" } });
        var parsed = ProgramLoader.Parse(ProgramLoader.Serialize(program));
        Assert.Equal("first_purchase", parsed.Ledger!.EarningRules.Single(r => r.Id == "c").When.Rule);
    }
}
