using Loyalty.Sdk.Rules.Syntax;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Rules;

/// <summary>One problem of a rule: where (line and column inside the rule), what, and possibly a suggestion.</summary>
/// <param name="Line">1-based line inside the rule.</param>
/// <param name="Column">1-based column inside the rule.</param>
/// <param name="Code">A stable code, e.g. <c>syntax</c>, <c>unknown_name</c>, <c>type_mismatch</c>, <c>limit</c>.</param>
/// <param name="Message">The problem, for people.</param>
public sealed record RuleError(int Line, int Column, string Code, string Message)
{
    /// <summary>A "did you mean" suggestion, when there is a close name.</summary>
    public string? Suggestion { get; init; }

    /// <summary>Creates an error at a position.</summary>
    public static RuleError At(RulePosition position, string code, string message, string? suggestion = null) =>
        new(position.Line, position.Column, code, message) { Suggestion = suggestion };

    /// <summary><c>line:column: message</c>, with the suggestion if any.</summary>
    public override string ToString() => Suggestion is null ? $"{Line}:{Column}: {Message}" : $"{Line}:{Column}: {Message} Did you mean '{Suggestion}'?";

    /// <summary>The error as a <see cref="ValidationError"/> at <paramref name="path"/> (line and column inside the rule).</summary>
    public ValidationError ToValidationError(string path) =>
        new(path, "rule_" + Code, Suggestion is null ? Message : $"{Message} Did you mean '{Suggestion}'?") { Line = Line, Column = Column };
}

/// <summary>The typed error of the rule language: the rule was rejected, with every problem found. Nothing else
/// escapes parsing, checking or compiling a rule, however hostile the text.</summary>
public sealed class RuleException : LoyaltyException
{
    /// <summary>Creates the exception.</summary>
    public RuleException(IReadOnlyList<RuleError> errors)
        : base(string.Join(Environment.NewLine, errors ?? throw new ArgumentNullException(nameof(errors))))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception.</summary>
    public RuleException()
        : this([])
    {
    }

    /// <summary>Creates the exception.</summary>
    public RuleException(string message)
        : base(message)
    {
        Errors = [new RuleError(1, 1, "invalid", message)];
    }

    /// <summary>Creates the exception.</summary>
    public RuleException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [new RuleError(1, 1, "invalid", message)];
    }

    /// <summary>Every problem, in text order.</summary>
    public IReadOnlyList<RuleError> Errors { get; }
}

/// <summary>Limits that keep a hostile or accidental rule from costing the host: anything beyond them is rejected with a
/// <c>limit</c> error before it is parsed further.</summary>
public sealed record RuleLimits
{
    /// <summary>The defaults.</summary>
    public static RuleLimits Default { get; } = new();

    /// <summary>Longest rule text, in characters. Default 4,000.</summary>
    public int MaxLength { get; init; } = 4_000;

    /// <summary>Most tokens. Default 600.</summary>
    public int MaxTokens { get; init; } = 600;

    /// <summary>Deepest nesting (parentheses, brackets, prefix operators, syntax tree depth). Default 24.</summary>
    public int MaxDepth { get; init; } = 24;

    /// <summary>Most syntax-tree nodes. Default 300.</summary>
    public int MaxNodes { get; init; } = 300;

    /// <summary>Most distinct windowed aggregates in one rule. Default 8.</summary>
    public int MaxWindows { get; init; } = 8;

    /// <summary>Longest aggregate window. Default 400 days.</summary>
    public NodaTime.Duration MaxWindow { get; init; } = NodaTime.Duration.FromDays(400);

    /// <summary>Most items in a list literal. Default 100.</summary>
    public int MaxListItems { get; init; } = 100;
}
