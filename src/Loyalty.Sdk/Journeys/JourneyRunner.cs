using System.Globalization;
using System.Text;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>One pass of journey work for one customer: inside an ingest (with its context) or a timer page.</summary>
internal sealed class JourneyRun
{
    private readonly List<Decision> decisions = [];

    public required ILoyaltyStoreSession Session { get; init; }

    public required LoyaltyProgram Program { get; init; }

    public required TenantId Tenant { get; init; }

    public required CustomerId Customer { get; init; }

    public required Instant Now { get; init; }

    public CustomerProfile? Profile { get; init; }

    public LoyaltyEvent? Event { get; init; }

    public IngestContext? Context { get; init; }

    public required RuleSubject Subject { get; init; }

    /// <summary>What caused a run outside an ingest (decisions record it); default: the timer.</summary>
    public string? Cause { get; init; }

    public IReadOnlyList<Decision> Decisions => decisions;

    public void Decide(string action, string rule, string summary, IReadOnlyDictionary<string, string>? inputs = null)
    {
        if (Context is not null)
        {
            Context.Decide(Capabilities.Journeys, action, rule, summary, inputs);
            return;
        }

        decisions.Add(new Decision
        {
            Capability = Capabilities.Journeys,
            Action = action,
            Rule = rule,
            RuleVersion = Program.Version,
            Summary = summary,
            Inputs = inputs ?? new Dictionary<string, string>(),
            Customer = Customer,
            CausedBy = new EventId(Cause ?? $"journey-timer:{Now.ToUnixTimeTicks().ToString(CultureInfo.InvariantCulture)}"),
            DecidedAt = Now,
        });
    }
}

/// <summary>Moves journey instances through their steps. Every effect goes through the run's session, so a crash
/// before commit leaves nothing behind, and outbox keys are derived from (journey, version, customer, entry, step) so a
/// repeated run never queues twice.</summary>
internal sealed class JourneyRunner(JourneyOptions options)
{
    public const string Entered = "journey_entered";
    public const string Exited = "journey_exited";
    public const string ActionDecided = "journey_action";
    public const string Excluded = "journey_excluded";
    public const string Converted = "journey_converted";

    private static readonly IReadOnlyDictionary<string, string> NoInputs = new Dictionary<string, string>().AsReadOnly();

    private static readonly CompositeFormat KeyFormat = CompositeFormat.Parse("journey:{0}:v{1}:{2}:{3}:{4}");

    public static string Rule(CompiledJourney j) => j.Rule;

    public static string OutboxKey(JourneyInstance i, string step) =>
        string.Format(CultureInfo.InvariantCulture, KeyFormat, i.Journey, i.JourneyVersion, i.Customer.Value, i.Entry, step);

    public static bool CanEnter(JourneyInstance? i, JourneyDefinition d, Instant now) => i switch
    {
        null => true,
        { Status: JourneyStatus.Active } => false,
        _ when i.Entry == 0 => true,
        _ => d.ReEntry switch
        {
            JourneyReEntry.Once => false,
            JourneyReEntry.OncePerPeriod => i.EnteredAt is not { } at || now - at >= (d.ReEntryPeriod ?? Duration.Zero),
            _ => true,
        },
    };

    public bool InGlobalControl(TenantId tenant, CustomerId customer) =>
        options.GlobalControlPercent > 0 && JourneyRules.Bucket(tenant.Value + ":global_control", customer) < options.GlobalControlPercent;

    /// <summary>Enters the journey (checks re-entry and the global control group) and runs to the first wait.</summary>
    public async ValueTask<JourneyInstance?> EnterAsync(JourneyRun run, CompiledJourney j, JourneyInstance? existing, string cause, CancellationToken cancellationToken)
    {
        var d = j.Definition;
        if (!CanEnter(existing, d, run.Now))
        {
            return null;
        }

        var repo = run.Session.Journeys;
        if (!d.Transactional && InGlobalControl(run.Tenant, run.Customer))
        {
            await repo.CountAsync(j.Id, "excluded.global_control", 1, cancellationToken).ConfigureAwait(false);
            run.Decide(Excluded, Rule(j), $"Not entered in journey {j.Id}: the customer is in the global control group.", new Dictionary<string, string> { ["cause"] = cause });
            return existing is { Status: JourneyStatus.Scheduled } ? existing with { Status = JourneyStatus.Ended, WakeAt = null, ExitReason = "global_control" } : null;
        }

        var holdout = !d.Transactional && d.HoldoutPercent > 0 && JourneyRules.Bucket(j.HoldoutSalt, run.Customer) < d.HoldoutPercent;
        var instance = new JourneyInstance
        {
            Customer = run.Customer,
            Journey = j.Id,
            JourneyVersion = d.Version,
            Entry = (existing?.Entry ?? 0) + 1,
            Status = JourneyStatus.Active,
            EnteredAt = run.Now,
            Holdout = holdout,
            Version = existing?.Version ?? 0,
        };
        await repo.CountAsync(j.Id, "entries", 1, cancellationToken).ConfigureAwait(false);
        await repo.CountAsync(j.Id, holdout ? "entries.holdout" : "entries.treated", 1, cancellationToken).ConfigureAwait(false);
        var (summary, inputs) = j.EnteredDecision(instance.Entry, holdout, cause);
        run.Decide(Entered, j.Rule, summary, inputs);
        return await ArriveAsync(run, j, instance, j.EntryStep, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The instance's timer fired.</summary>
    public async ValueTask<JourneyInstance> ResumeAsync(JourneyRun run, CompiledJourney j, JourneyInstance i, CancellationToken cancellationToken)
    {
        if (i.Status != JourneyStatus.Active || i.Step is null || !j.Steps.TryGetValue(i.Step, out var step))
        {
            return i with { WakeAt = null };
        }

        if (step.Kind == JourneyStepKind.WaitForEvent)
        {
            await run.Session.Journeys.CountAsync(j.Id, $"timeout.{step.Id}", 1, cancellationToken).ConfigureAwait(false);
            return await ArriveAsync(run, j, i, step.Else, cancellationToken).ConfigureAwait(false);
        }

        return await ArriveAsync(run, j, i, step.Next, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An event for a customer with an instance: goal, exit criteria, awaited events.</summary>
    public async ValueTask<JourneyInstance> OnEventAsync(JourneyRun run, CompiledJourney j, JourneyInstance i, LoyaltyEvent e, string? segmentEntered, CancellationToken cancellationToken)
    {
        var d = j.Definition;

        // A conversion is applied with whatever else the event does, in one copy of the instance.
        var converted = false;
        if (d.Goal is { } goal && !i.Converted && i.EnteredAt is { } entered && run.Now - entered <= goal.Window && i.Entry > 0
            && (DeliveryFeedback.Matches(goal.EventKind, e, i) || (goal.Segment is not null && goal.Segment == segmentEntered)))
        {
            converted = true;
            await run.Session.Journeys.CountAsync(j.Id, i.Holdout ? "conversions.holdout" : "conversions.treated", 1, cancellationToken).ConfigureAwait(false);
            run.Decide(Converted, j.Rule, j.ConvertedSummary!, NoInputs);
            if (goal.ExitOnGoal && i.Status == JourneyStatus.Active)
            {
                return await EndAsync(run, j, i, "goal", i.Step, true, cancellationToken).ConfigureAwait(false);
            }
        }

        if (i.Status != JourneyStatus.Active)
        {
            return converted ? i with { Converted = true } : i;
        }

        if (j.ExitOn.Contains(e.Kind) || (e is Interaction x && j.ExitOn.Contains(DeliveryFeedback.Name(x.InteractionKind))))
        {
            return await EndAsync(run, j, i, "exit_criteria", i.Step, converted, cancellationToken).ConfigureAwait(false);
        }

        if (i.Step is { } id && j.Steps.TryGetValue(id, out var step) && step.Kind == JourneyStepKind.WaitForEvent && DeliveryFeedback.Matches(step.EventKind, e, i))
        {
            return await ArriveAsync(run, j, i, step.Next, converted, cancellationToken).ConfigureAwait(false);
        }

        return converted ? i with { Converted = true } : i;
    }

    /// <summary>Arrives at <paramref name="stepId"/> and runs until a wait or the end.</summary>
    public ValueTask<JourneyInstance> ArriveAsync(JourneyRun run, CompiledJourney j, JourneyInstance i, string? stepId, CancellationToken cancellationToken) =>
        ArriveAsync(run, j, i, stepId, false, cancellationToken);

    /// <summary>Arrives at <paramref name="stepId"/> and runs until a wait or the end.</summary>
    /// <param name="run">The run.</param>
    /// <param name="j">The journey.</param>
    /// <param name="i">The instance.</param>
    /// <param name="stepId">The step to arrive at (null: the journey completes).</param>
    /// <param name="converted">Whether the event that moves the instance also converted it (applied to the copy the run
    /// ends with).</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    public async ValueTask<JourneyInstance> ArriveAsync(JourneyRun run, CompiledJourney j, JourneyInstance i, string? stepId, bool converted, CancellationToken cancellationToken)
    {
        converted |= i.Converted;
        var repo = run.Session.Journeys;

        // The instance is copied once, where the run stops (a wait or the end); `at` is the step it stands on.
        var at = i.Step;
        for (var n = 0; ; n++)
        {
            if (stepId is null)
            {
                return await EndAsync(run, j, i, "completed", at, converted, cancellationToken).ConfigureAwait(false);
            }

            if (n >= options.MaxStepsPerRun)
            {
                return await EndAsync(run, j, i, "step_limit", at, converted, cancellationToken).ConfigureAwait(false);
            }

            var step = j.Steps[stepId];
            at = step.Id;
            await repo.CountAsync(j.Id, j.StepCounters[step.Id], 1, cancellationToken).ConfigureAwait(false);
            switch (step.Kind)
            {
                case JourneyStepKind.Wait or JourneyStepKind.WaitForEvent:
                    return i with { Step = at, WakeAt = run.Now + step.Duration!.Value, Converted = converted };
                case JourneyStepKind.WaitUntil:
                    return i with { Step = at, WakeAt = LocalTarget(run, step), Converted = converted };
                case JourneyStepKind.Condition:
                    var rule = j.Conditions[step.Id];
                    JourneyRules.Fill(rule, run.Subject, run.Event, run.Profile);
                    stepId = rule.Evaluate(run.Subject, run.Now) ? step.Next : step.Else;
                    break;
                case JourneyStepKind.Split:
                    var bucket = JourneyRules.Bucket(j.Id + ":" + step.Id, run.Customer);
                    var branch = step.Branches[^1];
                    var cumulative = 0;
                    foreach (var b in step.Branches)
                    {
                        cumulative += b.Weight;
                        if (bucket < cumulative)
                        {
                            branch = b;
                            break;
                        }
                    }

                    await repo.CountAsync(j.Id, $"split.{step.Id}.{branch.Id}", 1, cancellationToken).ConfigureAwait(false);
                    if (branch.Holdout && !i.Holdout && !j.Definition.Transactional)
                    {
                        i = i with { Holdout = true };
                    }

                    stepId = branch.Next;
                    break;
                case JourneyStepKind.Action:
                    await ActAsync(run, j, i, step, cancellationToken).ConfigureAwait(false);
                    stepId = step.Next;
                    break;
                default:
                    return await EndAsync(run, j, i, "exit_step", at, converted, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static Instant LocalTarget(JourneyRun run, JourneyStep step)
    {
        var zone = JourneyRules.Zone(run.Profile?.TimeZone, run.Program.DefaultTimeZone);
        var local = run.Now.InZone(zone).LocalDateTime;
        var date = local.Date.PlusDays(step.Days);
        var target = date + step.LocalTime!.Value;
        if (target <= local)
        {
            target = target.PlusDays(1);
        }

        return zone.AtLeniently(target).ToInstant();
    }

    private async ValueTask<JourneyInstance> EndAsync(JourneyRun run, CompiledJourney j, JourneyInstance i, string reason, string? step, bool converted, CancellationToken cancellationToken)
    {
        var (counter, summary, inputs) = j.Exit(reason);
        await run.Session.Journeys.CountAsync(j.Id, counter, 1, cancellationToken).ConfigureAwait(false);
        run.Decide(Exited, j.Rule, summary, inputs);
        return i with { Step = step, Status = JourneyStatus.Ended, WakeAt = null, ExitReason = reason, Converted = converted || i.Converted };
    }

    private async ValueTask ActAsync(JourneyRun run, CompiledJourney j, JourneyInstance i, JourneyStep step, CancellationToken cancellationToken)
    {
        var action = step.Action!;
        var repo = run.Session.Journeys;
        if (i.Holdout)
        {
            await repo.CountAsync(j.Id, "skipped.holdout", 1, cancellationToken).ConfigureAwait(false);
            run.Context?.AddAction(new JourneyActionOutcome(j.Id, step.Id, ActionDisposition.Suppressed, "holdout"));
            var (summary, inputs) = j.HoldoutDecision(step);
            run.Decide(ActionDecided, j.Rule, summary, inputs);
            return;
        }

        var key = OutboxKey(i, step.Id);

        // The same for every message of this step: built once, shared (read-only).
        var variables = j.ActionVariables(step, static (j, step) =>
        {
            var action = step.Action!;
            var variables = new Dictionary<string, string>(action.Variables, StringComparer.Ordinal)
            {
                [JourneyVariables.Journey] = j.Id,
                [JourneyVariables.Step] = step.Id,
                [JourneyVariables.MessageClass] = action.MessageClass ?? (j.Definition.Transactional ? "transactional" : "promotional"),
            };
            if (action.Channel is { } channel)
            {
                variables[JourneyVariables.Channel] = channel.ToString();
            }

            if (action.Kind == JourneyActionKind.AwardPoints)
            {
                variables[JourneyVariables.Points] = action.Points.ToString(CultureInfo.InvariantCulture);
            }

            return variables.AsReadOnly();
        });

        var message = new OutboxMessage
        {
            Key = key,
            Tenant = run.Tenant,
            Customer = run.Customer,
            ActionKind = JourneyVariables.ActionKind(action.Kind),
            Channel = action.Channel is { } c ? JourneyVariables.ToChannel(c) : null,
            Template = action.Template ?? (action.Kind == JourneyActionKind.AlertStaff ? "staff_alert" : null),
            Variables = variables,
            DueAt = run.Now,
        };
        var added = await run.Session.Outbox.EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
        if (added)
        {
            await repo.CountAsync(j.Id, "queued", 1, cancellationToken).ConfigureAwait(false);
        }

        run.Context?.AddAction(new JourneyActionOutcome(j.Id, step.Id, ActionDisposition.Queued, added ? null : "already_queued"));
        run.Decide(ActionDecided, Rule(j), $"Action {step.Id} ({message.ActionKind}) of journey {j.Id} queued as {key}.",
            new DecisionInputs(DecisionInputs.Action, [step.Id, "queued", key]));
    }
}

/// <summary>Reserved variable names and action kinds of journey outbox messages.</summary>
public static class JourneyVariables
{
    /// <summary>The journey id.</summary>
    public const string Journey = "@journey";

    /// <summary>The step id.</summary>
    public const string Step = "@step";

    /// <summary>The consent policy's message class.</summary>
    public const string MessageClass = "@class";

    /// <summary>The contact channel (a <see cref="ContactChannel"/> name).</summary>
    public const string Channel = "@channel";

    /// <summary>Points to award.</summary>
    public const string Points = "@points";

    /// <summary>The outbox action kind of a journey action.</summary>
    public static string ActionKind(JourneyActionKind kind) => kind switch
    {
        JourneyActionKind.SendMessage => "send_message",
        JourneyActionKind.SendBestChannel => "send_best_channel",
        JourneyActionKind.AwardPoints => "award_points",
        JourneyActionKind.AlertStaff => "alert_staff",
        _ => "call_handler",
    };

    /// <summary>The message channel of a contact channel, if there is one.</summary>
    public static global::Loyalty.Sdk.Channel? ToChannel(ContactChannel channel) => channel switch
    {
        ContactChannel.Email => global::Loyalty.Sdk.Channel.Email,
        ContactChannel.Sms => global::Loyalty.Sdk.Channel.Sms,
        ContactChannel.Push => global::Loyalty.Sdk.Channel.Push,
        ContactChannel.WhatsApp => global::Loyalty.Sdk.Channel.WhatsApp,
        _ => null,
    };
}
