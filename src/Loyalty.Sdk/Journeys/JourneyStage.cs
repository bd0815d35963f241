using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>
/// The journey stage: after segments, it lets the customer's running instances react to the event (goal, exit criteria,
/// awaited events), starts journeys whose trigger the event, a segment change or a ledger decision fires, and
/// (re)schedules time triggers (inactivity, birthdays and anniversaries) as durable timers.
/// </summary>
public sealed class JourneyStage : IJourneyStage
{
    private readonly JourneyRegistry registry;
    private readonly JourneyRunner runner;

    [ThreadStatic]
    private static RuleSubject? subject;

    internal JourneyStage(JourneyRegistry registry, JourneyRunner runner)
    {
        this.registry = registry;
        this.runner = runner;
    }

    /// <inheritdoc />
    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var catalog = registry.Get(context.Program);
        if (catalog.Latest.Count == 0)
        {
            return;
        }

        var customer = context.RequireCustomer();
        var e = context.Event;
        var repo = context.Session.Journeys;
        var stored = await repo.ListForCustomerAsync(customer, cancellationToken).ConfigureAwait(false);
        Dictionary<string, (JourneyInstance Current, long Expected, bool Dirty)>? instances = null;
        if (stored.Count > 0)
        {
            instances = new Dictionary<string, (JourneyInstance, long, bool)>(stored.Count, StringComparer.Ordinal);
            foreach (var i in stored)
            {
                instances[i.Journey] = (i, i.Version, false);
            }
        }

        var profile = context.Profile;
        subject ??= new RuleSubject(catalog.Schema.SlotCount);
        subject.EnsureCapacity(catalog.Schema.SlotCount);
        var run = new JourneyRun
        {
            Session = context.Session,
            Program = context.Program,
            Tenant = context.Tenant,
            Customer = customer,
            Now = context.Now,
            Profile = profile,
            Event = e,
            Context = context,
            Subject = subject,
        };

        // 0. A delivery result of a journey message: measurement per journey and the customer's response per channel.
        if (e is Interaction { MessageId: { } messageId } feedback && DeliveryFeedback.IsJourneyMessage(messageId))
        {
            await RecordFeedbackAsync(context, catalog, customer, feedback, messageId, cancellationToken).ConfigureAwait(false);
        }

        // 1. Running (and recently ended) instances react: goal, exit criteria, awaited event.
        if (instances is not null && catalog.HasGoalsOrExits)
        {
            string? entered = null;
            foreach (var change in context.SegmentChanges)
            {
                if (change.Entered)
                {
                    entered = change.Segment;
                }
            }

            foreach (var (journey, (current, expected, dirty)) in instances.ToArray())
            {
                if (current.Status == JourneyStatus.Scheduled || catalog.Find(journey, current.JourneyVersion) is not { } j)
                {
                    continue;
                }

                var next = await runner.OnEventAsync(run, j, current, e, entered, cancellationToken).ConfigureAwait(false);
                if (!ReferenceEquals(next, current))
                {
                    instances[journey] = (next, expected, true);
                }
            }
        }

        CompiledJourney[]? byInteraction = null;

        // 2. Event triggers (an interaction also by its interaction kind, e.g. message_clicked).
        if (catalog.ByEventKind.TryGetValue(e.Kind, out var byKind) | (e is Interaction interaction && catalog.ByEventKind.TryGetValue(DeliveryFeedback.Name(interaction.InteractionKind), out byInteraction)))
        {
            foreach (var j in (byKind ?? []).Concat(byInteraction ?? []))
            {
                if (j.Filter is { } filter)
                {
                    JourneyRules.Fill(filter, subject, e, profile);
                    if (!filter.Evaluate(subject, context.Now))
                    {
                        continue;
                    }
                }

                await TryEnterAsync(run, j, instances ??= new(StringComparer.Ordinal), e.Kind, cancellationToken).ConfigureAwait(false);
            }
        }

        // 3. Segment, ledger and time triggers.
        foreach (var j in catalog.Other)
        {
            var t = j.Definition.Trigger;
            switch (t.Kind)
            {
                case JourneyTriggerKind.SegmentEntered or JourneyTriggerKind.SegmentExited:
                    foreach (var change in context.SegmentChanges)
                    {
                        if (change.Segment == t.Segment && change.Entered == (t.Kind == JourneyTriggerKind.SegmentEntered))
                        {
                            await TryEnterAsync(run, j, instances ??= new(StringComparer.Ordinal), $"segment:{change.Segment}", cancellationToken).ConfigureAwait(false);
                        }
                    }

                    break;
                case JourneyTriggerKind.TierChanged or JourneyTriggerKind.PointsExpiring or JourneyTriggerKind.ReservationExpired:
                    var action = t.Kind switch
                    {
                        JourneyTriggerKind.TierChanged => "tier_changed",
                        JourneyTriggerKind.PointsExpiring => "points_expiring",
                        _ => "reservation_expired",
                    };
                    foreach (var d in context.Decisions)
                    {
                        if (d.Capability == Capabilities.Ledger && d.Action == action
                            && (t.Kind != JourneyTriggerKind.TierChanged || JourneyLedgerObserver.TierMatches(t.Attribute, context.Program, d.Inputs.GetValueOrDefault("from"), d.Inputs.GetValueOrDefault("to"))))
                        {
                            await TryEnterAsync(run, j, instances ??= new(StringComparer.Ordinal), action, cancellationToken).ConfigureAwait(false);
                            break;
                        }
                    }

                    break;
                case JourneyTriggerKind.Inactivity or JourneyTriggerKind.DateAttribute:
                    instances ??= new(StringComparer.Ordinal);
                    var existing = instances.TryGetValue(j.Id, out var x) ? x : default;
                    var current = existing.Current;
                    if (current is { Status: JourneyStatus.Active } || !JourneyRunner.CanEnter(current, j.Definition, context.Now))
                    {
                        break;
                    }

                    var due = NextTimeTrigger(t, profile, context.Now, context.Program.DefaultTimeZone);
                    if (due is null || current?.WakeAt == due)
                    {
                        break;
                    }

                    var scheduled = (current ?? new JourneyInstance { Customer = customer, Journey = j.Id, JourneyVersion = j.Definition.Version })
                        with { Status = JourneyStatus.Scheduled, WakeAt = due, JourneyVersion = j.Definition.Version };
                    instances[j.Id] = (scheduled, current?.Version ?? 0, true);
                    break;
            }
        }

        if (instances is null)
        {
            return;
        }

        foreach (var (_, (current, expected, dirty)) in instances)
        {
            if (dirty)
            {
                await repo.SaveAsync(current, expected, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask RecordFeedbackAsync(IngestContext context, JourneyCatalog catalog, CustomerId customer, Interaction feedback, string messageId, CancellationToken cancellationToken)
    {
        var repo = context.Session.Journeys;
        var name = DeliveryFeedback.Name(feedback.InteractionKind);
        foreach (var j in catalog.Latest)
        {
            if (DeliveryFeedback.SentBy(messageId, j.Id))
            {
                await repo.CountAsync(j.Id, "feedback." + name, 1, cancellationToken).ConfigureAwait(false);
            }
        }

        if (feedback.InteractionKind is not (InteractionKind.MessageOpened or InteractionKind.MessageClicked) || ContactChannelOf(feedback.Channel) is not { } channel)
        {
            return;
        }

        var response = await repo.GetResponseAsync(customer, cancellationToken).ConfigureAwait(false) ?? new CustomerChannelResponse { Customer = customer };
        var opened = feedback.InteractionKind == InteractionKind.MessageOpened;
        await repo.SaveResponseAsync(
            response.With(channel, c => opened ? c with { Opened = c.Opened + 1 } : c with { Clicked = c.Clicked + 1 }), response.Version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The contact channel of an event channel, if there is one.</summary>
    internal static ContactChannel? ContactChannelOf(Channel channel) => channel switch
    {
        Channel.Email => ContactChannel.Email,
        Channel.Sms => ContactChannel.Sms,
        Channel.Push or Channel.App => ContactChannel.Push,
        Channel.WhatsApp => ContactChannel.WhatsApp,
        _ => null,
    };

    private async ValueTask TryEnterAsync(JourneyRun run, CompiledJourney j, Dictionary<string, (JourneyInstance Current, long Expected, bool Dirty)> instances, string cause, CancellationToken cancellationToken)
    {
        var existing = instances.TryGetValue(j.Id, out var x) ? x : default;
        var entered = await runner.EnterAsync(run, j, existing.Current, cause, cancellationToken).ConfigureAwait(false);
        if (entered is not null)
        {
            instances[j.Id] = (entered, existing.Current?.Version ?? 0, true);
        }
    }

    /// <summary>When a time trigger fires next for the customer, or null.</summary>
    internal static Instant? NextTimeTrigger(JourneyTrigger t, CustomerProfile? profile, Instant now, string defaultZone)
    {
        if (t.Kind == JourneyTriggerKind.Inactivity)
        {
            return now + Duration.FromDays(t.Days);
        }

        var zone = JourneyRules.Zone(profile?.TimeZone, defaultZone);
        LocalDate? anchor = t.Attribute switch
        {
            "birthday" => profile?.BirthDate,
            "signup_anniversary" => profile?.SignedUpAt?.InZone(zone).Date,
            _ => null,
        };
        if (anchor is not { } a)
        {
            return null;
        }

        var today = now.InZone(zone).Date;
        for (var year = today.Year; year <= today.Year + 1; year++)
        {
            var day = Math.Min(a.Day, CalendarSystem.Iso.GetDaysInMonth(year, a.Month));
            var date = new LocalDate(year, a.Month, day).PlusDays(t.OffsetDays);
            if (t.Attribute == "signup_anniversary" && year == a.Year)
            {
                continue;
            }

            if (date > today)
            {
                return zone.AtStartOfDay(date).ToInstant();
            }
        }

        return null;
    }
}
