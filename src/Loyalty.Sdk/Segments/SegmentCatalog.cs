using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Segments;

/// <summary>One segment, compiled.</summary>
internal sealed class CompiledSegment(SegmentDefinition definition, CompiledRule rule, int index, int membershipSlot)
{
    public SegmentDefinition Definition { get; } = definition;

    public CompiledRule Rule { get; } = rule;

    public int Index { get; } = index;

    public int MembershipSlot { get; } = membershipSlot;

    public string Id => Definition.Id;

    public int[] Dependents { get; set; } = [];
}

/// <summary>
/// Every segment of a program compiled against one schema, in dependency order, with what each event kind can change.
/// Immutable: a definition change builds a new catalog that replaces this one atomically.
/// </summary>
internal sealed class SegmentCatalog
{
    private readonly Lock gate = new();
    private Action<CustomerTraitContext, RuleSubject>[] fillers = [];

    private SegmentCatalog(LoyaltyProgram program, RuleSchema schema, CompiledSegment[] segments, SegmentOptions options, ICustomerTraitProvider[] providers)
    {
        Program = program;
        Schema = schema;
        Segments = segments;
        Options = options;
        Providers = providers;
        ById = segments.ToDictionary(s => s.Id, StringComparer.Ordinal);
        Series = segments.SelectMany(s => s.Rule.Windows).DistinctBy(w => w.Id).ToArray();
        SourceKinds = schema.Sources.ToDictionary(s => s.Key, s => s.Value.EventKinds.ToArray(), StringComparer.Ordinal);
        TimeDependent = segments.Select(s => s.Rule.TimeDependent).ToArray();
        var byKind = new Dictionary<string, bool[]>(StringComparer.Ordinal);
        foreach (var kind in EventKinds.All)
        {
            byKind[kind] = segments.Select(s => Reads(s.Rule, kind)).ToArray();
        }

        AffectedByKind = byKind;
    }

    public LoyaltyProgram Program { get; }

    public RuleSchema Schema { get; }

    public CompiledSegment[] Segments { get; }

    public SegmentOptions Options { get; }

    public ICustomerTraitProvider[] Providers { get; }

    public IReadOnlyDictionary<string, CompiledSegment> ById { get; }

    public WindowSeries[] Series { get; }

    public IReadOnlyDictionary<string, string[]> SourceKinds { get; }

    public bool[] TimeDependent { get; }

    public IReadOnlyDictionary<string, bool[]> AffectedByKind { get; }

    /// <summary>Compiles <paramref name="definitions"/>; throws <see cref="ProgramValidationException"/> listing every problem.</summary>
    public static SegmentCatalog Build(LoyaltyProgram program, IReadOnlyList<SegmentDefinition> definitions, SegmentOptions options, IEnumerable<ICustomerTraitProvider> providers, string pathPrefix = "$.segments")
    {
        var providerArray = providers.ToArray();
        var errors = new List<ValidationError>();
        var schema = BuiltInTraits.CreateSchema(program, providerArray, definitions.Select(d => d.Id));
        var compiled = new List<(SegmentDefinition Definition, CompiledRule Rule)>();
        for (var i = 0; i < definitions.Count; i++)
        {
            var result = RuleCompiler.Check(definitions[i].Rule ?? "", schema);
            if (result.Rule is null)
            {
                errors.AddRange(result.Errors.Select(e => e.ToValidationError($"{pathPrefix}[{i}].rule")));
            }
            else
            {
                compiled.Add((definitions[i], result.Rule));
            }
        }

        errors.AddRange(CycleErrors(definitions, compiled, pathPrefix));
        if (errors.Count > 0)
        {
            throw new ProgramValidationException(errors);
        }

        // Dependency order: a segment comes after the segments it refers to.
        var ordered = new List<(SegmentDefinition Definition, CompiledRule Rule)>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        while (ordered.Count < compiled.Count)
        {
            foreach (var c in compiled.Where(c => !placed.Contains(c.Definition.Id) && c.Rule.Inputs.Segments.All(placed.Contains)).ToArray())
            {
                ordered.Add(c);
                placed.Add(c.Definition.Id);
            }
        }

        var segments = ordered.Select((c, i) => new CompiledSegment(c.Definition, c.Rule, i, schema.Slot(RuleSchema.SegmentTrait, [c.Definition.Id], RuleType.Boolean).Index)).ToArray();
        foreach (var s in segments)
        {
            s.Dependents = segments.Where(d => d.Rule.Inputs.Segments.Contains(s.Id)).Select(d => d.Index).ToArray();
        }

        return new SegmentCatalog(program, schema, segments, options, providerArray);
    }

    /// <summary>Validation of the segments of a program, for <see cref="ProgramValidator"/>.</summary>
    public static IReadOnlyList<ValidationError> Validate(LoyaltyProgram program, IEnumerable<ICustomerTraitProvider>? providers = null)
    {
        try
        {
            // The default reachability and consent traits are always known; registered providers come after them so
            // that theirs replace the defaults of the same name.
            var all = (providers ?? []).Where(p => p is not ReachabilityTraitProvider).Prepend(new ReachabilityTraitProvider());
            Build(program, program.Segments, new SegmentOptions(), all);
            return [];
        }
        catch (ProgramValidationException ex)
        {
            return ex.Errors;
        }
    }

    /// <summary>Fills every slot of <paramref name="subject"/> for one customer.</summary>
    public void Fill(CustomerTraitContext context, RuleSubject subject, SeriesWindows windows)
    {
        var all = FillersFor(Schema.SlotCount);
        subject.EnsureCapacity(all.Length);
        subject.Zone = Zone(context.Profile?.TimeZone, Program);
        windows.Bind(this, context.State);
        subject.Windows = windows;
        foreach (var fill in all)
        {
            fill(context, subject);
        }
    }

    public static DateTimeZone Zone(string? id, LoyaltyProgram program) =>
        (id is null ? null : DateTimeZoneProviders.Tzdb.GetZoneOrNull(id)) ?? DateTimeZoneProviders.Tzdb.GetZoneOrNull(program.DefaultTimeZone) ?? DateTimeZone.Utc;

    /// <summary>Evaluates the segments marked in <paramref name="affected"/> (all when null) in dependency order,
    /// reporting each change. Membership flags in <paramref name="subject"/> must hold the current memberships.</summary>
    public void Evaluate(RuleSubject subject, bool[]? affected, bool[] dirty, long nowMs, Action<CompiledSegment, bool> changed)
    {
        Array.Clear(dirty);
        foreach (var s in Segments)
        {
            if (affected is not null && !affected[s.Index] && !dirty[s.Index])
            {
                continue;
            }

            var value = s.Rule.Evaluate(subject, nowMs);
            if (value != subject.Flags[s.MembershipSlot])
            {
                subject.Flags[s.MembershipSlot] = value;
                changed(s, value);
                foreach (var d in s.Dependents)
                {
                    dirty[d] = true;
                }
            }
        }
    }

    /// <summary>When the customer's time-dependent segments must be looked at again.</summary>
    public Instant? NextDue(RuleSubject subject, Instant now)
    {
        Instant? next = null;
        foreach (var s in Segments)
        {
            if (s.Rule.TimeDependent && s.Rule.NextChange(subject, now) is { } at && (next is null || at < next))
            {
                next = at;
            }
        }

        return next is { } n && n < now + Options.MinimumRecheck ? now + Options.MinimumRecheck : next;
    }

    private Action<CustomerTraitContext, RuleSubject>[] FillersFor(int count)
    {
        var current = Volatile.Read(ref fillers);
        if (current.Length == count)
        {
            return current;
        }

        lock (gate)
        {
            var slots = Schema.Slots;
            var list = new Action<CustomerTraitContext, RuleSubject>[slots.Count];
            for (var i = 0; i < slots.Count; i++)
            {
                list[i] = CreateFiller(slots[i]);
            }

            Volatile.Write(ref fillers, list);
            return list;
        }
    }

    private Action<CustomerTraitContext, RuleSubject> CreateFiller(RuleSlot slot)
    {
        var index = slot.Index;
        if (slot.Trait == RuleSchema.SegmentTrait)
        {
            var id = slot.Arguments[0];
            return (c, s) => s.Flags[index] = c.State.Memberships.ContainsKey(id);
        }

        // A provider's trait replaces a built-in one of the same name.
        foreach (var provider in Providers.Reverse())
        {
            if (provider.Traits.Any(t => t.Name == slot.Trait))
            {
                return (c, s) => provider.Fill(c, s, slot);
            }
        }

        return TraitFillers.Create(slot, Options) ?? ((_, s) =>
        {
            s.Numbers[index] = double.NaN;
            s.Texts[index] = null;
            s.Flags[index] = false;
        });
    }

    private bool Reads(CompiledRule rule, string kind)
    {
        foreach (var trait in rule.Inputs.Traits)
        {
            var name = trait.Split('(')[0];
            if (Schema.Traits.TryGetValue(name, out var definition) && (definition.ChangedBy.Count == 0 || definition.ChangedBy.Contains(kind)))
            {
                return true;
            }
        }

        return rule.Inputs.Sources.Any(s => Schema.Sources.TryGetValue(s, out var source) && source.EventKinds.Contains(kind));
    }

    private static IEnumerable<ValidationError> CycleErrors(IReadOnlyList<SegmentDefinition> definitions, List<(SegmentDefinition Definition, CompiledRule Rule)> compiled, string pathPrefix)
    {
        var graph = compiled.ToDictionary(c => c.Definition.Id, c => c.Rule.Inputs.Segments, StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var inCycle = new HashSet<string>(StringComparer.Ordinal);
        bool Visit(string id, Stack<string> path)
        {
            if (state.GetValueOrDefault(id) == 1)
            {
                foreach (var p in path.TakeWhile(p => p != id).Append(id))
                {
                    inCycle.Add(p);
                }

                return true;
            }

            if (state.GetValueOrDefault(id) == 2 || !graph.TryGetValue(id, out var next))
            {
                return false;
            }

            state[id] = 1;
            path.Push(id);
            var cycle = false;
            foreach (var n in next)
            {
                cycle |= Visit(n, path);
            }

            path.Pop();
            state[id] = 2;
            return cycle;
        }

        foreach (var id in graph.Keys)
        {
            Visit(id, new Stack<string>());
        }

        for (var i = 0; i < definitions.Count; i++)
        {
            if (inCycle.Contains(definitions[i].Id))
            {
                yield return new ValidationError($"{pathPrefix}[{i}].rule", "rule_cycle", $"Segment '{definitions[i].Id}' depends on itself through in_segment(…): segments cannot form a cycle.");
            }
        }
    }
}

/// <summary>The compiled segments of each tenant, cached by program and definition versions; updates swap atomically.</summary>
internal sealed class SegmentRegistry(SegmentOptions options, IEnumerable<ICustomerTraitProvider> providers)
{
    private readonly Lock gate = new();
    private readonly ICustomerTraitProvider[] providers = providers.ToArray();
    private readonly Dictionary<TenantId, Dictionary<string, SegmentDefinition?>> overrides = [];
    private readonly Dictionary<TenantId, (LoyaltyProgram Program, int Version, SegmentCatalog Catalog)> catalogs = [];
    private int version;

    public SegmentCatalog Get(TenantId tenant, LoyaltyProgram program)
    {
        lock (gate)
        {
            if (catalogs.TryGetValue(tenant, out var entry) && ReferenceEquals(entry.Program, program) && entry.Version == version)
            {
                return entry.Catalog;
            }

            var catalog = SegmentCatalog.Build(program, Definitions(tenant, program), options, providers);
            catalogs[tenant] = (program, version, catalog);
            return catalog;
        }
    }

    /// <summary>Adds or replaces a segment (null removes it); compiles first so that a bad rule changes nothing.</summary>
    public SegmentCatalog Update(TenantId tenant, LoyaltyProgram program, string id, SegmentDefinition? definition)
    {
        lock (gate)
        {
            if (!overrides.TryGetValue(tenant, out var map))
            {
                overrides[tenant] = map = new Dictionary<string, SegmentDefinition?>(StringComparer.Ordinal);
            }

            var previous = map.TryGetValue(id, out var p) ? p : null;
            var had = map.ContainsKey(id);
            map[id] = definition;
            try
            {
                var catalog = SegmentCatalog.Build(program, Definitions(tenant, program), options, providers);
                version++;
                catalogs[tenant] = (program, version, catalog);
                return catalog;
            }
            catch
            {
                if (had)
                {
                    map[id] = previous;
                }
                else
                {
                    map.Remove(id);
                }

                throw;
            }
        }
    }

    private List<SegmentDefinition> Definitions(TenantId tenant, LoyaltyProgram program)
    {
        var list = program.Segments.Where(s => options.Segments.All(o => o.Id != s.Id)).Concat(options.Segments).ToList();
        if (overrides.TryGetValue(tenant, out var map))
        {
            foreach (var (id, definition) in map)
            {
                list.RemoveAll(s => s.Id == id);
                if (definition is not null)
                {
                    list.Add(definition);
                }
            }
        }

        return list;
    }
}
