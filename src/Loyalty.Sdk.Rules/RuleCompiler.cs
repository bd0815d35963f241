using System.Globalization;
using Loyalty.Sdk.Rules.Syntax;
using NodaTime;
using NodaTime.Text;

namespace Loyalty.Sdk.Rules;

/// <summary>What a rule reads: its inferred inputs.</summary>
public sealed record RuleInputs
{
    /// <summary>Traits, with arguments, e.g. <c>tier</c>, <c>consent(email, marketing)</c>.</summary>
    public IReadOnlyList<string> Traits { get; init; } = [];

    /// <summary>Event sources aggregated.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>Windowed aggregates: series key and window.</summary>
    public IReadOnlyList<string> Windows { get; init; } = [];

    /// <summary>Segments referred to with <c>in_segment</c>.</summary>
    public IReadOnlyList<string> Segments { get; init; } = [];

    /// <summary>Built-in functions called.</summary>
    public IReadOnlyList<string> Functions { get; init; } = [];

    /// <summary>Whether the result can change with time alone (no event).</summary>
    public bool TimeDependent { get; init; }
}

/// <summary>The outcome of checking a rule: the compiled rule, or every problem.</summary>
/// <param name="Rule">The compiled rule, when the text is valid.</param>
/// <param name="Errors">Every problem, in text order.</param>
public sealed record RuleCheckResult(CompiledRule? Rule, IReadOnlyList<RuleError> Errors)
{
    /// <summary>Whether the rule is valid.</summary>
    public bool Success => Rule is not null;
}

/// <summary>
/// Turns rule text (or a syntax tree) into a <see cref="CompiledRule"/>: parse, check every type against the schema
/// (reporting all problems at once), then compile into closures. Evaluation then neither interprets nor allocates.
/// </summary>
public static class RuleCompiler
{
    /// <summary>Checks and compiles; never throws for a bad rule.</summary>
    public static RuleCheckResult Check(string text, RuleSchema schema, RuleLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parsed = RuleParser.TryParse(text, limits);
        return parsed.Node is null ? new RuleCheckResult(null, parsed.Errors) : Check(parsed.Node, schema, limits);
    }

    /// <summary>Checks and compiles a syntax tree (e.g. from <see cref="RuleJson"/>); never throws for a bad rule.</summary>
    public static RuleCheckResult Check(RuleNode node, RuleSchema schema, RuleLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(schema);
        limits ??= RuleLimits.Default;
        var (nodes, depth) = RuleParser.Measure(node, 0, limits.MaxDepth + 1);
        if (depth > limits.MaxDepth || nodes > limits.MaxNodes)
        {
            return new RuleCheckResult(null, [RuleError.At(node.Position, "limit", $"The rule is too large or nests too deep (at most {limits.MaxNodes} parts and {limits.MaxDepth} levels).")]);
        }

        var binder = new Binder(schema, limits);
        Bound root;
        try
        {
            root = binder.Bind(node);
        }
        catch (Exception ex) when (ex is ArithmeticException or ArgumentException or InvalidOperationException)
        {
            return new RuleCheckResult(null, [RuleError.At(node.Position, "invalid", "The rule could not be checked: " + ex.Message)]);
        }

        if (binder.Errors.Count == 0 && root.Type != RuleType.Boolean && root.Type != RuleType.Error)
        {
            binder.Errors.Add(RuleError.At(node.Position, "type_mismatch", $"A rule must be a condition (true or false); this is {Binder.Name(root.Type)}."));
        }

        if (binder.Errors.Count > 0)
        {
            var errors = binder.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).Distinct().ToArray();
            return new RuleCheckResult(null, errors);
        }

        var inputs = new RuleInputs
        {
            Traits = binder.Traits.ToArray(),
            Sources = binder.Sources.ToArray(),
            Windows = binder.Windows.Select(w => $"{w.Series.Key} within {w.Window.TotalDays:0.##}d").ToArray(),
            Segments = binder.Segments.ToArray(),
            Functions = binder.UsedFunctions.ToArray(),
            TimeDependent = root.TimeDependent,
        };
        return new RuleCheckResult(new CompiledRule(node, root, inputs, binder.Slots.Distinct().ToArray(), binder.Windows.Select(w => w.Series).Distinct().ToArray()), []);
    }

    /// <summary>Checks and compiles.</summary>
    /// <exception cref="RuleException">The rule is invalid; every problem is listed.</exception>
    public static CompiledRule Compile(string text, RuleSchema schema, RuleLimits? limits = null)
    {
        var result = Check(text, schema, limits);
        return result.Rule ?? throw new RuleException(result.Errors);
    }
}

/// <summary>
/// A rule compiled to delegates. <see cref="Evaluate(RuleSubject, Instant)"/> does not interpret and does not allocate. It is immutable and
/// thread-safe: one compiled rule serves every customer; a definition change compiles a new one and swaps it.
/// </summary>
public sealed class CompiledRule
{
    private readonly Func<RuleSubject, long, bool> evaluate;
    private readonly Func<RuleSubject, long, long> next;
    private readonly Bound root;

    internal CompiledRule(RuleNode syntax, Bound root, RuleInputs inputs, IReadOnlyList<RuleSlot> slots, IReadOnlyList<WindowSeries> windows)
    {
        Syntax = syntax;
        this.root = root;
        evaluate = root.B!;
        next = root.Next;
        Inputs = inputs;
        Slots = slots;
        Windows = windows;
        Text = RuleFormatter.Format(syntax);
    }

    /// <summary>The syntax tree.</summary>
    public RuleNode Syntax { get; }

    /// <summary>The canonical text.</summary>
    public string Text { get; }

    /// <summary>What the rule reads.</summary>
    public RuleInputs Inputs { get; }

    /// <summary>The subject slots the rule reads.</summary>
    public IReadOnlyList<RuleSlot> Slots { get; }

    /// <summary>The window series the rule aggregates (the host must keep their counters).</summary>
    public IReadOnlyList<WindowSeries> Windows { get; }

    /// <summary>Whether the result can change with time alone.</summary>
    public bool TimeDependent => root.TimeDependent;

    /// <summary>The rule's value for <paramref name="subject"/> at <paramref name="now"/>.</summary>
    public bool Evaluate(RuleSubject subject, Instant now) => evaluate(subject, now.ToUnixTimeMilliseconds());

    /// <summary>The rule's value at <paramref name="nowMs"/> (Unix milliseconds).</summary>
    public bool Evaluate(RuleSubject subject, long nowMs) => evaluate(subject, nowMs);

    /// <summary>The earliest instant after <paramref name="now"/> at which the result can change without an event
    /// (a window bucket expiring, a threshold of <c>days_since</c> crossed, local midnight…); null if never.</summary>
    public Instant? NextChange(RuleSubject subject, Instant now)
    {
        if (!root.TimeDependent)
        {
            return null;
        }

        var ms = next(subject, now.ToUnixTimeMilliseconds());
        return ms == long.MaxValue ? null : Instant.FromUnixTimeMilliseconds(Math.Max(ms, now.ToUnixTimeMilliseconds() + 1));
    }

    /// <summary>The tree of sub-expression values for <paramref name="subject"/> at <paramref name="now"/>, with the
    /// trait values and window aggregates used.</summary>
    public RuleExplanation Explain(RuleSubject subject, Instant now)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return Explain(root, subject, now.ToUnixTimeMilliseconds());
    }

    /// <inheritdoc />
    public override string ToString() => Text;

    private static RuleExplanation Explain(Bound node, RuleSubject subject, long now) => new()
    {
        Expression = RuleFormatter.Format(node.Syntax),
        Type = node.Type,
        Value = Format(node, subject, now),
        Detail = node.Detail,
        Children = node.Children.Where(c => !c.Constant).Select(c => Explain(c, subject, now)).ToArray(),
    };

    internal static string Format(Bound node, RuleSubject subject, long now)
    {
        switch (node.Type)
        {
            case RuleType.Boolean:
                return node.B!(subject, now) ? "true" : "false";
            case RuleType.String:
                return node.S!(subject, now) is { } s ? RuleFormatter.Quote(s) : "null";
            case RuleType.Error or RuleType.Null:
                return "null";
        }

        var v = node.N!(subject, now);
        if (double.IsNaN(v))
        {
            return "null";
        }

        return node.Type switch
        {
            RuleType.Timestamp => InstantPattern.ExtendedIso.Format(Instant.FromUnixTimeMilliseconds((long)v)),
            RuleType.Date => LocalDatePattern.Iso.Format(RuleTime.FromEpochDay((int)v)),
            RuleType.Duration => v % RuleTime.DayMs == 0 ? (v / RuleTime.DayMs).ToString("0", CultureInfo.InvariantCulture) + "d" : (v / RuleTime.HourMs).ToString("0.##", CultureInfo.InvariantCulture) + "h",
            RuleType.Money => v.ToString("0.00", CultureInfo.InvariantCulture),
            _ => Binder.FormatNumber(v),
        };
    }
}

/// <summary>The value of one sub-expression of a rule for one customer, with its parts.</summary>
public sealed record RuleExplanation
{
    /// <summary>The sub-expression's canonical text.</summary>
    public required string Expression { get; init; }

    /// <summary>Its type.</summary>
    public RuleType Type { get; init; }

    /// <summary>Its value (<c>true</c>, <c>3</c>, <c>"gold"</c>, <c>2025-01-31</c>, <c>null</c>…).</summary>
    public required string Value { get; init; }

    /// <summary>What it read: a trait or a window aggregate.</summary>
    public string? Detail { get; init; }

    /// <summary>The sub-expressions (constants left out).</summary>
    public IReadOnlyList<RuleExplanation> Children { get; init; } = [];

    /// <summary>An indented text rendering.</summary>
    public string Render()
    {
        var text = new System.Text.StringBuilder();
        Render(text, 0);
        return text.ToString();
    }

    private void Render(System.Text.StringBuilder text, int indent)
    {
        text.Append(' ', indent * 2).Append(Expression).Append(" = ").Append(Value);
        if (Detail is not null)
        {
            text.Append("   [").Append(Detail).Append(']');
        }

        text.AppendLine();
        foreach (var c in Children)
        {
            c.Render(text, indent + 1);
        }
    }
}
