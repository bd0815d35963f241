using Loyalty.Sdk.Events;
using Loyalty.Sdk.Journeys;
using Loyalty.Sdk.Pipeline;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

public sealed class JourneyTests
{
    private static JourneyDefinition Welcome(int holdout = 0, bool transactional = false) => JourneyTemplates.WelcomeSeries with { HoldoutPercent = holdout, Transactional = transactional };

    [Fact]
    public void Templates_are_valid()
    {
        var errors = JourneyValidator.Validate(JourneyTemplates.All, new JourneyOptions(), Currency.Eur);
        Assert.Empty(errors);
        Assert.Equal(9, JourneyTemplates.All.Count);
    }

    [Fact]
    public void Bad_definitions_list_every_error_by_path()
    {
        var options = new JourneyOptions { MaxWait = Duration.FromDays(90) };
        options.Templates.Add("welcome");
        options.Channels.Add(ContactChannel.Email);
        var bad = new JourneyDefinition
        {
            Id = "bad",
            Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.SignedUp, Filter = "nonsense >= 1" },
            Steps =
            [
                new JourneyStep { Id = "a", Kind = JourneyStepKind.Action, Next = "b", Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Sms, Template = "nope" } },
                new JourneyStep { Id = "b", Kind = JourneyStepKind.Condition, Condition = "orders >= 1", Next = "a", Else = "w" },
                new JourneyStep { Id = "w", Kind = JourneyStepKind.Wait, Duration = Duration.FromDays(365), Next = "ghost" },
                new JourneyStep { Id = "orphan", Kind = JourneyStepKind.Exit },
            ],
        };
        var errors = JourneyValidator.Validate([bad], options, Currency.Eur);
        var codes = errors.Select(e => (e.Path, e.Code)).ToArray();
        Assert.Contains(("$.journeys[0].trigger.filter", "invalid_rule"), codes);
        Assert.Contains(("$.journeys[0].steps[0].action.channel", "unknown_channel"), codes);
        Assert.Contains(("$.journeys[0].steps[0].action.template", "unknown_template"), codes);
        Assert.Contains(("$.journeys[0].steps[2].duration", "wait_too_long"), codes);
        Assert.Contains(("$.journeys[0].steps[2].next", "unknown_step"), codes);
        Assert.Contains(("$.journeys[0].steps[3]", "unreachable_step"), codes);
        Assert.Contains(("$.journeys[0].steps", "cycle_without_wait"), codes);
    }

    [Fact]
    public async Task Invalid_definitions_register_nothing()
    {
        var invalid = Welcome() with { Steps = [new JourneyStep { Id = "w", Kind = JourneyStepKind.Wait, Duration = Duration.FromDays(900) }] };
        await using var h = new Harness(o => o.Journeys.Add(invalid));
        var ex = await Assert.ThrowsAsync<JourneyValidationException>(() => h.SignUpAsync("ann@example.com"));
        Assert.Contains(ex.Errors, e => e.Code == "wait_too_long");
    }

    [Fact]
    public async Task Welcome_series_sends_each_step_once_through_the_gate()
    {
        await using var h = new Harness(o => o.Journeys.Add(Welcome()));
        var result = await h.SignUpAsync("ann@example.com");
        var action = Assert.Single(result.Actions);
        Assert.Equal(ActionDisposition.Queued, action.Disposition);
        Assert.Contains(result.Decisions, d => d.Action == "journey_entered");
        await h.TickAsync();
        await h.RunDaysAsync(20);
        await h.RunDaysAsync(5); // nothing more
        var templates = h.Email.Sent.Select(s => s.Template!).ToArray();
        Assert.Equal(new[] { "welcome", "welcome_tips", "first_order_offer" }, templates);
        Assert.Equal(templates.Length, h.Email.Sent.Select(s => s.Key).Distinct().Count());
        var report = await h.ReportAsync("welcome_series");
        Assert.Equal(1, report.Entries);
        Assert.Equal(3, report.Sent);
        Assert.Equal(1, report.Exits["completed"]);
        var instance = await h.Journeys.GetInstanceAsync(Harness.Tenant, result.Customer!.Value, "welcome_series");
        Assert.Equal(JourneyStatus.Ended, instance!.Status);
    }

    [Fact]
    public async Task A_dispatcher_whose_lease_ran_out_leaves_the_message_to_the_node_that_took_it_over()
    {
        await using var h = new Harness(o =>
        {
            o.Journeys.Add(Welcome());
            o.DispatchLease = Duration.FromMinutes(1);
        });
        await h.SignUpAsync("ann@example.com");
        var stolen = new List<string>();
        h.Email.BeforeSend = async m =>
        {
            // Slow delivery: meanwhile the lease expires and another node claims the message.
            h.Email.BeforeSend = null;
            var claims = await h.Store.Outbox.ClaimDueAsync(h.Clock.GetCurrentInstant() + Duration.FromMinutes(2), 10, Duration.FromMinutes(1), "other-node");
            stolen.AddRange(claims.Select(c => c.Message.Key));
        };
        await h.TickAsync();
        Assert.Equal([h.Email.Sent.Single().Key], stolen);
        var report = await h.ReportAsync("welcome_series");
        Assert.Equal(0, report.Sent);
        Assert.Equal(1, await h.Store.Outbox.CountPendingAsync(Harness.Tenant));
    }

    [Fact]
    public async Task Without_consent_nothing_is_sent_and_the_skip_is_counted_with_its_reason()
    {
        await using var h = new Harness(o => o.Journeys.Add(Welcome()));
        await h.SignUpAsync("bob@example.com", consent: false);
        await h.RunDaysAsync(15);
        Assert.Empty(h.Email.Sent);
        var report = await h.ReportAsync("welcome_series");
        Assert.Equal(0, report.Sent);
        Assert.True(report.Skipped["no_consent"] >= 1);
    }

    [Fact]
    public async Task Duplicate_and_out_of_order_events_never_send_twice()
    {
        await using var h = new Harness(o => o.Journeys.Add(Welcome()));
        var signUp = new SignedUp
        {
            Id = new EventId("dup-1"), Tenant = Harness.Tenant, OccurredAt = Harness.Start, Channel = Channel.Web, Identifiers = [Harness.Mail("cy@example.com")],
        };
        await h.IngestAsync(signUp, "cy@example.com");
        var again = await h.Engine.IngestAsync(signUp);
        Assert.Equal(IngestOutcome.Duplicate, again.Outcome);
        // A second sign-up (new id, older timestamp) does not re-enter a once-only journey.
        var older = await h.Engine.IngestAsync(signUp with { Id = new EventId("dup-2"), OccurredAt = Harness.Start - Duration.FromDays(2) });
        Assert.Empty(older.Actions);
        await h.RunDaysAsync(20);
        Assert.Equal(3, h.Email.Sent.Count);
        Assert.Equal(3, h.Email.Sent.Select(s => s.Key).Distinct().Count());
    }

    [Fact]
    public async Task A_crash_between_steps_leaves_the_same_state_as_a_clean_run()
    {
        async Task<(string[] Keys, JourneyInstance? Instance, long Sent)> RunAsync(bool crash)
        {
            await using var h = new Harness(o => o.Journeys.Add(Welcome()));
            if (crash)
            {
                h.Crash.CrashNext = 1;
                await Assert.ThrowsAsync<InvalidOperationException>(() => h.SignUpAsync("dee@example.com", id: new EventId("signup-dee")));
                h.Email.FailNext = 2; // the sender crashes twice too
            }

            var result = await h.SignUpAsync("dee@example.com", id: new EventId("signup-dee"));
            for (var day = 0; day < 25; day++)
            {
                await h.RunDaysAsync(1);
                await h.RunDaysAsync(0);
                if (crash && day == 4)
                {
                    await h.RunDaysAsync(1, TimeSpan.FromMinutes(30)); // retries with backoff
                }
            }

            await h.RunDaysAsync(2);
            var instance = await h.Journeys.GetInstanceAsync(Harness.Tenant, result.Customer!.Value, "welcome_series");
            return (h.Email.Sent.Select(s => s.Key).ToArray(), instance, (await h.ReportAsync("welcome_series")).Sent);
        }

        var clean = await RunAsync(false);
        var crashed = await RunAsync(true);
        Assert.Equal(clean.Keys.Length, clean.Keys.Distinct().Count());
        Assert.Equal(clean.Keys, crashed.Keys);
        Assert.Equal(clean.Sent, crashed.Sent);
        Assert.Equal(clean.Instance! with { Version = 0, EnteredAt = null }, crashed.Instance! with { Version = 0, EnteredAt = null });
    }

    [Fact]
    public async Task Holdout_receives_nothing_and_uplift_is_measured()
    {
        var journey = new JourneyDefinition
        {
            Id = "nudge",
            HoldoutPercent = 50,
            Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.SignedUp },
            Goal = new JourneyGoal { EventKind = EventKinds.OrderPlaced, Window = Duration.FromDays(30) },
            Steps = [new JourneyStep { Id = "msg", Kind = JourneyStepKind.Action, Next = "wait", Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = "nudge" } },
                     new JourneyStep { Id = "wait", Kind = JourneyStepKind.Wait, Duration = Duration.FromDays(30) }],
        };
        await using var h = new Harness(o => o.Journeys.Add(journey));
        var customers = new List<(string Email, CustomerId Id)>();
        for (var i = 0; i < 200; i++)
        {
            var email = $"c{i}@example.com";
            customers.Add((email, (await h.SignUpAsync(email)).Customer!.Value));
        }

        await h.TickAsync();
        var treated = 0;
        foreach (var (email, id) in customers)
        {
            var instance = await h.Journeys.GetInstanceAsync(Harness.Tenant, id, "nudge");
            treated += instance!.Holdout ? 0 : 1;
            // Treated customers order more often (2 in 3) than held-out ones (1 in 5): the message "works".
            var hash = JourneyRules.Bucket("order", id);
            if (instance.Holdout ? hash < 20 : hash < 66)
            {
                await h.Engine.IngestAsync(h.Order(email));
            }
        }

        Assert.InRange(treated, 70, 130);
        Assert.Equal(treated, h.Email.Sent.Count);
        var report = await h.ReportAsync("nudge");
        Assert.Equal(treated, report.Uplift.Treated);
        Assert.Equal(200 - treated, report.Uplift.Holdout);
        Assert.Equal(200 - treated, report.Skipped["holdout"]);
        Assert.True(report.Uplift.Uplift > 0.2);
        Assert.True(report.Uplift.Low > 0 && report.Uplift.High > report.Uplift.Low);
        Assert.True(report.Uplift.Significant);
    }

    [Fact]
    public void Uplift_interval_uses_the_normal_approximation()
    {
        var u = new JourneyUplift(1000, 200, 1000, 150);
        Assert.Equal(0.05, u.Uplift, 6);
        var se = Math.Sqrt((0.2 * 0.8 / 1000) + (0.15 * 0.85 / 1000));
        Assert.Equal(se, u.StandardError, 9);
        Assert.Equal(0.05 - (1.959964 * se), u.Low, 9);
        Assert.True(u.Significant);
    }

    [Fact]
    public async Task Global_control_group_is_excluded_from_marketing_but_not_transactional_journeys()
    {
        await using var h = new Harness(o =>
        {
            o.GlobalControlPercent = 25;
            o.Journeys.Add(Welcome());
            o.Journeys.Add(JourneyTemplates.PostPurchaseThankYou);
        });
        for (var i = 0; i < 200; i++)
        {
            await h.SignUpAsync($"g{i}@example.com");
            await h.Engine.IngestAsync(h.Order($"g{i}@example.com"));
        }

        var welcome = await h.ReportAsync("welcome_series");
        var thanks = await h.ReportAsync("post_purchase_thank_you");
        Assert.InRange(welcome.GlobalControl, 25, 75);
        Assert.Equal(200, welcome.Entries + welcome.GlobalControl);
        Assert.Equal(200, thanks.Entries);
        Assert.Equal(0, thanks.GlobalControl);
    }

    [Fact]
    public async Task Cart_abandonment_waits_for_an_order_with_a_timeout_branch()
    {
        await using var h = new Harness(o => o.Journeys.Add(JourneyTemplates.CartAbandonment));
        await h.SignUpAsync("buyer@example.com");
        await h.SignUpAsync("browser@example.com");
        await h.Engine.IngestAsync(h.Cart("small@example.com", 5m)); // filtered out by event_value >= 20 EUR
        await h.Engine.IngestAsync(h.Cart("buyer@example.com", 80m));
        await h.Engine.IngestAsync(h.Cart("browser@example.com", 80m));
        h.Clock.Reset(h.Clock.GetCurrentInstant() + Duration.FromHours(1));
        await h.Engine.IngestAsync(h.Order("buyer@example.com"));
        await h.RunDaysAsync(1, TimeSpan.FromHours(1));
        var sent = Assert.Single(h.Email.Sent);
        Assert.Equal("cart_reminder", sent.Template);
        var report = await h.ReportAsync("cart_abandonment");
        Assert.Equal(2, report.Entries);
        Assert.Equal(1, report.Uplift.TreatedConversions);
        Assert.Equal(1, report.Exits["goal"]);
        Assert.Equal(1, report.Exits["completed"]);
    }

    [Fact]
    public async Task Win_back_fires_after_months_of_inactivity_only()
    {
        await using var h = new Harness(o => o.Journeys.Add(JourneyTemplates.WinBack with { HoldoutPercent = 0 }));
        await h.SignUpAsync("quiet@example.com");
        await h.SignUpAsync("busy@example.com");
        for (var week = 0; week < 12; week++)
        {
            await h.Engine.IngestAsync(h.Order("busy@example.com"));
            await h.RunDaysAsync(7);
        }

        // quiet: inactive since day 0 → enters on day 60, gets the two messages; busy never enters.
        var report = await h.ReportAsync("win_back");
        Assert.Equal(1, report.Entries);
        Assert.Equal(new[] { "we_miss_you", "win_back_offer" }, h.Email.Sent.Select(s => s.Template!).ToArray());
        Assert.All(h.Email.Sent, s => Assert.Equal(h.Email.Sent.First().Customer, s.Customer));
    }

    [Fact]
    public async Task Birthday_reward_awards_points_once_and_sends_at_local_time()
    {
        await using var h = new Harness(o => o.Journeys.Add(JourneyTemplates.BirthdayReward));
        var result = await h.SignUpAsync("bday@example.com", birthDate: new LocalDate(1990, 3, 20));
        await h.RunDaysAsync(30, TimeSpan.FromHours(1));
        var sent = Assert.Single(h.Email.Sent);
        Assert.Equal("birthday", sent.Template);
        var report = await h.ReportAsync("birthday_reward");
        Assert.Equal(1, report.Entries);
        Assert.Equal(2, report.Sent); // points + message
        var balances = await h.Ledger.GetBalancesAsync(Harness.Tenant, result.Customer!.Value);
        Assert.Equal(200, balances.Sum(b => b.LifetimeEarned));
        await h.RunDaysAsync(5);
        Assert.Equal(200, (await h.Ledger.GetBalancesAsync(Harness.Tenant, result.Customer!.Value)).Sum(b => b.LifetimeEarned));
    }

    [Fact]
    public async Task Splits_are_sticky_and_deterministic()
    {
        var journey = new JourneyDefinition
        {
            Id = "ab",
            ReEntry = JourneyReEntry.Always,
            Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.OrderPlaced },
            Steps =
            [
                new JourneyStep { Id = "split", Kind = JourneyStepKind.Split, Branches = [new JourneyBranch("a", 50, "send_a"), new JourneyBranch("b", 50, "send_b")] },
                new JourneyStep { Id = "send_a", Kind = JourneyStepKind.Action, Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = "a", MessageClass = "transactional" } },
                new JourneyStep { Id = "send_b", Kind = JourneyStepKind.Action, Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = "b", MessageClass = "transactional" } },
            ],
        };
        await using var h = new Harness(o => o.Journeys.Add(journey));
        await h.SignUpAsync("split@example.com");
        for (var i = 0; i < 3; i++)
        {
            await h.Engine.IngestAsync(h.Order("split@example.com"));
            await h.TickAsync();
        }

        Assert.Equal(3, h.Email.Sent.Count);
        Assert.Single(h.Email.Sent.Select(s => s.Template).Distinct());
        Assert.Equal(3, h.Email.Sent.Select(s => s.Key).Distinct().Count());
    }

    [Fact]
    public async Task High_value_at_risk_alerts_staff_through_the_host_handler()
    {
        var journey = JourneyTemplates.HighValueAtRisk with { Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.SupportTicket } };
        await using var h = new Harness(o => o.Journeys.Add(journey));
        await h.SignUpAsync("vip@example.com");
        await h.Engine.IngestAsync(new SupportTicket
        {
            Id = h.NextId(), Tenant = Harness.Tenant, OccurredAt = h.Clock.GetCurrentInstant(), Identifiers = [Harness.Mail("vip@example.com")], TicketId = "T1", Status = TicketStatus.Opened,
        });
        await h.TickAsync();
        await h.TickAsync();
        Assert.Single(h.Handler.Calls);
        Assert.Equal("personal_offer", Assert.Single(h.Email.Sent).Template);
    }

    [Fact]
    public async Task A_running_customer_stays_on_the_version_it_entered()
    {
        static JourneyDefinition Version(int v) => new()
        {
            Id = "versioned",
            Version = v,
            Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.SignedUp },
            Steps =
            [
                new JourneyStep { Id = "a", Kind = JourneyStepKind.Action, Next = "wait", Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = $"v{v}_a" } },
                new JourneyStep { Id = "wait", Kind = JourneyStepKind.Wait, Duration = Duration.FromDays(5), Next = "b" },
                new JourneyStep { Id = "b", Kind = JourneyStepKind.Action, Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = $"v{v}_b" } },
            ],
        };

        await using var first = new Harness(o => o.Journeys.Add(Version(1)));
        var ann = (await first.SignUpAsync("ann@example.com")).Customer!.Value;
        await first.TickAsync();
        Assert.Equal("v1_a", Assert.Single(first.Email.Sent).Template);

        // The host deploys version 2 over the same store: Ann continues on version 1, Bob enters version 2.
        await using var second = new Harness(o => { o.Journeys.Add(Version(1)); o.Journeys.Add(Version(2)); }, store: first.Store);
        second.Clock.Reset(Harness.Start + Duration.FromHours(1));
        second.NextId();
        second.NextId(); // the shared store has seen e-1 and e-2 already
        var bob = (await second.SignUpAsync("bob@example.com", id: new EventId("bob-signup"))).Customer!.Value;
        await second.TickAsync();
        await second.RunDaysAsync(7);
        Assert.Equal(new[] { "v1_b" }, second.Email.Sent.Where(s => s.Customer == ann).Select(s => s.Template!).ToArray());
        Assert.Equal(new[] { "v2_a", "v2_b" }, second.Email.Sent.Where(s => s.Customer == bob).Select(s => s.Template!).ToArray());
        Assert.Equal(1, (await second.Journeys.GetInstanceAsync(Harness.Tenant, ann, "versioned"))!.JourneyVersion);
        Assert.Equal(2, (await second.Journeys.GetInstanceAsync(Harness.Tenant, bob, "versioned"))!.JourneyVersion);
    }

    [Fact]
    public async Task The_simulation_report_has_a_journeys_section_with_funnel_sends_and_uplift()
    {
        await using var h = new Harness(o => o.Journeys.Add(Welcome(holdout: 50)));
        var log = new Loyalty.Sdk.Simulation.IngestLog();
        for (var i = 0; i < 20; i++)
        {
            log.Results.Add(await h.SignUpAsync($"r{i}@example.com"));
        }

        await h.RunDaysAsync(12);
        var report = await Loyalty.Sdk.Simulation.ReportBuilder.BuildAsync(
            h.Engine, Loyalty.Sdk.Programs.DefaultPrograms.Retail(), Harness.Tenant, [], log, null, "test",
            new Loyalty.Sdk.Simulation.ReportInputs { Journeys = h.Journeys });
        var journeys = report["journeys"]!;
        Assert.True(journeys["available"]!.GetValue<bool>());
        var welcome = journeys["journeys"]!.AsArray().Single()!;
        Assert.Equal("welcome_series", welcome["id"]!.GetValue<string>());
        Assert.Equal(20, welcome["entries"]!.GetValue<long>());
        Assert.Equal(20, welcome["funnel"]!["welcome"]!.GetValue<long>());
        Assert.Equal(h.Email.Sent.Count, welcome["sentByChannel"]!["email"]!.GetValue<long>());
        Assert.Equal(20, welcome["uplift"]!["treated"]!.GetValue<long>() + welcome["uplift"]!["holdout"]!.GetValue<long>());
        var html = Loyalty.Sdk.Simulation.HtmlReport.Render(report);
        Assert.Contains("Entries per journey", html, StringComparison.Ordinal);
    }
}
