using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

/// <summary>Customer merges move journey state to the survivor.</summary>
public sealed class MergeTests
{
    // Two merged customers' sends count toward one customer's frequency caps: without caps, what is sent depends on
    // the journeys only.
    private static LoyaltyProgram NoCaps()
    {
        var p = DefaultPrograms.Retail();
        return p with { Consent = (p.Consent ?? Consent.ConsentPolicy.Default) with { Caps = [] } };
    }

    private static JourneyDefinition Welcome() => JourneyTemplates.WelcomeSeries with { HoldoutPercent = 0 };

    private static readonly JourneyDefinition CartReminder = new()
    {
        Id = "cart_reminder",
        ReEntry = JourneyReEntry.Always,
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.CartAbandoned },
        Steps =
        [
            new JourneyStep { Id = "wait_order", Kind = JourneyStepKind.WaitForEvent, EventKind = EventKinds.OrderPlaced, Duration = Duration.FromDays(2), Next = null, Else = "remind" },
            new JourneyStep { Id = "remind", Kind = JourneyStepKind.Action, Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = "cart_reminder" } },
        ],
    };

    private static Task<IdentityOperationResult> MergeAsync(Harness h, CustomerId a, CustomerId b) =>
        h.Services.GetRequiredService<IIdentityService>().MergeAsync(Harness.Tenant, a, b, "same_person", "staff:test", "duplicate account").AsTask();

    private static async Task<JourneyInstance?> GetAsync(Harness h, CustomerId customer, string journey)
    {
        await using var session = await h.Store.OpenSessionAsync(Harness.Tenant);
        return await session.Journeys.GetAsync(customer, journey);
    }

    [Fact]
    public async Task Both_running_the_instance_entered_first_continues_and_the_other_exits_as_merged()
    {
        await using var h = new Harness(o => o.Journeys.Add(Welcome()), NoCaps());
        var ann = (await h.SignUpAsync("ann@example.com")).Customer!.Value;
        h.Clock.Advance(Duration.FromHours(1));
        var bob = (await h.SignUpAsync("bob@example.com")).Customer!.Value;
        await h.TickAsync();
        Assert.Equal(2, h.Email.Sent.Count);

        var merge = await MergeAsync(h, ann, bob);

        Assert.Equal((ann, bob), (merge.Customer, merge.Other));
        var exit = Assert.Single(merge.Decisions, d => d.Action == "journey_exited");
        Assert.Equal(("merged", bob.Value, "absorbed"), (exit.Inputs["reason"], exit.Inputs["customer"], exit.Inputs["instance_of"]));
        var kept = await GetAsync(h, ann, "welcome_series");
        Assert.Equal((JourneyStatus.Active, Harness.Start, 1), (kept!.Status, kept.EnteredAt, kept.Entry));
        Assert.Null(await GetAsync(h, bob, "welcome_series"));

        await h.RunDaysAsync(20);
        // ann's two later steps only: bob's instance ended with the merge.
        Assert.Equal(["welcome", "welcome", "welcome_tips", "first_order_offer"], h.Email.Sent.Select(s => s.Template!));
        Assert.All(h.Email.Sent.Skip(2), s => Assert.Equal(ann, s.Customer));
        var report = await h.ReportAsync("welcome_series");
        Assert.Equal((1L, 1L), (report.Exits["merged"], report.Exits["completed"]));

        // A "once" journey: a sign-up through the absorbed customer's address does not enter again.
        var again = await h.Engine.IngestAsync(new SignedUp
        {
            Id = h.NextId(), Tenant = Harness.Tenant, OccurredAt = h.Clock.GetCurrentInstant(), Channel = Channel.Web, Identifiers = [Harness.Mail("bob@example.com")],
        });
        Assert.Equal(ann, again.Customer);
        Assert.Empty(again.Actions);
    }

    [Fact]
    public async Task When_the_absorbed_customer_entered_first_its_instance_and_timer_move_to_the_survivor()
    {
        await using var h = new Harness(o => o.Journeys.Add(CartReminder), NoCaps());
        var ann = (await h.SignUpAsync("ann@example.com")).Customer!.Value;
        h.Clock.Advance(Duration.FromHours(1));
        var bob = (await h.SignUpAsync("bob@example.com")).Customer!.Value;
        h.Clock.Advance(Duration.FromHours(1));
        await h.IngestAsync(h.Cart("bob@example.com", 40));
        var bobEntered = h.Clock.GetCurrentInstant();
        h.Clock.Advance(Duration.FromHours(1));
        await h.IngestAsync(h.Cart("ann@example.com", 40));

        var merge = await MergeAsync(h, ann, bob);

        var exit = Assert.Single(merge.Decisions, d => d.Action == "journey_exited");
        Assert.Equal(("merged", ann.Value, "survivor"), (exit.Inputs["reason"], exit.Inputs["customer"], exit.Inputs["instance_of"]));
        var moved = await GetAsync(h, ann, "cart_reminder");
        Assert.Equal((JourneyStatus.Active, bobEntered, "wait_order", bobEntered + Duration.FromDays(2)), (moved!.Status, moved.EnteredAt, moved.Step, moved.WakeAt));
        // Above every entry the survivor had, so the next outbox keys cannot meet the survivor's earlier ones.
        Assert.Equal(2, moved.Entry);
        Assert.Equal($"journey:cart_reminder:v1:{bob.Value}:1:", moved.MovedFrom);

        await h.RunDaysAsync(3, TimeSpan.FromHours(6));
        var reminder = Assert.Single(h.Email.Sent);
        Assert.Equal(($"journey:cart_reminder:v1:{ann.Value}:2:remind", ann), (reminder.Key, reminder.Customer));
        var report = await h.ReportAsync("cart_reminder");
        Assert.Equal((2L, 1L, 1L), (report.Entries, report.Exits["merged"], report.Exits["completed"]));
    }

    [Fact]
    public async Task A_moved_entry_still_counts_results_of_the_messages_it_sent_before_the_move()
    {
        var clicked = CartReminder with
        {
            Id = "cart_click",
            Steps =
            [
                new JourneyStep { Id = "remind", Kind = JourneyStepKind.Action, Next = "wait_click", Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = "cart_reminder" } },
                new JourneyStep { Id = "wait_click", Kind = JourneyStepKind.WaitForEvent, EventKind = "message_clicked", Duration = Duration.FromDays(5), Next = "thanks", Else = null },
                new JourneyStep { Id = "thanks", Kind = JourneyStepKind.Action, Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = "thanks" } },
            ],
        };
        await using var h = new Harness(o => o.Journeys.Add(clicked), NoCaps());
        var ann = (await h.SignUpAsync("ann@example.com")).Customer!.Value;
        h.Clock.Advance(Duration.FromHours(1));
        var bob = (await h.SignUpAsync("bob@example.com")).Customer!.Value;
        await h.IngestAsync(h.Cart("bob@example.com", 40));
        await h.TickAsync();
        var sent = Assert.Single(h.Email.Sent);

        await MergeAsync(h, ann, bob);
        await h.Engine.IngestAsync(DeliveryFeedback.ToEvent(Harness.Tenant, sent.Key, ContactChannel.Email, InteractionKind.MessageClicked, h.Clock.GetCurrentInstant(), [Harness.Mail("bob@example.com")]));
        await h.TickAsync();

        Assert.Equal(["cart_reminder", "thanks"], h.Email.Sent.Select(s => s.Template!));
        Assert.Equal(ann, h.Email.Sent.Last().Customer);
    }

    [Fact]
    public async Task Channel_responses_add_up_and_a_second_run_changes_nothing()
    {
        await using var h = new Harness(o => o.Journeys.Add(CartReminder with { ReEntry = JourneyReEntry.Once, HoldoutPercent = 50 }));
        var program = DefaultPrograms.Retail();
        var ann = new CustomerId("cus-ann");
        var bob = new CustomerId("cus-bob");
        var at = Harness.Start;
        await using (var s = await h.Store.OpenSessionAsync(Harness.Tenant))
        {
            // bob entered first and is held out; ann entered later. bob also ended a "once" journey ann never ran.
            await s.Journeys.SaveAsync(new JourneyInstance { Customer = bob, Journey = "cart_reminder", JourneyVersion = 1, Entry = 1, Status = JourneyStatus.Active, Step = "wait_order", EnteredAt = at, WakeAt = at + Duration.FromDays(2), Holdout = true }, 0);
            await s.Journeys.SaveAsync(new JourneyInstance { Customer = ann, Journey = "cart_reminder", JourneyVersion = 1, Entry = 1, Status = JourneyStatus.Active, Step = "wait_order", EnteredAt = at + Duration.FromHours(1), WakeAt = at + Duration.FromDays(3) }, 0);
            await s.Journeys.SaveAsync(new JourneyInstance { Customer = bob, Journey = "welcome_series", JourneyVersion = 1, Entry = 3, Status = JourneyStatus.Ended, EnteredAt = at, ExitReason = "completed" }, 0);
            await s.Journeys.SaveResponseAsync(new CustomerChannelResponse { Customer = bob }.With(ContactChannel.Email, c => c with { Sent = 4, Opened = 2 }).With(ContactChannel.Sms, c => c with { Sent = 1, Clicked = 1 }), 0);
            await s.Journeys.SaveResponseAsync(new CustomerChannelResponse { Customer = ann }.With(ContactChannel.Email, c => c with { Sent = 2, Clicked = 1 }), 0);
            await s.CommitAsync();
        }

        var participant = new JourneyMergeParticipant();
        async Task<IReadOnlyList<Decision>> RunAsync()
        {
            await using var s = await h.Store.OpenSessionAsync(Harness.Tenant);
            var e = new SignedUp { Id = h.NextId(), Tenant = Harness.Tenant, OccurredAt = at, Channel = Channel.Web };
            var context = new IngestContext(e, program, s, at + Duration.FromHours(2)) { Customer = ann };
            await participant.OnMergedAsync(new CustomerMerged(context, ann, bob), CancellationToken.None);
            await s.CommitAsync();
            return context.Decisions;
        }

        var first = await RunAsync();
        Assert.Equal("merged", Assert.Single(first).Inputs["reason"]);
        async Task<(JourneyInstance[] Ann, JourneyInstance[] Bob, CustomerChannelResponse? AnnResponse, CustomerChannelResponse? BobResponse, IReadOnlyList<JourneyStats> Stats, IReadOnlyList<(CustomerId, string)> Due)> StateAsync()
        {
            await using var s = await h.Store.OpenSessionAsync(Harness.Tenant);
            return (
                [.. (await s.Journeys.ListForCustomerAsync(ann)).OrderBy(i => i.Journey, StringComparer.Ordinal)],
                [.. await s.Journeys.ListForCustomerAsync(bob)],
                await s.Journeys.GetResponseAsync(ann),
                await s.Journeys.GetResponseAsync(bob),
                await s.Journeys.GetStatsAsync(),
                await s.Journeys.ListDueAsync(at + Duration.FromDays(10), 10));
        }

        var state = await StateAsync();
        Assert.Empty(state.Bob);
        Assert.Null(state.BobResponse);
        var cart = state.Ann[0];
        Assert.Equal((true, at, 2, JourneyStatus.Active, at + Duration.FromDays(2)), (cart.Holdout, cart.EnteredAt, cart.Entry, cart.Status, cart.WakeAt));
        Assert.Equal((3, JourneyStatus.Ended), (state.Ann[1].Entry, state.Ann[1].Status));
        Assert.False(JourneyRunner.CanEnter(state.Ann[1], JourneyTemplates.WelcomeSeries, at + Duration.FromDays(400)));
        Assert.Equal([(ann, "cart_reminder")], state.Due);
        Assert.Equal((6L, 2L, 1L), (state.AnnResponse!.For(ContactChannel.Email).Sent, state.AnnResponse.For(ContactChannel.Email).Opened, state.AnnResponse.For(ContactChannel.Email).Clicked));
        Assert.Equal((1L, 1L), (state.AnnResponse.For(ContactChannel.Sms).Sent, state.AnnResponse.For(ContactChannel.Sms).Clicked));
        Assert.Equal(1, state.Stats.Single(x => x.Journey == "cart_reminder")["exit.merged"]);

        var second = await RunAsync();
        Assert.Empty(second);
        var again = await StateAsync();
        Assert.Equivalent(state, again, strict: true);
    }
}
