using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using NodaTime;
using static Loyalty.Sdk.Tests.Ev;

namespace Loyalty.Sdk.Tests;

public sealed class DuplicateEventTests
{
    [Fact]
    public async Task Ingesting_the_same_event_twice_is_a_duplicate_that_changes_nothing()
    {
        var h = new Harness();
        var e = Order("evt-1", "ord-1");

        var first = await h.IngestAsync(e);
        var customer = first.Customer!.Value;
        var profileBefore = await h.ProfileAsync(customer);
        var identityBefore = await h.IdentityAsync(customer);
        var trailBefore = await h.TrailAsync(customer);
        var countsBefore = h.Counts();
        h.Clock.Advance(Duration.FromHours(3));

        var second = await h.IngestAsync(e);

        Assert.Equal(IngestOutcome.Applied, first.Outcome);
        Assert.True(first.NewCustomer);
        Assert.NotEmpty(first.Decisions);
        Assert.Equal(IngestOutcome.Duplicate, second.Outcome);
        Assert.Equal(e.Id, second.EventId);
        Assert.Equal(Fixed.Tenant, second.Tenant);
        Assert.Equal(customer, second.Customer);
        Assert.False(second.NewCustomer);
        Assert.Empty(second.Decisions);
        Assert.Empty(second.Merged);
        Assert.Equal(0, second.PointsPosted);

        var profileAfter = await h.ProfileAsync(customer);
        Assert.Equal(profileBefore, profileAfter);
        Assert.Equal(1, profileAfter!.Traits.Orders);
        Assert.Equal(100m, profileAfter.Traits.GrossSpend);
        Deep.Equal(identityBefore, await h.IdentityAsync(customer));
        Assert.Equal(trailBefore.Count, (await h.TrailAsync(customer)).Count);
        Assert.Equal(countsBefore, h.Counts());
    }

    [Fact]
    public async Task A_duplicate_id_with_a_different_payload_is_still_a_duplicate_and_ignored()
    {
        var h = new Harness();
        var first = await h.IngestAsync(Order("evt-1", "ord-1"));
        var countsBefore = h.Counts();

        var changed = Order("evt-1", "ord-2", ids: [Ada, Email("someone.else@example.com")], lines: [Line("l1", 5, 10m)]);
        var second = await h.IngestAsync(changed);

        Assert.Equal(IngestOutcome.Duplicate, second.Outcome);
        Assert.Equal(first.Customer, second.Customer);
        Assert.Null(await h.ResolveAsync(Email("someone.else@example.com")));
        Assert.Null(await h.OrderAsync("ord-2"));
        var profile = await h.ProfileAsync(first.Customer!.Value);
        Assert.Equal(1, profile!.Traits.Orders);
        Assert.Equal(100m, profile.Traits.GrossSpend);
        Assert.Equal(countsBefore, h.Counts());
    }

    [Fact]
    public async Task Duplicate_ids_inside_one_batch_are_applied_once()
    {
        var h = new Harness();
        var e = Order("evt-1", "ord-1");

        var results = await h.IngestBatchAsync(e, e);

        Assert.Equal(2, results.Count);
        Assert.Equal(IngestOutcome.Applied, results[0].Outcome);
        Assert.Equal(IngestOutcome.Duplicate, results[1].Outcome);
        Assert.Equal(results[0].Customer, results[1].Customer);
        Assert.Empty(results[1].Decisions);
        var customer = results[0].Customer!.Value;
        var profile = await h.ProfileAsync(customer);
        Assert.Equal(1, profile!.Traits.Orders);
        Assert.Equal(100m, profile.Traits.GrossSpend);
        Assert.Equal(results[0].Decisions.Count, (await h.TrailAsync(customer)).Count);
        Assert.Equal(1, h.Counts().Events);
    }

    [Fact]
    public async Task A_batch_of_a_new_event_and_a_replay_of_an_earlier_one_applies_only_the_new_one()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1"));

        var results = await h.IngestBatchAsync(Order("evt-2", "ord-2", lines: [Line("l1", 1, 30m)]), Order("evt-1", "ord-1"), Order("evt-2", "ord-2"));

        Assert.Equal([IngestOutcome.Applied, IngestOutcome.Duplicate, IngestOutcome.Duplicate], results.Select(r => r.Outcome));
        var profile = await h.ProfileAsync(results[0].Customer!.Value);
        Assert.Equal(2, profile!.Traits.Orders);
        Assert.Equal(130m, profile.Traits.GrossSpend);
        Assert.Equal(2, h.Counts().Events);
    }

    [Fact]
    public async Task The_same_order_id_under_two_event_ids_is_counted_once()
    {
        var h = new Harness();
        var first = await h.IngestAsync(Order("evt-1", "ord-1"));

        var second = await h.IngestAsync(Order("evt-2", "ord-1"));

        Assert.Equal(IngestOutcome.Applied, second.Outcome);
        Assert.Equal(first.Customer, second.Customer);
        var ignored = Assert.Single(second.Decisions, d => d.Action == "order_ignored");
        Assert.Equal(Capabilities.Profile, ignored.Capability);
        Assert.Equal("profile.order_natural_key", ignored.Rule);
        Assert.Equal("ord-1", ignored.Inputs["orderId"]);
        var profile = await h.ProfileAsync(first.Customer!.Value);
        Assert.Equal(1, profile!.Traits.Orders);
        Assert.Equal(100m, profile.Traits.GrossSpend);
        Assert.Equal(1, h.Counts().Orders);
    }

    [Fact]
    public async Task The_same_order_id_under_two_event_ids_in_one_batch_is_counted_once()
    {
        var h = new Harness();

        var results = await h.IngestBatchAsync(Order("evt-1", "ord-1"), Order("evt-2", "ord-1"));

        Assert.All(results, r => Assert.Equal(IngestOutcome.Applied, r.Outcome));
        Assert.Contains(results[1].Decisions, d => d.Action == "order_ignored");
        var profile = await h.ProfileAsync(results[0].Customer!.Value);
        Assert.Equal(1, profile!.Traits.Orders);
        Assert.Equal(100m, profile.Traits.GrossSpend);
    }

    [Fact]
    public async Task A_replayed_event_reports_the_survivor_when_its_customer_was_merged_since()
    {
        var h = new Harness();
        var byEmail = Visit("evt-email", [Ada], at: Fixed.HoursAgo(1));
        var first = await h.IngestAsync(byEmail);
        var byPhone = await h.IngestAsync(Visit("evt-phone", [Phone("+33612345678")], at: Fixed.DaysAgo(10)));
        var merge = await h.IngestAsync(Visit("evt-both", [Ada, Phone("+33612345678")]));
        Assert.Equal(byPhone.Customer, merge.Customer);
        Assert.Equal([first.Customer!.Value], merge.Merged);

        var replay = await h.IngestAsync(byEmail);

        Assert.Equal(IngestOutcome.Duplicate, replay.Outcome);
        Assert.Equal(byPhone.Customer, replay.Customer);
    }

    [Fact]
    public async Task A_duplicate_is_recognised_whatever_the_clock_says()
    {
        var h = new Harness();
        var e = Visit("evt-1");
        var first = await h.IngestAsync(e);
        h.Clock.Advance(Duration.FromDays(400));

        var again = await h.IngestAsync(e);

        Assert.Equal(IngestOutcome.Duplicate, again.Outcome);
        Assert.Equal(IdentityStage.NewCustomerId(Fixed.Tenant, e.Id), first.Customer);
        Assert.Equal(first.Customer, again.Customer);
    }
}
