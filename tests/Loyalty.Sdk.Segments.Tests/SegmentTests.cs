using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Segments;
using Loyalty.Sdk.Simulation;
using Loyalty.Sdk.Storage.InMemory;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Segments.Tests;

public sealed class SegmentTests
{
    private static readonly TenantId Tenant = new("acme");
    private static readonly Instant Start = Instant.FromUtc(2025, 1, 1, 0, 0);

    private sealed class Harness : IAsyncDisposable
    {
        private readonly ServiceProvider provider;
        private int next;

        public Harness(params SegmentDefinition[] segments)
        {
            Clock = new ManualClock(Start);
            var program = DefaultPrograms.Retail() with { Segments = segments };
            var services = new ServiceCollection().AddSingleton<IClock>(Clock);
            services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(program).AddSegments();
            provider = services.BuildServiceProvider();
            Engine = provider.GetRequiredService<ILoyaltyEngine>();
            Segments = provider.GetRequiredService<ISegmentService>();
            Store = provider.GetRequiredService<InMemoryLoyaltyStore>();
        }

        public ManualClock Clock { get; }

        public ILoyaltyEngine Engine { get; }

        public ISegmentService Segments { get; }

        public InMemoryLoyaltyStore Store { get; }

        public async Task<IngestResult> OrderAsync(string email, Instant at, decimal total = 100m, string category = "shoes", Channel channel = Channel.Web)
        {
            Clock.AdvanceTo(at);
            var id = ++next;
            return await Engine.IngestAsync(new OrderPlaced
            {
                Id = new EventId($"e-{id}"), Tenant = Tenant, OccurredAt = at, Channel = channel,
                Identifiers = [new Identifier(IdentifierType.Email, email)], OrderId = $"O-{id}", Currency = Currency.Eur, Total = total,
                Lines = [new OrderLine { LineId = "1", Sku = "SKU", Category = category, Quantity = 1, UnitPrice = total }],
            });
        }

        public async Task<IngestResult> VisitAsync(string email, Instant at)
        {
            Clock.AdvanceTo(at);
            var id = ++next;
            return await Engine.IngestAsync(new Interaction
            {
                Id = new EventId($"e-{id}"), Tenant = Tenant, OccurredAt = at, Channel = Channel.Email,
                Identifiers = [new Identifier(IdentifierType.Email, email)], InteractionKind = InteractionKind.MessageOpened,
            });
        }

        public ValueTask DisposeAsync() => provider.DisposeAsync();
    }

    private static SegmentDefinition Segment(string id, string rule) => new() { Id = id, Name = id, Rule = rule };

    [Fact]
    public async Task Entering_a_segment_is_recorded_with_a_decision_and_its_inputs()
    {
        await using var h = new Harness(Segment("regulars", "orders.count(within: 90d) >= 2 and net_spend >= 150 EUR"));
        var first = await h.OrderAsync("ann@example.com", Start + Duration.FromDays(1));
        Assert.Empty(first.Segments);
        var second = await h.OrderAsync("ann@example.com", Start + Duration.FromDays(5));
        Assert.Equal(new SegmentChange("regulars", true), Assert.Single(second.Segments));
        var decision = Assert.Single(second.Decisions, d => d.Action == "segment_entered");
        Assert.Equal(Capabilities.Segments, decision.Capability);
        Assert.Equal("segment.regulars", decision.Rule);
        Assert.Equal("2", decision.Inputs["orders.count(within: 90d)"]);
        Assert.Equal(1, (await h.Segments.GetSizesAsync(Tenant))["regulars"]);
    }

    [Fact]
    public async Task Inactivity_fires_on_day_60_through_due_work_without_any_event()
    {
        await using var h = new Harness(Segment("inactive", "orders >= 1 and days_since(last_order) >= 60"));
        var order = Start + Duration.FromHours(10);
        var result = await h.OrderAsync("bob@example.com", order);
        var customer = result.Customer!.Value;
        var day59 = await h.Segments.RunDueWorkAsync(Tenant, order + Duration.FromDays(59));
        Assert.Empty(day59.Changes);
        var day60 = await h.Segments.RunDueWorkAsync(Tenant, order + Duration.FromDays(60));
        var change = Assert.Single(day60.Changes);
        Assert.True(change.Entered);
        Assert.Equal(customer, change.Customer);
        var trail = await h.Engine.GetDecisionTrailAsync(Tenant, customer);
        Assert.Contains(trail, d => d.Action == "segment_entered" && d.Rule == "segment.inactive" && d.DecidedAt == order + Duration.FromDays(60));

        // A new order takes the customer out again, live.
        var back = await h.OrderAsync("bob@example.com", order + Duration.FromDays(61));
        Assert.Contains(new SegmentChange("inactive", false), back.Segments);
    }

    [Fact]
    public async Task Window_counts_expire_as_time_passes()
    {
        await using var h = new Harness(Segment("active_buyers", "orders.count(within: 30d) >= 2"));
        await h.OrderAsync("cy@example.com", Start + Duration.FromDays(1));
        var entered = await h.OrderAsync("cy@example.com", Start + Duration.FromDays(10));
        Assert.Contains(new SegmentChange("active_buyers", true), entered.Segments);
        Assert.Empty((await h.Segments.RunDueWorkAsync(Tenant, Start + Duration.FromDays(30))).Changes);
        var exit = await h.Segments.RunDueWorkAsync(Tenant, Start + Duration.FromDays(32));
        Assert.False(Assert.Single(exit.Changes).Entered);
    }

    [Fact]
    public async Task Only_segments_whose_inputs_an_event_can_change_are_reevaluated()
    {
        await using var h = new Harness(Segment("buyers", "orders >= 1"), Segment("openers", "interactions.count(within: 30d, channel: email) >= 1"));
        var program = DefaultPrograms.Retail() with { Segments = [Segment("buyers", "orders >= 1"), Segment("openers", "interactions.count(within: 30d, channel: email) >= 1")] };
        var catalog = SegmentCatalog.Build(program, program.Segments, new SegmentOptions(), [new ReachabilityTraitProvider()]);
        Assert.Equal([true, false], catalog.AffectedByKind[EventKinds.OrderPlaced]);
        Assert.Equal([false, true], catalog.AffectedByKind[EventKinds.Interaction]);
        var visit = await h.VisitAsync("dee@example.com", Start + Duration.FromDays(1));
        Assert.Equal([new SegmentChange("openers", true)], visit.Segments);
    }

    [Fact]
    public async Task Segments_can_use_other_segments_and_cycles_are_rejected()
    {
        await using var h = new Harness(Segment("big", "net_spend >= 200 EUR"), Segment("big_shoe_fans", "in_segment(\"big\") and category_affinity(\"shoes\") >= 0.5"));
        var r = await h.OrderAsync("eve@example.com", Start + Duration.FromDays(1), 250m);
        Assert.Equal(["big", "big_shoe_fans"], r.Segments.Select(s => s.Segment).Order());

        var cyclic = DefaultPrograms.Retail() with { Segments = [Segment("a", "in_segment(\"b\")"), Segment("b", "in_segment(\"a\")")] };
        var errors = ProgramValidator.Validate(cyclic);
        Assert.Equal(2, errors.Count(e => e.Code == "rule_cycle"));
    }

    [Fact]
    public async Task Program_validation_reports_rule_errors_with_path_and_position()
    {
        var program = DefaultPrograms.Retail() with { Segments = [Segment("ok", "orders >= 1"), Segment("bad", "orders >= 1 and\n  tierr == \"gold\"")] };
        var error = Assert.Single(ProgramValidator.Validate(program));
        Assert.Equal("$.segments[1].rule", error.Path);
        Assert.Equal(2, error.Line);
        Assert.Equal(3, error.Column);
        Assert.Contains("Did you mean 'tier'?", error.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact]
    public void Default_program_segments_compile()
    {
        var program = DefaultPrograms.Retail();
        Assert.True(program.Segments.Count >= 10);
        Assert.Empty(ProgramValidator.Validate(program));
    }

    [Fact]
    public async Task Merges_combine_computed_traits()
    {
        await using var h = new Harness(Segment("two_orders", "frequency >= 2"));
        var a = await h.OrderAsync("fay@example.com", Start + Duration.FromDays(1));
        Assert.Empty(a.Segments);
        h.Clock.AdvanceTo(Start + Duration.FromDays(2));
        var b = await h.Engine.IngestAsync(new OrderPlaced
        {
            Id = new EventId("p-1"), Tenant = Tenant, OccurredAt = Start + Duration.FromDays(2), Identifiers = [new Identifier(IdentifierType.Phone, "+33612345678")],
            OrderId = "P-1", Currency = Currency.Eur, Total = 10m, Lines = [new OrderLine { LineId = "1", Sku = "S", Quantity = 1, UnitPrice = 10m }],
        });
        Assert.Empty(b.Segments);
        h.Clock.AdvanceTo(Start + Duration.FromDays(3));
        var link = await h.Engine.IngestAsync(new SignedUp
        {
            Id = new EventId("s-1"), Tenant = Tenant, OccurredAt = Start + Duration.FromDays(3),
            Identifiers = [new Identifier(IdentifierType.Email, "fay@example.com"), new Identifier(IdentifierType.Phone, "+33612345678")],
        });
        Assert.Single(link.Merged);
        Assert.Contains(new SegmentChange("two_orders", true), link.Segments);
    }

    [Fact]
    public async Task Batch_recompute_exact_members_estimate_overlap_history_and_explain()
    {
        await using var h = new Harness(Segment("shoes", "category_affinity(\"shoes\") >= 0.5"), Segment("spenders", "net_spend >= 150 EUR"));
        for (var i = 0; i < 40; i++)
        {
            await h.OrderAsync($"c{i}@example.com", Start + Duration.FromHours(i), 100m + (i * 5), i % 2 == 0 ? "shoes" : "home");
        }

        var now = Start + Duration.FromDays(2);
        var sizes = await h.Segments.GetSizesAsync(Tenant);
        Assert.Equal(20, sizes["shoes"]);
        var recompute = await h.Segments.RecomputeAllAsync(Tenant, now);
        Assert.Equal(40, recompute.Customers);
        Assert.Equal(0, recompute.Entered + recompute.Exited);
        Assert.Equal(20, (await h.Segments.GetExactMembersAsync(Tenant, "shoes", now)).Count);
        var overlap = await h.Segments.GetOverlapAsync(Tenant, "shoes", "spenders");
        Assert.Equal(sizes["spenders"], overlap.SizeB);
        Assert.InRange(overlap.Both, 1, 20);
        var estimate = await h.Segments.EstimateAsync(Tenant, "net_spend >= 150 EUR", now);
        Assert.Equal(sizes["spenders"], estimate.Estimate);
        await h.Segments.RecordSizesAsync(Tenant, now);
        var history = await h.Segments.GetSizeHistoryAsync(Tenant, "shoes");
        Assert.Equal(20, Assert.Single(history).Size);
        Assert.Equal(20, history[0].Entered);

        var customer = (await h.Segments.GetExactMembersAsync(Tenant, "shoes", now))[0];
        var why = await h.Segments.ExplainAsync(Tenant, customer, "shoes", now);
        Assert.True(why.Member);
        Assert.Contains("category_affinity(\"shoes\") = 1", why.Tree.Render(), StringComparison.Ordinal);

        // Updating a definition compiles first (a bad rule changes nothing), then swaps and recomputes.
        await Assert.ThrowsAsync<ProgramValidationException>(async () => await h.Segments.UpsertSegmentAsync(Tenant, Segment("shoes", "category_afinity(\"shoes\") > 0"), now));
        Assert.Equal("category_affinity(\"shoes\") >= 0.5", h.Segments.GetSegments(Tenant).Single(s => s.Id == "shoes").Rule);
        var swapped = await h.Segments.UpsertSegmentAsync(Tenant, Segment("shoes", "category_affinity(\"shoes\") >= 0.5 and net_spend >= 200 EUR"), now);
        Assert.True(swapped.Exited > 0);
    }

    [Fact]
    public void Reachability_defaults_to_identifiers_and_consent_to_unknown_false()
    {
        var program = DefaultPrograms.Retail();
        var schema = BuiltInTraits.CreateSchema(program);
        var rule = RuleCompiler.Compile("reachable(email) and not reachable(sms) and not consent(email, marketing)", schema);
        var catalog = SegmentCatalog.Build(program, [], new SegmentOptions(), [new ReachabilityTraitProvider()]);
        var identity = new Identity.CustomerIdentity
        {
            Customer = new CustomerId("c1"), FirstSeen = Start,
            Links = [new Identity.IdentityLink(new Identifier(IdentifierType.Email, "a@b.c"), new EventId("e"), Start, "x")],
        };
        var state = new CustomerSegmentState { Customer = new CustomerId("c1") };
        var subject = new RuleSubject(catalog.Schema.SlotCount);
        var compiled = RuleCompiler.Compile(rule.Text, catalog.Schema);
        catalog.Fill(new CustomerTraitContext(state.Customer, null, identity, state, program, Start), subject, new SeriesWindows());
        Assert.True(compiled.Evaluate(subject, Start));
    }

    [Fact]
    public async Task Simulation_report_has_segment_sizes_over_time_and_churn_detection()
    {
        var settings = new ShopSettings { Customers = 300, Days = 120, Seed = 7 };
        var shop = ShopGenerator.Generate(settings);
        var start = settings.Start.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
        var clock = new ManualClock(start);
        var services = new ServiceCollection().AddSingleton<IClock>(clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(DefaultPrograms.Retail()).AddSegments();
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();
        var segments = provider.GetRequiredService<ISegmentService>();
        var driver = new SegmentSimulation(segments, settings.Tenant, clock, start);
        var log = await SimulationRunner.IngestAsync(engine, clock, shop.Events, batchSize: 100, onNewDay: driver.AdvanceAsync);
        await driver.FinishAsync(shop.End, default);
        var report = await ReportBuilder.BuildAsync(engine, DefaultPrograms.Retail(), settings.Tenant, shop.Events, log, shop, "test", new ReportInputs { Segments = segments });
        var section = report["segments"]!;
        Assert.True(section["available"]!.GetValue<bool>());
        var list = section["segments"]!.AsArray();
        Assert.True(list.Count >= 10);
        Assert.All(list, s => Assert.True(s!["weekly"]!.AsArray().Count >= 15));
        Assert.True(section["churnDetection"]!["passedThroughAtRisk"]!.GetValue<int>() > 0);
        var html = HtmlReport.Render(report);
        Assert.Contains("Segments over time", html, StringComparison.Ordinal);
    }
}
