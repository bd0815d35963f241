using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;

namespace Loyalty.Sdk.Journeys;

/// <summary>A journey definition with its rules compiled and steps indexed.</summary>
internal sealed class CompiledJourney
{
    public CompiledJourney(JourneyDefinition definition, RuleSchema schema)
    {
        Definition = definition;
        Steps = definition.Steps.ToDictionary(s => s.Id, StringComparer.Ordinal);
        Filter = definition.Trigger.Filter is { } f ? RuleCompiler.Compile(f, schema) : null;
        Conditions = definition.Steps.Where(s => s.Kind == JourneyStepKind.Condition && s.Condition is not null)
            .ToDictionary(s => s.Id, s => RuleCompiler.Compile(s.Condition!, schema), StringComparer.Ordinal);
        ExitOn = new HashSet<string>(definition.ExitOn, StringComparer.Ordinal);
        HoldoutSalt = "holdout:" + definition.Id;
        Rule = $"journey.{definition.Id}.v{definition.Version.ToString(CultureInfo.InvariantCulture)}";
        StepCounters = definition.Steps.ToDictionary(s => s.Id, s => "step." + s.Id, StringComparer.Ordinal);
        reactsTo = [.. new[] { definition.Goal?.EventKind }.Concat(definition.ExitOn).Concat(definition.Steps.Where(s => s.Kind == JourneyStepKind.WaitForEvent).Select(s => s.EventKind))
            .OfType<string>().Distinct(StringComparer.Ordinal)];
        goalSegment = definition.Goal?.Segment;
        if (definition.Goal is { } goal)
        {
            ConvertedSummary = $"Reached the goal of journey {definition.Id} ({goal.EventKind ?? goal.Segment}).";
        }
    }

    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> actionVariables = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string, IReadOnlyDictionary<string, string>)> holdoutDecisions = new(StringComparer.Ordinal);
    private readonly string[] reactsTo;
    private readonly string? goalSegment;

    /// <summary>The event kinds (and interaction kinds) that the goal, the exit criteria and the
    /// <c>wait_for_event</c> steps name.</summary>
    public IReadOnlyList<string> ReactionNames => reactsTo;
    private readonly ConcurrentDictionary<string, (string Counter, string Summary, IReadOnlyDictionary<string, string> Inputs)> exits = new(StringComparer.Ordinal);

    /// <summary>The salt of the journey's holdout bucket.</summary>
    public string HoldoutSalt { get; }

    /// <summary>The variables of the messages of action step <paramref name="step"/> (built once by
    /// <paramref name="build"/>, then shared: they are the same for every customer).</summary>
    public IReadOnlyDictionary<string, string> ActionVariables(JourneyStep step, Func<CompiledJourney, JourneyStep, IReadOnlyDictionary<string, string>> build) =>
        actionVariables.TryGetValue(step.Id, out var v) ? v : actionVariables.GetOrAdd(step.Id, build(this, step));

    /// <summary>The summary and inputs of the decision not to perform action step <paramref name="step"/> for a
    /// customer in the holdout (the same for every customer: built once).</summary>
    public (string Summary, IReadOnlyDictionary<string, string> Inputs) HoldoutDecision(JourneyStep step) =>
        holdoutDecisions.GetOrAdd(step.Id, static (id, journey) => (
            $"Action {id} of journey {journey} not performed: the customer is in the holdout group.",
            new DecisionInputs(DecisionInputs.Suppressed, [id, "suppressed", "holdout"])), Definition.Id);

    /// <summary>The summary and inputs of the decision that a customer entered (entry number <paramref name="entry"/>,
    /// in the holdout or not, because of <paramref name="cause"/>). The same values for every customer: the first
    /// entries are built once and kept.</summary>
    public (string Summary, IReadOnlyDictionary<string, string> Inputs) EnteredDecision(int entry, bool holdout, string cause)
    {
        var slot = ((uint)entry < EnteredCached ? entry * 2 : -2) + (holdout ? 1 : 0);
        if (slot >= 0 && entered[slot] is { } cached && string.Equals(cached.Cause, cause, StringComparison.Ordinal))
        {
            return (cached.Summary, cached.Inputs);
        }

        var made = new Entered(
            cause,
            $"Entered journey {Definition.Id} v{Definition.Version.ToString(CultureInfo.InvariantCulture)} (entry {entry.ToString(CultureInfo.InvariantCulture)}){(holdout ? " in the holdout group" : "")}.",
            new DecisionInputs(DecisionInputs.Entered, [cause, entry.ToString(CultureInfo.InvariantCulture), holdout ? "true" : "false"]));
        if (slot >= 0)
        {
            entered[slot] = made;
        }

        return (made.Summary, made.Inputs);
    }

    private const int EnteredCached = 64;
    private readonly Entered?[] entered = new Entered?[EnteredCached * 2];

    private sealed record Entered(string Cause, string Summary, IReadOnlyDictionary<string, string> Inputs);

    /// <summary>The rule name decisions about this journey version carry.</summary>
    public string Rule { get; }

    /// <summary>The counter of each step (<c>step.{id}</c>).</summary>
    public IReadOnlyDictionary<string, string> StepCounters { get; }

    /// <summary>The summary of a conversion decision.</summary>
    public string? ConvertedSummary { get; }

    /// <summary>Whether an event of <paramref name="kind"/> (an interaction: also <paramref name="interaction"/>, its
    /// interaction kind) or entering <paramref name="enteredSegment"/> can change a running instance: the goal, the exit
    /// criteria or a <c>wait_for_event</c> step names it. Otherwise an instance of this journey ignores the event.</summary>
    public bool ReactsTo(string kind, string? interaction, string? enteredSegment)
    {
        foreach (var name in reactsTo)
        {
            if (string.Equals(name, kind, StringComparison.Ordinal) || (interaction is not null && string.Equals(name, interaction, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return enteredSegment is not null && string.Equals(goalSegment, enteredSegment, StringComparison.Ordinal);
    }

    /// <summary>The counter, decision summary and inputs of leaving the journey for <paramref name="reason"/> (the same
    /// values every time, built once per reason; the inputs are never changed).</summary>
    public (string Counter, string Summary, IReadOnlyDictionary<string, string> Inputs) Exit(string reason) =>
        exits.GetOrAdd(reason, static (r, id) => ("exit." + r, $"Left journey {id} ({r}).", new Dictionary<string, string> { ["reason"] = r }.AsReadOnly()), Definition.Id);

    public JourneyDefinition Definition { get; }

    public string Id => Definition.Id;

    public IReadOnlyDictionary<string, JourneyStep> Steps { get; }

    public CompiledRule? Filter { get; }

    public IReadOnlyDictionary<string, CompiledRule> Conditions { get; }

    public HashSet<string> ExitOn { get; }

    public string EntryStep => Definition.Steps[0].Id;
}

/// <summary>Every registered journey, compiled once per base currency, with the latest version per id and an index by
/// trigger.</summary>
internal sealed class JourneyCatalog
{
    public JourneyCatalog(IEnumerable<JourneyDefinition> fromOptions, IReadOnlyList<JourneyDefinition> fromProgram, JourneyOptions options, Currency currency)
    {
        var registered = fromOptions.ToArray();
        var errors = JourneyValidator.ValidateAll(registered, fromProgram, options, currency);
        if (errors.Count > 0)
        {
            throw new JourneyValidationException(errors);
        }

        JourneyDefinition[] list = [.. registered, .. fromProgram];

        Schema = JourneyRules.CreateSchema(currency);
        var compiled = list.Select(j => new CompiledJourney(j, Schema)).ToArray();
        ByVersion = compiled.ToDictionary(c => (c.Id, c.Definition.Version));
        Latest = compiled.GroupBy(c => c.Id, StringComparer.Ordinal).Select(g => g.MaxBy(c => c.Definition.Version)!).OrderBy(c => c.Id, StringComparer.Ordinal).ToArray();
        ByEventKind = Latest.Where(c => c.Definition.Trigger.Kind == JourneyTriggerKind.Event)
            .GroupBy(c => c.Definition.Trigger.EventKind!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        Other = Latest.Where(c => c.Definition.Trigger.Kind != JourneyTriggerKind.Event).ToArray();
        HasGoalsOrExits = compiled.Any(c => c.Definition.Goal is not null || c.ExitOn.Count > 0 || c.Definition.Steps.Any(s => s.Kind == JourneyStepKind.WaitForEvent));
        reactsTo = new HashSet<string>(compiled.SelectMany(c => c.ReactionNames), StringComparer.Ordinal);
        goalSegments = compiled.Any(c => c.Definition.Goal?.Segment is not null);
    }

    public RuleSchema Schema { get; }

    public IReadOnlyDictionary<(string, int), CompiledJourney> ByVersion { get; }

    public IReadOnlyList<CompiledJourney> Latest { get; }

    public IReadOnlyDictionary<string, CompiledJourney[]> ByEventKind { get; }

    public IReadOnlyList<CompiledJourney> Other { get; }

    public bool HasGoalsOrExits { get; }

    private readonly HashSet<string> reactsTo;
    private readonly bool goalSegments;

    /// <summary>Whether a running instance of any journey (any version) can react to an event of
    /// <paramref name="kind"/> (an interaction: also <paramref name="interaction"/>) or to entering a segment: see
    /// <see cref="CompiledJourney.ReactsTo"/>. When none can, the instances need not be looked at.</summary>
    public bool AnyReactsTo(string kind, string? interaction, string? enteredSegment) =>
        reactsTo.Contains(kind) || (interaction is not null && reactsTo.Contains(interaction)) || (enteredSegment is not null && goalSegments);

    public CompiledJourney? Find(string id, int version) => ByVersion.GetValueOrDefault((id, version));
}

/// <summary>Builds catalogs lazily: per base currency for the journeys registered in code, per program instance when
/// the program has a <c>journeys</c> section too.</summary>
internal sealed class JourneyRegistry(JourneyOptions options)
{
    private readonly object gate = new();
    private readonly ConditionalWeakTable<LoyaltyProgram, JourneyCatalog> byProgram = [];
    private Dictionary<Currency, JourneyCatalog> catalogs = [];

    public JourneyOptions Options => options;

    public JourneyCatalog Get(LoyaltyProgram program) => program.Journeys.Count == 0
        ? Get(program.BaseCurrency)
        : byProgram.GetValue(program, p => new JourneyCatalog(options.Journeys, p.Journeys, options, p.BaseCurrency));

    public JourneyCatalog Get(Currency currency)
    {
        if (Volatile.Read(ref catalogs).TryGetValue(currency, out var catalog))
        {
            return catalog;
        }

        lock (gate)
        {
            if (!catalogs.TryGetValue(currency, out catalog))
            {
                catalog = new JourneyCatalog(options.Journeys, [], options, currency);
                Volatile.Write(ref catalogs, new Dictionary<Currency, JourneyCatalog>(catalogs) { [currency] = catalog });
            }

            return catalog;
        }
    }
}
