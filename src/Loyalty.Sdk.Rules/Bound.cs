using Loyalty.Sdk.Rules.Syntax;

namespace Loyalty.Sdk.Rules;

/// <summary>A type-checked node with its compiled delegates (one per value representation).</summary>
internal sealed class Bound
{
    public static readonly Func<RuleSubject, long, long> Never = static (_, _) => long.MaxValue;

    public Bound(RuleNode syntax, RuleType type, params Bound[] children)
    {
        Syntax = syntax;
        Type = type;
        Children = children;
    }

    public RuleNode Syntax { get; }

    public RuleType Type { get; }

    public Bound[] Children { get; }

    public Func<RuleSubject, long, bool>? B { get; set; }

    public Func<RuleSubject, long, double>? N { get; set; }

    public Func<RuleSubject, long, string?>? S { get; set; }

    /// <summary>When (Unix ms) the value can next change without an event.</summary>
    public Func<RuleSubject, long, long> Next { get; set; } = Never;

    /// <summary>For numeric values that only grow with time: the instant (Unix ms) the value reaches a target.</summary>
    public Func<RuleSubject, long, double, long>? WhenReaches { get; set; }

    /// <summary>A countdown that falls by one at each local midnight and wraps after 0.</summary>
    public bool Falling { get; set; }

    /// <summary>Whether the value changes with time alone.</summary>
    public bool TimeDependent { get; set; }

    /// <summary>Whether the value is a constant.</summary>
    public bool Constant { get; set; }

    /// <summary>What the node reads, for explanations (trait name, window).</summary>
    public string? Detail { get; set; }

    public bool IsNumeric => Type is RuleType.Number or RuleType.Money or RuleType.Duration or RuleType.Date or RuleType.Timestamp;

    public static Bound Error(RuleNode syntax) => new(syntax, RuleType.Error);

    public static Func<RuleSubject, long, long> MinNext(IEnumerable<Bound> children)
    {
        var timed = children.Where(c => c.TimeDependent).Select(c => c.Next).ToArray();
        return timed.Length switch
        {
            0 => Never,
            1 => timed[0],
            2 => (s, n) => Math.Min(timed[0](s, n), timed[1](s, n)),
            _ => (s, n) =>
            {
                var min = long.MaxValue;
                foreach (var f in timed)
                {
                    min = Math.Min(min, f(s, n));
                }

                return min;
            },
        };
    }
}
