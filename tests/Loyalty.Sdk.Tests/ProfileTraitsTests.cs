using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using NodaTime;
using static Loyalty.Sdk.Tests.Ev;

namespace Loyalty.Sdk.Tests;

public sealed class ProfileTraitsTests
{
    private static async Task<CustomerTraits> TraitsAsync(Harness h) =>
        (await h.ProfileAsync((await h.ResolveAsync(Ada))!.Value))!.Traits;

    [Fact]
    public async Task Orders_count_and_gross_spend_is_the_merchandise_value_after_discount()
    {
        var h = new Harness();

        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m)], discount: 10m, shipping: 4.99m, tax: 18m, at: Fixed.DaysAgo(3)));
        await h.IngestAsync(Order("evt-2", "ord-2", lines: [Line("l1", 1, 20m), Line("l2", 3, 5.5m)], at: Fixed.DaysAgo(1)));

        var traits = await TraitsAsync(h);
        Assert.Equal(2, traits.Orders);
        Assert.Equal(126.5m, traits.GrossSpend); // (100 − 10) + (20 + 16.5); shipping and tax excluded
        Assert.Equal(0m, traits.ReturnedValue);
        Assert.Equal(126.5m, traits.NetSpend);
        Assert.Equal(63.25m, traits.AverageOrderValue);
        Assert.Equal(Fixed.DaysAgo(3), traits.FirstOrderAt);
        Assert.Equal(Fixed.DaysAgo(1), traits.LastOrderAt);
        Assert.Equal(Channel.Web, traits.LastChannel);
    }

    [Fact]
    public async Task Orders_arriving_out_of_order_keep_first_and_last_order_dates_right()
    {
        var h = new Harness();

        await h.IngestAsync(Order("evt-1", "ord-1", at: Fixed.DaysAgo(1)));
        await h.IngestAsync(Order("evt-2", "ord-2", at: Fixed.DaysAgo(9)));
        await h.IngestAsync(Order("evt-3", "ord-3", at: Fixed.DaysAgo(4)));

        var profile = await h.ProfileAsync((await h.ResolveAsync(Ada))!.Value);
        Assert.Equal((Fixed.DaysAgo(9), Fixed.DaysAgo(1)), (profile!.Traits.FirstOrderAt, profile.Traits.LastOrderAt));
        Assert.Equal((Fixed.DaysAgo(9), Fixed.DaysAgo(1)), (profile.FirstSeen, profile.LastSeen));
    }

    [Theory]
    [InlineData(100, 92)]
    [InlineData(99.99, 91.99)] // 91.9908 rounded to the euro's two decimals
    [InlineData(0.01, 0.01)]
    public async Task Orders_in_another_currency_are_converted_to_the_base_currency(decimal usd, decimal eur)
    {
        var h = new Harness();

        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 1, usd)], currency: Currency.Usd));

        Assert.Equal(eur, (await TraitsAsync(h)).GrossSpend);
        Assert.Equal(Currency.Usd, (await h.OrderAsync("ord-1"))!.Currency);
    }

    [Fact]
    public async Task A_partial_return_by_line_reduces_net_spend_by_the_returned_units()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m), Line("l2", 1, 30m)]));

        var result = await h.IngestAsync(Return("evt-2", "ord-1", "ret-1", lines: [Qty("l1", 1)]));

        Assert.Equal(IngestOutcome.Applied, result.Outcome);
        var traits = await TraitsAsync(h);
        Assert.Equal((1, 1, 0), (traits.Orders, traits.Returns, traits.CancelledOrders));
        Assert.Equal(130m, traits.GrossSpend);
        Assert.Equal(50m, traits.ReturnedValue);
        Assert.Equal(80m, traits.NetSpend);
        var order = await h.OrderAsync("ord-1");
        Assert.Equal(1, order!.ReturnedQuantities["l1"]);
        Assert.False(order.ReturnedQuantities.ContainsKey("l2"));
        Assert.Equal(["ret-1"], order.AppliedReturns);
    }

    [Fact]
    public async Task A_whole_return_brings_net_spend_of_the_order_to_zero()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m), Line("l2", 1, 30m)]));

        await h.IngestAsync(Return("evt-2", "ord-1", "ret-1"));

        var traits = await TraitsAsync(h);
        Assert.Equal((1, 1), (traits.Orders, traits.Returns));
        Assert.Equal(130m, traits.ReturnedValue);
        Assert.Equal(0m, traits.NetSpend);
        var order = await h.OrderAsync("ord-1");
        Assert.Equal(2, order!.ReturnedQuantities["l1"]);
        Assert.Equal(1, order.ReturnedQuantities["l2"]);
    }

    [Fact]
    public async Task A_whole_return_after_a_partial_one_returns_only_what_is_left()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m), Line("l2", 1, 30m)]));
        await h.IngestAsync(Return("evt-2", "ord-1", "ret-1", lines: [Qty("l1", 1)]));

        await h.IngestAsync(Return("evt-3", "ord-1", "ret-2"));

        var traits = await TraitsAsync(h);
        Assert.Equal(2, traits.Returns);
        Assert.Equal(130m, traits.ReturnedValue);
        Assert.Equal(0m, traits.NetSpend);
    }

    [Fact]
    public async Task A_whole_return_of_a_discounted_order_brings_net_spend_to_zero_not_below()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m)], discount: 10m));
        Assert.Equal(90m, (await TraitsAsync(h)).GrossSpend);

        await h.IngestAsync(Return("evt-2", "ord-1", "ret-1"));

        var traits = await TraitsAsync(h);
        Assert.Equal(90m, traits.ReturnedValue);
        Assert.Equal(0m, traits.NetSpend);
    }

    [Fact]
    public async Task Returns_of_an_order_in_another_currency_are_converted()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 100m)], currency: Currency.Usd));

        await h.IngestAsync(Return("evt-2", "ord-1", "ret-1", lines: [Qty("l1", 1)]));

        var traits = await TraitsAsync(h);
        Assert.Equal(184m, traits.GrossSpend);
        Assert.Equal(92m, traits.ReturnedValue);
        Assert.Equal(92m, traits.NetSpend);
    }

    [Fact]
    public async Task A_whole_cancellation_counts_a_cancelled_order_and_removes_its_value()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m), Line("l2", 1, 30m)]));

        await h.IngestAsync(Cancel("evt-2", "ord-1"));

        var traits = await TraitsAsync(h);
        Assert.Equal((1, 1, 0), (traits.Orders, traits.CancelledOrders, traits.Returns));
        Assert.Equal(130m, traits.ReturnedValue);
        Assert.Equal(0m, traits.NetSpend);
        Assert.Equal(["cancel:evt-2"], (await h.OrderAsync("ord-1"))!.AppliedReturns);
    }

    [Fact]
    public async Task A_partial_cancellation_is_not_a_cancelled_order_until_every_line_is_cancelled()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m), Line("l2", 1, 30m)]));

        await h.IngestAsync(Cancel("evt-2", "ord-1", lines: [Qty("l2", 1)]));
        var partial = await TraitsAsync(h);
        await h.IngestAsync(Cancel("evt-3", "ord-1", lines: [Qty("l1", 2)]));
        var whole = await TraitsAsync(h);

        Assert.Equal((0, 30m), (partial.CancelledOrders, partial.ReturnedValue));
        Assert.Equal((1, 130m, 0), (whole.CancelledOrders, whole.ReturnedValue, whole.Returns));
    }

    [Fact]
    public async Task A_return_id_applied_twice_under_different_event_ids_changes_nothing_the_second_time()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m)]));
        await h.IngestAsync(Return("evt-2", "ord-1", "ret-1", lines: [Qty("l1", 1)]));
        var customer = (await h.ResolveAsync(Ada))!.Value;
        var traitsBefore = (await h.ProfileAsync(customer))!.Traits;
        var orderBefore = await h.OrderAsync("ord-1");

        var again = await h.IngestAsync(Return("evt-3", "ord-1", "ret-1", lines: [Qty("l1", 1)]));

        Assert.Equal(IngestOutcome.Applied, again.Outcome);
        Assert.Equal(traitsBefore, (await h.ProfileAsync(customer))!.Traits);
        Assert.Equal((1, 50m), (traitsBefore.Returns, traitsBefore.ReturnedValue));
        Deep.Equal(orderBefore, await h.OrderAsync("ord-1"));
    }

    [Fact]
    public async Task Completing_an_order_marks_it_completed()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1"));

        await h.IngestAsync(new OrderCompleted { Id = new EventId("evt-2"), Tenant = Fixed.Tenant, OccurredAt = Fixed.HoursAgo(1), Identifiers = [Ada], OrderId = "ord-1" });

        Assert.True((await h.OrderAsync("ord-1"))!.Completed);
        Assert.Equal(1, (await TraitsAsync(h)).Orders);
    }

    [Fact]
    public async Task Profile_fields_are_set_at_sign_up_and_only_changed_by_non_null_updates()
    {
        var h = new Harness();
        var address = new PostalAddress { Line1 = "12 rue de Rivoli", City = "Paris", PostalCode = "75001", Country = "FR" };
        await h.IngestAsync(SignUp("evt-1", profile: new ProfileData
        {
            GivenName = "Ada", FamilyName = "Lovelace", BirthDate = new LocalDate(1990, 12, 10), TimeZone = "Europe/Paris", Locale = "fr-FR", Address = address,
        }, at: Fixed.DaysAgo(2)));

        await h.IngestAsync(ProfileUpdate("evt-2", new ProfileData { FamilyName = "King", Locale = "en-GB" }));
        await h.IngestAsync(SignUp("evt-3", profile: new ProfileData { GivenName = "Augusta" }));

        var profile = await h.ProfileAsync((await h.ResolveAsync(Ada))!.Value);
        Assert.Equal(("Augusta", "King", "en-GB", "Europe/Paris"), (profile!.GivenName, profile.FamilyName, profile.Locale, profile.TimeZone));
        Assert.Equal(new LocalDate(1990, 12, 10), profile.BirthDate);
        Assert.Equal(address, profile.Address);
        Assert.Equal(Fixed.DaysAgo(2), profile.SignedUpAt);
        Assert.Equal(3, profile.Version);
    }

    [Fact]
    public async Task Engagement_events_update_their_counters()
    {
        var h = new Harness();

        await h.IngestAsync(Visit("evt-1", at: Fixed.DaysAgo(2)));
        await h.IngestAsync(Visit("evt-2", at: Fixed.DaysAgo(5)));
        await h.IngestAsync(Review("evt-3", 5));
        await h.IngestAsync(new CartAbandoned { Id = new EventId("evt-4"), Tenant = Fixed.Tenant, OccurredAt = Fixed.HoursAgo(2), Identifiers = [Ada], CartId = "cart-1", Currency = Currency.Eur, Value = 12m });
        await h.IngestAsync(new SupportTicket { Id = new EventId("evt-5"), Tenant = Fixed.Tenant, OccurredAt = Fixed.HoursAgo(2), Identifiers = [Ada], TicketId = "t-1", Status = TicketStatus.Opened });
        await h.IngestAsync(new SupportTicket { Id = new EventId("evt-6"), Tenant = Fixed.Tenant, OccurredAt = Fixed.HoursAgo(1), Identifiers = [Ada], TicketId = "t-1", Status = TicketStatus.Closed, Satisfaction = 4 });

        var traits = await TraitsAsync(h);
        Assert.Equal((2, 1, 1, 1), (traits.Interactions, traits.Reviews, traits.AbandonedCarts, traits.SupportTickets));
        Assert.Equal(Fixed.DaysAgo(2), traits.LastInteractionAt);
        Assert.Equal(0, traits.Orders);
    }
}
