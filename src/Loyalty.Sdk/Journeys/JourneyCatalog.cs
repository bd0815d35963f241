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
    }

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
    }

    public RuleSchema Schema { get; }

    public IReadOnlyDictionary<(string, int), CompiledJourney> ByVersion { get; }

    public IReadOnlyList<CompiledJourney> Latest { get; }

    public IReadOnlyDictionary<string, CompiledJourney[]> ByEventKind { get; }

    public IReadOnlyList<CompiledJourney> Other { get; }

    public bool HasGoalsOrExits { get; }

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
