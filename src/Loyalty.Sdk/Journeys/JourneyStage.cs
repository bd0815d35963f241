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

        // The customer's instances as this event changes them, in the order the store listed them (copied on the
        // first change only).
        var instances = new Instances(stored);

        var profile = context.Profile;
        var interactionName = e is Interaction interaction ? DeliveryFeedback.Name(interaction.InteractionKind) : null;
        JourneyRun? run = null;
        JourneyRun Run()
        {
            if (run is null)
            {
                subject ??= new RuleSubject(catalog.Schema.SlotCount);
                subject.EnsureCapacity(catalog.Schema.SlotCount);
                run = new JourneyRun
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
            }

            return run;
        }

        // 0. A delivery result of a journey message: measurement per journey and the customer's response per channel.
        if (e is Interaction { MessageId: { } messageId } feedback && DeliveryFeedback.IsJourneyMessage(messageId))
        {
            await RecordFeedbackAsync(context, catalog, customer, feedback, messageId, cancellationToken).ConfigureAwait(false);
        }

        // 1. Running (and recently ended) instances react: goal, exit criteria, awaited event. Only instances of a
        // journey that names this event (or the segment just entered) can react; the others are not looked at.
        string? entered = null;
        foreach (var change in context.SegmentChanges)
        {
            if (change.Entered)
            {
                entered = change.Segment;
            }
        }

        if (instances.Count > 0 && catalog.HasGoalsOrExits && catalog.AnyReactsTo(e.Kind, interactionName, entered))
        {
            for (var k = 0; k < instances.Count; k++)
            {
                var current = instances[k];
                if (current.Status == JourneyStatus.Scheduled || catalog.Find(current.Journey, current.JourneyVersion) is not { } j
                    || !j.ReactsTo(e.Kind, interactionName, entered))
                {
                    continue;
                }

                var next = await runner.OnEventAsync(Run(), j, current, e, entered, cancellationToken).ConfigureAwait(false);
                if (!ReferenceEquals(next, current))
                {
                    instances.Set(k, next, instances.ExpectedAt(k));
                }
            }
        }

        // 2. Event triggers (an interaction also by its interaction kind, e.g. message_clicked).
        if (catalog.ByEventKind.TryGetValue(e.Kind, out var byKind))
        {
            await TriggerAsync(byKind).ConfigureAwait(false);
        }

        if (interactionName is not null && catalog.ByEventKind.TryGetValue(interactionName, out var byInteraction))
        {
            await TriggerAsync(byInteraction).ConfigureAwait(false);
        }

        async ValueTask TriggerAsync(CompiledJourney[] journeys)
        {
            foreach (var j in journeys)
            {
                // Re-entry first (cheap, and the usual answer for a customer already in the journey), then the filter.
                var k = instances.IndexOf(j.Id);
                if (!JourneyRunner.CanEnter(k < 0 ? null : instances[k], j.Definition, context.Now))
                {
                    continue;
                }

                if (j.Filter is { } filter)
                {
                    var r = Run();
                    JourneyRules.Fill(filter, r.Subject, e, profile);
                    if (!filter.Evaluate(r.Subject, context.Now))
                    {
                        continue;
                    }
                }

                await TryEnterAsync(Run(), j, instances, e.Kind, cancellationToken).ConfigureAwait(false);
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
                            await TryEnterAsync(Run(), j, instances, $"segment:{change.Segment}", cancellationToken).ConfigureAwait(false);
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
                            await TryEnterAsync(Run(), j, instances, action, cancellationToken).ConfigureAwait(false);
                            break;
                        }
                    }

                    break;
                case JourneyTriggerKind.Inactivity or JourneyTriggerKind.DateAttribute:
                    var k = instances.IndexOf(j.Id);
                    var current = k < 0 ? null : instances[k];
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
                    instances.Set(k, scheduled, current?.Version ?? 0);
                    break;
            }
        }

        if (instances.Changed is { } changed)
        {
            foreach (var (current, expected, dirty) in changed)
            {
                if (dirty)
                {
                    await repo.SaveAsync(current, expected, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>An instance as the event leaves it: the version read (0 for a new one) and whether it changed.</summary>
    private readonly record struct Working(JourneyInstance Current, long Expected, bool Dirty);

    /// <summary>The customer's instances during one event: the stored list until the first change, then a copy
    /// that records, per instance, the version read and whether it changed. A handful per customer: searched linearly.</summary>
    private sealed class Instances(IReadOnlyList<JourneyInstance> stored)
    {
        public List<Working>? Changed { get; private set; }

        public int Count => Changed?.Count ?? stored.Count;

        public JourneyInstance this[int k] => Changed is { } c ? c[k].Current : stored[k];

        public long ExpectedAt(int k) => Changed is { } c ? c[k].Expected : stored[k].Version;

        public int IndexOf(string journey)
        {
            for (var k = 0; k < Count; k++)
            {
                if (string.Equals(this[k].Journey, journey, StringComparison.Ordinal))
                {
                    return k;
                }
            }

            return -1;
        }

        /// <summary>Replaces instance <paramref name="k"/> (or adds one when <paramref name="k"/> is negative).</summary>
        public void Set(int k, JourneyInstance value, long expected)
        {
            if (Changed is null)
            {
                Changed = new List<Working>(stored.Count + 4);
                foreach (var i in stored)
                {
                    Changed.Add(new Working(i, i.Version, false));
                }
            }

            if (k < 0)
            {
                Changed.Add(new Working(value, expected, true));
            }
            else
            {
                Changed[k] = new Working(value, expected, true);
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

    private async ValueTask TryEnterAsync(JourneyRun run, CompiledJourney j, Instances instances, string cause, CancellationToken cancellationToken)
    {
        var k = instances.IndexOf(j.Id);
        var existing = k < 0 ? null : instances[k];
        var entered = await runner.EnterAsync(run, j, existing, cause, cancellationToken).ConfigureAwait(false);
        if (entered is not null)
        {
            instances.Set(k, entered, existing?.Version ?? 0);
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
