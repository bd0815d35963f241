using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

/// <summary>Delivery results flowing back in as events: journeys, consent, best channel; and the dispatcher's clock.</summary>
public sealed class FeedbackTests
{
    private static JourneyStep Send(string id, string template, string? next, ContactChannel? channel = ContactChannel.Email) => new()
    {
        Id = id,
        Kind = JourneyStepKind.Action,
        Next = next,
        Action = new JourneyAction
        {
            Kind = channel is null ? JourneyActionKind.SendBestChannel : JourneyActionKind.SendMessage, Channel = channel, Template = template, MessageClass = "transactional",
        },
    };

    private static Identifier Phone(int n) => new(IdentifierType.Phone, $"+336123456{n:00}");

    private static Task<IngestResult> FeedbackAsync(Harness h, string key, ContactChannel channel, InteractionKind result, params Identifier[] identifiers) =>
        h.Engine.IngestAsync(DeliveryFeedback.ToEvent(Harness.Tenant, key, channel, result, h.Clock.GetCurrentInstant(), identifiers)).AsTask();

    [Fact]
    public async Task Wait_for_an_open_of_the_journeys_own_message_with_a_timeout_branch()
    {
        var journey = new JourneyDefinition
        {
            Id = "offer",
            Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.SignedUp },
            Goal = new JourneyGoal { EventKind = "message_clicked", Window = Duration.FromDays(10), ExitOnGoal = false },
            Steps =
            [
                Send("offer", "offer", "opened"),
                new JourneyStep { Id = "opened", Kind = JourneyStepKind.WaitForEvent, EventKind = "message_opened", Duration = Duration.FromDays(3), Next = "thanks", Else = "reminder" },
                Send("thanks", "thanks", null),
                Send("reminder", "reminder", null),
            ],
        };
        await using var h = new Harness(o => o.Journeys.Add(journey));
        var reader = (await h.SignUpAsync("reader@example.com")).Customer!.Value;
        var ignorer = (await h.SignUpAsync("ignorer@example.com")).Customer!.Value;
        await h.TickAsync();
        var offers = h.Email.Sent.ToDictionary(s => s.Customer, s => s.Key);

        h.Clock.Advance(Duration.FromHours(5));
        var opened = await FeedbackAsync(h, offers[reader], ContactChannel.Email, InteractionKind.MessageOpened, Harness.Mail("reader@example.com"));
        Assert.Equal(IngestOutcome.Applied, opened.Outcome);
        Assert.Equal(IngestOutcome.Duplicate, (await FeedbackAsync(h, offers[reader], ContactChannel.Email, InteractionKind.MessageOpened, Harness.Mail("reader@example.com"))).Outcome);
        await FeedbackAsync(h, offers[reader], ContactChannel.Email, InteractionKind.MessageClicked, Harness.Mail("reader@example.com"));

        // An open of another journey's message is not the awaited one.
        var foreign = "journey:other:v1:" + ignorer.Value + ":1:hello";
        await FeedbackAsync(h, foreign, ContactChannel.Email, InteractionKind.MessageOpened, Harness.Mail("ignorer@example.com"));
        await h.RunDaysAsync(4);

        Assert.Equal(["offer", "thanks"], h.Email.Sent.Where(s => s.Customer == reader).Select(s => s.Template!).ToArray());
        Assert.Equal(["offer", "reminder"], h.Email.Sent.Where(s => s.Customer == ignorer).Select(s => s.Template!).ToArray());
        var report = await h.ReportAsync("offer");
        Assert.Equal(1, report.Feedback["message_opened"]);
        Assert.Equal(1, report.Feedback["message_clicked"]);
        Assert.Equal(1, report.Uplift.TreatedConversions);
    }

    [Fact]
    public async Task An_unsubscribe_result_withdraws_marketing_consent_on_the_channel_and_ends_journeys_that_exit_on_it()
    {
        var exits = new JourneyDefinition
        {
            Id = "welcome_exit",
            Transactional = true,
            ExitOn = ["unsubscribed"],
            Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.SignedUp },
            Steps = [new JourneyStep { Id = "wait", Kind = JourneyStepKind.Wait, Duration = Duration.FromDays(2), Next = "hello" }, Send("hello", "hello", null)],
        };
        await using var h = new Harness(o =>
        {
            o.Journeys.Add(JourneyTemplates.WelcomeSeries with { HoldoutPercent = 0 });
            o.Journeys.Add(exits);
        });
        var customer = (await h.SignUpAsync("leaver@example.com")).Customer!.Value;
        await h.TickAsync();
        var welcome = h.Email.Sent.Single(s => s.Key.StartsWith("journey:welcome_series:", StringComparison.Ordinal));

        var result = await FeedbackAsync(h, welcome.Key, ContactChannel.Email, InteractionKind.Unsubscribed, Harness.Mail("leaver@example.com"));
        Assert.Contains(result.Decisions, d => d.Capability == Capabilities.Consent && d.Action == "unsubscribed");
        Assert.Equal("exit_criteria", (await h.Journeys.GetInstanceAsync(Harness.Tenant, customer, "welcome_exit"))!.ExitReason);

        await h.RunDaysAsync(12);
        var report = await h.ReportAsync("welcome_series");
        Assert.Equal(1, report.Sent);
        Assert.True(report.Skipped["withdrawn"] >= 1);
        Assert.Equal(1, report.Feedback["unsubscribed"]);
        Assert.Equal([welcome.Key], h.Email.Sent.Select(s => s.Key).ToArray()); // nothing after the unsubscribe
    }

    [Fact]
    public void Journeys_naming_an_unknown_event_or_interaction_kind_are_refused_by_path()
    {
        var bad = new JourneyDefinition
        {
            Id = "typo",
            Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = "order_plaecd" },
            ExitOn = ["unsubscribed", "unsubscibed"],
            Goal = new JourneyGoal { EventKind = "message_clicked", Window = Duration.FromDays(1) },
            Steps = [new JourneyStep { Id = "w", Kind = JourneyStepKind.WaitForEvent, EventKind = "message_openned", Duration = Duration.FromDays(1) }],
        };
        var errors = JourneyValidator.Validate([bad], new JourneyOptions(), Currency.Eur);
        Assert.Equal(
            new[] { ("$.journeys[0].exitOn[1]", "unknown_event_kind"), ("$.journeys[0].steps[0].eventKind", "unknown_event_kind"), ("$.journeys[0].trigger.eventKind", "unknown_event_kind") },
            errors.Select(e => (e.Path, e.Code)).Order().ToArray());
    }

    [Fact]
    public async Task Best_channel_is_the_reachable_channel_with_the_best_observed_response_else_the_tenant_default()
    {
        var probe = new JourneyDefinition
        {
            Id = "probe",
            ReEntry = JourneyReEntry.Always,
            Transactional = true,
            Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.OrderPlaced },
            Steps = [Send("mail", "probe_mail", "text"), Send("text", "probe_text", null, ContactChannel.Sms)],
        };
        var best = new JourneyDefinition
        {
            Id = "best",
            ReEntry = JourneyReEntry.Always,
            Transactional = true,
            Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.CartAbandoned },
            Steps = [Send("nudge", "best", null, channel: null)],
        };
        await using var h = new Harness(o =>
        {
            o.Journeys.Add(probe);
            o.Journeys.Add(best);
        });
        var people = new[] { "texter", "bounced", "quiet" };
        var ids = new CustomerId[people.Length];
        for (var n = 0; n < people.Length; n++)
        {
            ids[n] = (await h.SignUpAsync($"{people[n]}@example.com")).Customer!.Value;
            for (var order = 0; order < 3; order++)
            {
                await h.Engine.IngestAsync(h.Order($"{people[n]}@example.com") with { Identifiers = [Harness.Mail($"{people[n]}@example.com"), Phone(n)] });
                await h.TickAsync();
            }
        }

        Assert.Equal(9, h.Sms.Sent.Count);
        Assert.Equal(9, h.Email.Sent.Count(s => s.Template == "probe_mail"));

        // texter and bounced click every text (3 of 3) and open one mail in three; quiet never responds.
        for (var n = 0; n < 2; n++)
        {
            foreach (var text in h.Sms.Sent.Where(s => s.Customer == ids[n]))
            {
                await FeedbackAsync(h, text.Key, ContactChannel.Sms, InteractionKind.MessageClicked, Phone(n));
            }

            await FeedbackAsync(h, h.Email.Sent.First(s => s.Customer == ids[n]).Key, ContactChannel.Email, InteractionKind.MessageOpened, Harness.Mail($"{people[n]}@example.com"));
        }

        // Then bounced's phone number bounces: SMS is no longer reachable for them.
        await FeedbackAsync(h, h.Sms.Sent.Last(s => s.Customer == ids[1]).Key, ContactChannel.Sms, InteractionKind.MessageBounced, Phone(1));

        var (mails, texts) = (h.Email.Sent.Count, h.Sms.Sent.Count);
        foreach (var person in people)
        {
            await h.Engine.IngestAsync(h.Cart($"{person}@example.com", 30m));
        }

        await h.TickAsync();
        Assert.Equal([ids[0]], h.Sms.Sent.Skip(texts).Select(s => s.Customer).ToArray());
        Assert.Equal(new[] { ids[1].Value, ids[2].Value }.Order(StringComparer.Ordinal), h.Email.Sent.Skip(mails).Where(s => s.Template == "best").Select(s => s.Customer.Value).Order(StringComparer.Ordinal));
        var report = await h.ReportAsync("best");
        Assert.Equal(1, report.SentByChannel["sms"]);
        Assert.Equal(2, report.SentByChannel["email"]);
    }

    private static JourneyDefinition Hello { get; } = new()
    {
        Id = "hello",
        Transactional = true,
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.SignedUp },
        Steps = [Send("hello", "hello", null)],
    };

    [Fact]
    public async Task Each_claim_of_a_long_dispatch_run_leases_from_the_clocks_current_time()
    {
        await using var h = new Harness(o =>
        {
            o.Journeys.Add(Hello);
            o.DispatchLease = Duration.FromMinutes(1);
            o.DispatchBatchSize = 1;
        });
        for (var i = 0; i < 3; i++)
        {
            await h.SignUpAsync($"slow{i}@example.com");
        }

        var stolen = new List<string>();
        var sends = 0;
        h.Email.BeforeSend = async m =>
        {
            // A slow provider: 40 s per message. During the second, another node claims whatever has no live lease:
            // the second message was claimed at +40 s, so its lease runs to +100 s and only the third is free.
            h.Clock.Advance(Duration.FromSeconds(40));
            if (++sends == 2)
            {
                var claims = await h.Store.Outbox.ClaimDueAsync(h.Clock.GetCurrentInstant(), 10, Duration.FromMinutes(1), "other-node");
                stolen.AddRange(claims.Select(c => c.Message.Key));
            }
        };

        var result = await h.Dispatcher.DispatchDueAsync(Harness.Start);
        Assert.Equal(2, result.Sent);
        Assert.Equal(2, h.Email.Sent.Count);
        var left = Assert.Single(stolen);
        Assert.DoesNotContain(left, h.Email.Sent.Select(s => s.Key));
        Assert.Equal(2, (await h.ReportAsync("hello")).Sent);
    }

    [Fact]
    public async Task A_batch_that_outlives_its_lease_delivers_the_rest_only_under_a_new_claim()
    {
        await using var h = new Harness(o =>
        {
            o.Journeys.Add(Hello);
            o.DispatchLease = Duration.FromMinutes(1);
        });
        for (var i = 0; i < 3; i++)
        {
            await h.SignUpAsync($"late{i}@example.com");
        }

        h.Email.BeforeSend = _ =>
        {
            h.Clock.Advance(Duration.FromSeconds(70)); // the first delivery alone outlasts the batch's lease
            h.Email.BeforeSend = null;
            return Task.CompletedTask;
        };
        // The two messages left once the lease was over are not delivered on it: they are claimed again (a fresh
        // lease at the clock's time) and delivered once.
        var result = await h.Dispatcher.DispatchDueAsync(Harness.Start);
        Assert.Equal(3, result.Sent);
        Assert.Equal(3, h.Email.Sent.Count);
        var session = await h.Store.OpenSessionAsync(Harness.Tenant);
        await using (session)
        {
            var stats = (await session.Journeys.GetStatsAsync()).Single(s => s.Journey == "hello");
            Assert.Equal(2, stats["lease_expired"]);
            Assert.Equal(3, stats["sent"]);
        }

        Assert.Equal(3, h.Email.Sent.Select(s => s.Key).Distinct().Count());
    }

    [Fact]
    public async Task Erasure_exports_then_deletes_the_customers_journeys_and_channel_response()
    {
        await using var h = new Harness(o => o.Journeys.Add(JourneyTemplates.WelcomeSeries with { HoldoutPercent = 0 }));
        var customer = (await h.SignUpAsync("gone@example.com")).Customer!.Value;
        await h.TickAsync();
        await FeedbackAsync(h, h.Email.Sent.Single().Key, ContactChannel.Email, InteractionKind.MessageOpened, Harness.Mail("gone@example.com"));
        var personal = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Loyalty.Sdk.Consent.IPersonalDataService>(h.Services);

        var export = await personal.ExportAsync(Harness.Tenant, customer);
        var journeys = export["journeys"]!;
        Assert.Equal("welcome_series", journeys["instances"]![0]!["journey"]!.GetValue<string>());
        Assert.Equal(1, journeys["channelResponse"]![0]!["channels"]![0]!["opened"]!.GetValue<long>());

        await personal.EraseAsync(Harness.Tenant, customer, "dpo");
        Assert.Null(await h.Journeys.GetInstanceAsync(Harness.Tenant, customer, "welcome_series"));
        await h.RunDaysAsync(15);
        Assert.Single(h.Email.Sent);
        Assert.Equal(1, (await h.ReportAsync("welcome_series")).Entries);
    }
}

