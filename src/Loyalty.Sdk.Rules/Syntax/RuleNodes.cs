using NodaTime;

namespace Loyalty.Sdk.Rules.Syntax;

/// <summary>Where a piece of rule text starts: 0-based offset, 1-based line and column.</summary>
/// <param name="Offset">Characters from the start of the text.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
public readonly record struct RulePosition(int Offset, int Line, int Column)
{
    /// <summary>The start of a text.</summary>
    public static RulePosition Start { get; } = new(0, 1, 1);

    /// <inheritdoc />
    public override string ToString() => $"{Line}:{Column}";
}

/// <summary>A node of a rule's syntax tree. The tree has a text form (<see cref="RuleFormatter"/>) and a JSON form
/// (<see cref="RuleJson"/>) that round-trip; positions are kept for error messages but are not part of either form.</summary>
public abstract record RuleNode
{
    /// <summary>Where the node starts in the text it was parsed from.</summary>
    public RulePosition Position { get; init; } = RulePosition.Start;

    /// <summary>The canonical text of the node.</summary>
    public override string ToString() => RuleFormatter.Format(this);
}

/// <summary>A number, e.g. <c>3</c> or <c>0.25</c>.</summary>
/// <param name="Value">The value.</param>
public sealed record NumberLiteral(decimal Value) : RuleNode;

/// <summary>A string in double quotes, e.g. <c>"gold"</c>.</summary>
/// <param name="Value">The value, unescaped.</param>
public sealed record StringLiteral(string Value) : RuleNode;

/// <summary><c>true</c> or <c>false</c>.</summary>
/// <param name="Value">The value.</param>
public sealed record BooleanLiteral(bool Value) : RuleNode;

/// <summary><c>null</c>.</summary>
public sealed record NullLiteral : RuleNode;

/// <summary>An amount of money, e.g. <c>50 EUR</c>.</summary>
/// <param name="Amount">The amount.</param>
/// <param name="Currency">The ISO-4217 code.</param>
public sealed record MoneyLiteral(decimal Amount, string Currency) : RuleNode;

/// <summary>A duration, e.g. <c>90d</c>, <c>2w</c>, <c>12h</c>, <c>30m</c>.</summary>
/// <param name="Amount">The count of units.</param>
/// <param name="Unit">w (weeks), d (days), h (hours) or m (minutes).</param>
public sealed record DurationLiteral(long Amount, char Unit) : RuleNode
{
    /// <summary>The duration.</summary>
    public Duration ToDuration() => Unit switch
    {
        'w' => Duration.FromDays(7 * Amount),
        'd' => Duration.FromDays(Amount),
        'h' => Duration.FromHours(Amount),
        _ => Duration.FromMinutes(Amount),
    };
}

/// <summary>A calendar date, e.g. <c>2025-01-31</c>.</summary>
/// <param name="Value">The date.</param>
public sealed record DateLiteral(LocalDate Value) : RuleNode;

/// <summary>A name: a trait (<c>tier</c>), an event source (<c>orders</c>) or a symbol argument (<c>email</c>).</summary>
/// <param name="Name">The name.</param>
public sealed record IdentifierNode(string Name) : RuleNode;

/// <summary>One argument of a call, positional or named (<c>within: 90d</c>).</summary>
/// <param name="Name">The name, for a named argument.</param>
/// <param name="Value">The value.</param>
public sealed record RuleArgument(string? Name, RuleNode Value);

/// <summary>A call: a function (<c>days_since(last_order)</c>), a parameterized trait (<c>consent(email, marketing)</c>)
/// or a method of an event source (<c>orders.count(within: 90d)</c>, with <see cref="Target"/> = <c>orders</c>).</summary>
/// <param name="Target">The object of a method call, or null.</param>
/// <param name="Name">The function or method name.</param>
/// <param name="Arguments">The arguments.</param>
public sealed record CallNode(RuleNode? Target, string Name, IReadOnlyList<RuleArgument> Arguments) : RuleNode;

/// <summary>A prefix operator: <c>not</c> or <c>-</c>.</summary>
/// <param name="Operator">The operator.</param>
/// <param name="Operand">The operand.</param>
public sealed record UnaryNode(string Operator, RuleNode Operand) : RuleNode;

/// <summary>A binary operator: <c>and or == != &lt; &lt;= &gt; &gt;= + - * / ??</c>.</summary>
/// <param name="Operator">The operator.</param>
/// <param name="Left">The left operand.</param>
/// <param name="Right">The right operand.</param>
public sealed record BinaryNode(string Operator, RuleNode Left, RuleNode Right) : RuleNode;

/// <summary><c>value in [..]</c> or <c>value not in [..]</c>.</summary>
/// <param name="Value">The value tested.</param>
/// <param name="List">The list.</param>
/// <param name="Negated">True for <c>not in</c>.</param>
public sealed record InNode(RuleNode Value, ListNode List, bool Negated) : RuleNode;

/// <summary><c>value is null</c> or <c>value is not null</c>.</summary>
/// <param name="Operand">The value tested.</param>
/// <param name="Negated">True for <c>is not null</c>.</param>
public sealed record IsNullNode(RuleNode Operand, bool Negated) : RuleNode;

/// <summary>A list literal, e.g. <c>["gold", "platinum"]</c>.</summary>
/// <param name="Items">The items.</param>
public sealed record ListNode(IReadOnlyList<RuleNode> Items) : RuleNode;
