using Loyalty.Sdk.Events;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Journeys;

/// <summary>Checks journey definitions; every error is listed with its path.</summary>
public static class JourneyValidator
{
    /// <summary>The errors of <paramref name="journeys"/> (empty when valid).</summary>
    public static IReadOnlyList<ValidationError> Validate(IEnumerable<JourneyDefinition> journeys, JourneyOptions options, Currency baseCurrency, string prefix = "$.journeys")
    {
        ArgumentNullException.ThrowIfNull(journeys);
        ArgumentNullException.ThrowIfNull(options);
        var schema = JourneyRules.CreateSchema(baseCurrency);
        var errors = new List<ValidationError>();
        var seen = new HashSet<(string, int)>();
        var i = 0;
        foreach (var j in journeys)
        {
            var p = $"{prefix}[{i++}]";
            if (j is null)
            {
                errors.Add(new ValidationError(p, "required", "A journey cannot be null."));
                continue;
            }

            if (string.IsNullOrWhiteSpace(j.Id))
            {
                errors.Add(new ValidationError($"{p}.id", "required", "The journey id is required."));
            }

            if (j.Version < 1)
            {
                errors.Add(new ValidationError($"{p}.version", "out_of_range", "The version must be positive."));
            }

            if (!seen.Add((j.Id ?? "", j.Version)))
            {
                errors.Add(new ValidationError($"{p}.version", "duplicate", $"Journey {j.Id} version {j.Version} is defined twice."));
            }

            if (j.HoldoutPercent is < 0 or > 100)
            {
                errors.Add(new ValidationError($"{p}.holdoutPercent", "out_of_range", "The holdout must be 0–100 percent."));
            }

            if (j.ReEntry == JourneyReEntry.OncePerPeriod && j.ReEntryPeriod is not { } period)
            {
                errors.Add(new ValidationError($"{p}.reEntryPeriod", "required", "Once-per-period re-entry needs a period."));
            }

            ValidateTrigger(j.Trigger, $"{p}.trigger", schema, errors);
            for (var x = 0; x < j.ExitOn.Count; x++)
            {
                CheckEventKind(j.ExitOn[x], $"{p}.exitOn[{x}]", errors);
            }

            ValidateSteps(j, p, options, schema, errors);
            if (j.Goal is { } g)
            {
                if (g.EventKind is null && g.Segment is null)
                {
                    errors.Add(new ValidationError($"{p}.goal", "required", "A goal needs an event kind or a segment."));
                }

                if (g.EventKind is not null)
                {
                    CheckEventKind(g.EventKind, $"{p}.goal.eventKind", errors);
                }

                if (g.Window <= NodaTime.Duration.Zero)
                {
                    errors.Add(new ValidationError($"{p}.goal.window", "out_of_range", "The goal window must be positive."));
                }
            }
        }

        return errors;
    }

    /// <summary>The journeys registered in code (paths <c>options.journeys[i]</c>) and those of the program's
    /// <c>journeys</c> section (paths <c>$.journeys[i]</c>), including an id and version defined in both.</summary>
    internal static IReadOnlyList<ValidationError> ValidateAll(IReadOnlyList<JourneyDefinition> fromOptions, IReadOnlyList<JourneyDefinition> fromProgram, JourneyOptions options, Currency baseCurrency)
    {
        if (fromProgram.Count == 0)
        {
            return Validate(fromOptions, options, baseCurrency);
        }

        var errors = new List<ValidationError>(Validate(fromOptions, options, baseCurrency, "options.journeys"));
        errors.AddRange(Validate(fromProgram, options, baseCurrency));
        var registered = fromOptions.Where(j => j is not null).Select(j => (j.Id, j.Version)).ToHashSet();
        for (var i = 0; i < fromProgram.Count; i++)
        {
            if (fromProgram[i] is { } j && registered.Contains((j.Id, j.Version)))
            {
                errors.Add(new ValidationError($"$.journeys[{i}].version", "duplicate", $"Journey {j.Id} version {j.Version} is also registered in code (JourneyOptions.Journeys)."));
            }
        }

        return errors;
    }

    private static void ValidateTrigger(JourneyTrigger? t, string p, RuleSchema schema, List<ValidationError> errors)
    {
        if (t is null)
        {
            errors.Add(new ValidationError(p, "required", "A trigger is required."));
            return;
        }

        switch (t.Kind)
        {
            case JourneyTriggerKind.Event when string.IsNullOrEmpty(t.EventKind):
                errors.Add(new ValidationError($"{p}.eventKind", "required", "An event trigger needs an event kind."));
                break;
            case JourneyTriggerKind.Event:
                CheckEventKind(t.EventKind, $"{p}.eventKind", errors);
                break;
            case JourneyTriggerKind.SegmentEntered or JourneyTriggerKind.SegmentExited when string.IsNullOrEmpty(t.Segment):
                errors.Add(new ValidationError($"{p}.segment", "required", "A segment trigger needs a segment."));
                break;
            case JourneyTriggerKind.DateAttribute when t.Attribute is not ("birthday" or "signup_anniversary"):
                errors.Add(new ValidationError($"{p}.attribute", "unknown", "The date attribute must be birthday or signup_anniversary."));
                break;
            case JourneyTriggerKind.TierChanged when t.Attribute is not (null or "upgrade" or "downgrade"):
                errors.Add(new ValidationError($"{p}.attribute", "unknown", "A tier_changed trigger's attribute is upgrade, downgrade or absent (any change)."));
                break;
            case JourneyTriggerKind.Inactivity or JourneyTriggerKind.PointsExpiring when t.Days <= 0:
                errors.Add(new ValidationError($"{p}.days", "out_of_range", "Days must be positive."));
                break;
        }

        if (t.Filter is { } filter)
        {
            CheckRule(filter, $"{p}.filter", schema, errors);
        }
    }

    private static void CheckEventKind(string? kind, string path, List<ValidationError> errors)
    {
        if (kind is null || !DeliveryFeedback.IsKnown(kind))
        {
            errors.Add(new ValidationError(path, "unknown_event_kind",
                $"'{kind}' is neither an event kind ({string.Join(", ", EventKinds.All)}) nor an interaction kind ({string.Join(", ", DeliveryFeedback.InteractionEventKinds)})."));
        }
    }

    private static void CheckRule(string text, string path, RuleSchema schema, List<ValidationError> errors)
    {
        var result = RuleCompiler.Check(text, schema);
        foreach (var e in result.Errors)
        {
            errors.Add(new ValidationError(path, "invalid_rule", $"{e.Line}:{e.Column} {e.Message}"));
        }
    }

    private static void ValidateSteps(JourneyDefinition j, string p, JourneyOptions options, RuleSchema schema, List<ValidationError> errors)
    {
        if (j.Steps is null || j.Steps.Count == 0)
        {
            errors.Add(new ValidationError($"{p}.steps", "required", "A journey needs at least one step."));
            return;
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var s = 0; s < j.Steps.Count; s++)
        {
            var step = j.Steps[s];
            var sp = $"{p}.steps[{s}]";
            if (step is null || string.IsNullOrEmpty(step.Id))
            {
                errors.Add(new ValidationError($"{sp}.id", "required", "A step needs an id."));
                continue;
            }

            if (!index.TryAdd(step.Id, s))
            {
                errors.Add(new ValidationError($"{sp}.id", "duplicate", $"Step id '{step.Id}' is used twice."));
            }
        }

        for (var s = 0; s < j.Steps.Count; s++)
        {
            var step = j.Steps[s];
            if (step is null || string.IsNullOrEmpty(step.Id))
            {
                continue;
            }

            var sp = $"{p}.steps[{s}]";
            foreach (var (target, field) in Targets(step))
            {
                if (!index.ContainsKey(target))
                {
                    errors.Add(new ValidationError($"{sp}.{field}", "unknown_step", $"Step '{target}' does not exist."));
                }
            }

            switch (step.Kind)
            {
                case JourneyStepKind.Wait or JourneyStepKind.WaitForEvent:
                    if (step.Duration is not { } d || d <= NodaTime.Duration.Zero)
                    {
                        errors.Add(new ValidationError($"{sp}.duration", "required", "A wait needs a positive duration."));
                    }
                    else if (d > options.MaxWait)
                    {
                        errors.Add(new ValidationError($"{sp}.duration", "wait_too_long", $"The wait {d} is longer than the allowed {options.MaxWait}."));
                    }

                    if (step.Kind == JourneyStepKind.WaitForEvent && string.IsNullOrEmpty(step.EventKind))
                    {
                        errors.Add(new ValidationError($"{sp}.eventKind", "required", "A wait for an event needs an event kind."));
                    }
                    else if (step.Kind == JourneyStepKind.WaitForEvent)
                    {
                        CheckEventKind(step.EventKind, $"{sp}.eventKind", errors);
                    }

                    break;
                case JourneyStepKind.WaitUntil:
                    if (step.LocalTime is null)
                    {
                        errors.Add(new ValidationError($"{sp}.localTime", "required", "A wait-until needs a local time."));
                    }

                    if (step.Days < 0 || NodaTime.Duration.FromDays(step.Days + 1) > options.MaxWait)
                    {
                        errors.Add(new ValidationError($"{sp}.days", "wait_too_long", $"The wait of {step.Days} days is out of range."));
                    }

                    break;
                case JourneyStepKind.Condition:
                    if (string.IsNullOrEmpty(step.Condition))
                    {
                        errors.Add(new ValidationError($"{sp}.condition", "required", "A condition step needs a rule."));
                    }
                    else
                    {
                        CheckRule(step.Condition, $"{sp}.condition", schema, errors);
                    }

                    break;
                case JourneyStepKind.Split:
                    for (var b = 0; b < step.Branches.Count; b++)
                    {
                        if (step.Branches[b] is not { Id.Length: > 0, Next: not null })
                        {
                            errors.Add(new ValidationError($"{sp}.branches[{b}]", "required", "A branch needs an id and a next step."));
                        }
                    }

                    if (step.Branches.Count == 0 || step.Branches.Sum(b => b?.Weight ?? 0) != 100 || step.Branches.Any(b => b?.Weight < 0))
                    {
                        errors.Add(new ValidationError($"{sp}.branches", "invalid_split", "Split weights must be non-negative and add up to 100."));
                    }

                    break;
                case JourneyStepKind.Action:
                    ValidateAction(step.Action, $"{sp}.action", options, errors);
                    break;
            }
        }

        // Reachability from the entry step, and cycles without a wait.
        var reachable = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        if (j.Steps[0] is { Id: { Length: > 0 } entry })
        {
            stack.Push(entry);
        }
        while (stack.Count > 0)
        {
            var id = stack.Pop();
            if (!index.TryGetValue(id, out var at) || !reachable.Add(id))
            {
                continue;
            }

            foreach (var (target, _) in Targets(j.Steps[at]))
            {
                stack.Push(target);
            }
        }

        for (var s = 0; s < j.Steps.Count; s++)
        {
            if (j.Steps[s] is { Id: { Length: > 0 } id } && !reachable.Contains(id))
            {
                errors.Add(new ValidationError($"{p}.steps[{s}]", "unreachable_step", $"Step '{id}' cannot be reached from the entry step."));
            }
        }

        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var step in j.Steps)
        {
            if (step is { Id: { Length: > 0 } } && HasInstantCycle(step.Id, j, index, state))
            {
                errors.Add(new ValidationError($"{p}.steps", "cycle_without_wait", $"Steps loop back to '{step.Id}' without a wait."));
                break;
            }
        }
    }

    private static bool HasInstantCycle(string id, JourneyDefinition j, Dictionary<string, int> index, Dictionary<string, int> state)
    {
        if (!index.TryGetValue(id, out var at))
        {
            return false;
        }

        switch (state.GetValueOrDefault(id))
        {
            case 1: return true;
            case 2: return false;
        }

        state[id] = 1;
        var step = j.Steps[at];
        if (step.Kind is not (JourneyStepKind.Wait or JourneyStepKind.WaitUntil or JourneyStepKind.WaitForEvent))
        {
            foreach (var (target, _) in Targets(step))
            {
                if (HasInstantCycle(target, j, index, state))
                {
                    return true;
                }
            }
        }

        state[id] = 2;
        return false;
    }

    private static void ValidateAction(JourneyAction? a, string p, JourneyOptions options, List<ValidationError> errors)
    {
        if (a is null)
        {
            errors.Add(new ValidationError(p, "required", "An action step needs an action."));
            return;
        }

        switch (a.Kind)
        {
            case JourneyActionKind.SendMessage or JourneyActionKind.SendBestChannel:
                if (a.Kind == JourneyActionKind.SendMessage && a.Channel is not { } channel)
                {
                    errors.Add(new ValidationError($"{p}.channel", "required", "A message needs a channel."));
                }
                else if (a.Channel is { } c && options.Channels.Count > 0 && !options.Channels.Contains(c))
                {
                    errors.Add(new ValidationError($"{p}.channel", "unknown_channel", $"Channel {c} is not configured."));
                }

                if (string.IsNullOrEmpty(a.Template))
                {
                    errors.Add(new ValidationError($"{p}.template", "required", "A message needs a template."));
                }
                else if (options.Templates.Count > 0 && !options.Templates.Contains(a.Template))
                {
                    errors.Add(new ValidationError($"{p}.template", "unknown_template", $"Template '{a.Template}' is not known."));
                }

                break;
            case JourneyActionKind.AwardPoints when a.Points <= 0:
                errors.Add(new ValidationError($"{p}.points", "out_of_range", "Points must be positive."));
                break;
            case JourneyActionKind.CallHandler when string.IsNullOrEmpty(a.Template):
                errors.Add(new ValidationError($"{p}.template", "required", "A handler call needs the handler's name in template."));
                break;
        }
    }

    internal static IEnumerable<(string Target, string Field)> Targets(JourneyStep step)
    {
        if (step.Kind != JourneyStepKind.Exit && step.Kind != JourneyStepKind.Split && step.Next is { } next)
        {
            yield return (next, "next");
        }

        if (step.Kind is JourneyStepKind.Condition or JourneyStepKind.WaitForEvent && step.Else is { } other)
        {
            yield return (other, "else");
        }

        if (step.Kind == JourneyStepKind.Split)
        {
            for (var b = 0; b < step.Branches.Count; b++)
            {
                if (step.Branches[b] is { Next: { } target })
                {
                    yield return (target, $"branches[{b}].next");
                }
            }
        }
    }
}

/// <summary>Thrown when journey definitions are invalid; nothing is registered.</summary>
public sealed class JourneyValidationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public JourneyValidationException(IReadOnlyList<ValidationError> errors)
        : base($"{errors?.Count ?? 0} journey definition error(s): " + string.Join("; ", (errors ?? []).Select(e => $"{e.Path}: {e.Message}"))) =>
        Errors = errors ?? [];

    /// <summary>Creates the exception.</summary>
    public JourneyValidationException()
        : this([])
    {
    }

    /// <summary>Creates the exception.</summary>
    public JourneyValidationException(string message)
        : base(message) => Errors = [];

    /// <summary>Creates the exception.</summary>
    public JourneyValidationException(string message, Exception innerException)
        : base(message, innerException) => Errors = [];

    /// <summary>Every error.</summary>
    public IReadOnlyList<ValidationError> Errors { get; }
}
