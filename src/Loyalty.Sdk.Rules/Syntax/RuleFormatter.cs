using System.Globalization;
using System.Text;

namespace Loyalty.Sdk.Rules.Syntax;

/// <summary>Writes a syntax tree as canonical rule text (normalized spacing, minimal parentheses). Parsing the text
/// gives the same tree back.</summary>
public static class RuleFormatter
{
    /// <summary>The canonical text of <paramref name="node"/>.</summary>
    public static string Format(RuleNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var text = new StringBuilder();
        Write(text, node, 0);
        return text.ToString();
    }

    internal static int Precedence(RuleNode node) => node switch
    {
        BinaryNode { Operator: "or" } => 1,
        BinaryNode { Operator: "and" } => 2,
        UnaryNode { Operator: "not" } => 3,
        BinaryNode { Operator: "==" or "!=" or "<" or "<=" or ">" or ">=" } or InNode or IsNullNode => 4,
        BinaryNode { Operator: "??" } => 5,
        BinaryNode { Operator: "+" or "-" } => 6,
        BinaryNode { Operator: "*" or "/" } => 7,
        UnaryNode => 8,
        _ => 9,
    };

    /// <summary>Quotes a string literal.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                _ => text.Append(c),
            };
        }

        return text.Append('"').ToString();
    }

    private static void Write(StringBuilder text, RuleNode node, int minPrecedence)
    {
        var p = Precedence(node);
        var parens = p < minPrecedence;
        if (parens)
        {
            text.Append('(');
        }

        switch (node)
        {
            case NumberLiteral n:
                text.Append(n.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case StringLiteral s:
                text.Append(Quote(s.Value));
                break;
            case BooleanLiteral b:
                text.Append(b.Value ? "true" : "false");
                break;
            case NullLiteral:
                text.Append("null");
                break;
            case MoneyLiteral m:
                text.Append(m.Amount.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(m.Currency);
                break;
            case DurationLiteral d:
                text.Append(d.Amount.ToString(CultureInfo.InvariantCulture)).Append(d.Unit);
                break;
            case DateLiteral d:
                text.Append(d.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                break;
            case IdentifierNode i:
                text.Append(i.Name);
                break;
            case CallNode c:
                if (c.Target is not null)
                {
                    Write(text, c.Target, 9);
                    text.Append('.');
                }

                text.Append(c.Name).Append('(');
                for (var i = 0; i < c.Arguments.Count; i++)
                {
                    if (i > 0)
                    {
                        text.Append(", ");
                    }

                    if (c.Arguments[i].Name is { } name)
                    {
                        text.Append(name).Append(": ");
                    }

                    Write(text, c.Arguments[i].Value, 0);
                }

                text.Append(')');
                break;
            case UnaryNode { Operator: "not" } u:
                text.Append("not ");
                Write(text, u.Operand, 3);
                break;
            case UnaryNode u:
                text.Append(u.Operator);
                Write(text, u.Operand, 8);
                break;
            case BinaryNode b:
                var comparison = p == 4;
                Write(text, b.Left, comparison ? p + 1 : p);
                text.Append(' ').Append(b.Operator).Append(' ');
                Write(text, b.Right, p + 1);
                break;
            case InNode n:
                Write(text, n.Value, 5);
                text.Append(n.Negated ? " not in " : " in ");
                Write(text, n.List, 0);
                break;
            case IsNullNode n:
                Write(text, n.Operand, 5);
                text.Append(n.Negated ? " is not null" : " is null");
                break;
            case ListNode l:
                text.Append('[');
                for (var i = 0; i < l.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        text.Append(", ");
                    }

                    Write(text, l.Items[i], 0);
                }

                text.Append(']');
                break;
            default:
                throw new ArgumentException($"Unknown node {node.GetType().Name}.", nameof(node));
        }

        if (parens)
        {
            text.Append(')');
        }
    }
}
