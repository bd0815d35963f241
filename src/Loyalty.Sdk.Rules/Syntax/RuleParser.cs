using System.Globalization;
using NodaTime;
using NodaTime.Text;
using Superpower;
using SP = Superpower;
using Superpower.Model;
using Superpower.Parsers;
using Superpower.Tokenizers;

namespace Loyalty.Sdk.Rules.Syntax;

/// <summary>The outcome of parsing: a tree, or the errors.</summary>
/// <param name="Node">The tree, when the text parsed.</param>
/// <param name="Errors">The problems (empty on success).</param>
public sealed record RuleParseResult(RuleNode? Node, IReadOnlyList<RuleError> Errors)
{
    /// <summary>Whether the text parsed.</summary>
    public bool Success => Node is not null;
}

/// <summary>Parses rule text into a syntax tree with precise errors (line, column, what was expected). Hostile input
/// (huge, deeply nested, binary garbage) is rejected with a <c>limit</c> or <c>syntax</c> error, never a crash.</summary>
public static class RuleParser
{
    internal enum T
    {
        None,
        Number,
        Money,
        Duration,
        Date,
        String,
        Identifier,
        And,
        Or,
        Not,
        In,
        Is,
        Null,
        True,
        False,
        LParen,
        RParen,
        LBracket,
        RBracket,
        Comma,
        Colon,
        Dot,
        Eq,
        Ne,
        Le,
        Ge,
        Lt,
        Gt,
        Coalesce,
        Plus,
        Minus,
        Star,
        Slash,
    }

    private static readonly Tokenizer<T> Tokenizer = new TokenizerBuilder<T>()
        .Ignore(Span.WhiteSpace)
        .Match(Span.Regex(@"[0-9]{4}-[0-9]{2}-[0-9]{2}"), T.Date, requireDelimiters: true)
        .Match(Span.Regex(@"[0-9]{1,18}(\.[0-9]{1,10})?[ \t]*[A-Z]{3}"), T.Money, requireDelimiters: true)
        .Match(Span.Regex(@"[0-9]{1,9}[wdhm]"), T.Duration, requireDelimiters: true)
        .Match(Span.Regex(@"[0-9]{1,18}(\.[0-9]{1,10})?"), T.Number, requireDelimiters: true)
        .Match(QuotedString.CStyle, T.String)
        .Match(Span.EqualTo("and"), T.And, requireDelimiters: true)
        .Match(Span.EqualTo("or"), T.Or, requireDelimiters: true)
        .Match(Span.EqualTo("not"), T.Not, requireDelimiters: true)
        .Match(Span.EqualTo("in"), T.In, requireDelimiters: true)
        .Match(Span.EqualTo("is"), T.Is, requireDelimiters: true)
        .Match(Span.EqualTo("null"), T.Null, requireDelimiters: true)
        .Match(Span.EqualTo("true"), T.True, requireDelimiters: true)
        .Match(Span.EqualTo("false"), T.False, requireDelimiters: true)
        .Match(Span.Regex(@"[A-Za-z_][A-Za-z0-9_]{0,63}"), T.Identifier, requireDelimiters: true)
        .Match(Span.EqualTo("=="), T.Eq)
        .Match(Span.EqualTo("!="), T.Ne)
        .Match(Span.EqualTo("<="), T.Le)
        .Match(Span.EqualTo(">="), T.Ge)
        .Match(Span.EqualTo("??"), T.Coalesce)
        .Match(Character.EqualTo('<'), T.Lt)
        .Match(Character.EqualTo('>'), T.Gt)
        .Match(Character.EqualTo('('), T.LParen)
        .Match(Character.EqualTo(')'), T.RParen)
        .Match(Character.EqualTo('['), T.LBracket)
        .Match(Character.EqualTo(']'), T.RBracket)
        .Match(Character.EqualTo(','), T.Comma)
        .Match(Character.EqualTo(':'), T.Colon)
        .Match(Character.EqualTo('.'), T.Dot)
        .Match(Character.EqualTo('+'), T.Plus)
        .Match(Character.EqualTo('-'), T.Minus)
        .Match(Character.EqualTo('*'), T.Star)
        .Match(Character.EqualTo('/'), T.Slash)
        .Build();

    private static readonly TokenListParser<T, RuleNode> Expression = SP.Parse.Ref(() => OrExpr!);

    private static readonly TokenListParser<T, ListNode> ListP =
        from open in Token.EqualTo(T.LBracket)
        from items in Expression.ManyDelimitedBy(Token.EqualTo(T.Comma))
        from close in Token.EqualTo(T.RBracket)
        select new ListNode(items) { Position = Pos(open) };

    private static readonly TokenListParser<T, RuleArgument> Argument =
        Token.EqualTo(T.Identifier).Then(n => Token.EqualTo(T.Colon).Value((string?)n.ToStringValue())).Try().OptionalOrDefault()
            .Then(name => Expression.Select(value => new RuleArgument(name, value)));

    private static readonly TokenListParser<T, RuleArgument[]> CallArguments =
        from open in Token.EqualTo(T.LParen)
        from args in Argument.ManyDelimitedBy(Token.EqualTo(T.Comma))
        from close in Token.EqualTo(T.RParen).Named("`)` or `,`")
        select args;

    private static readonly TokenListParser<T, RuleNode> Literal =
        Token.EqualTo(T.Number).Select(t => (RuleNode)new NumberLiteral(decimal.Parse(t.ToStringValue(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture)) { Position = Pos(t) })
            .Or(Token.EqualTo(T.Money).Select(t => Money(t)))
            .Or(Token.EqualTo(T.Duration).Select(t => Duration(t)))
            .Or(Token.EqualTo(T.Date).Select(t => Date(t)))
            .Or(Token.EqualTo(T.String).Select(t => (RuleNode)new StringLiteral(QuotedString.CStyle.Parse(t.ToStringValue())) { Position = Pos(t) }))
            .Or(Token.EqualTo(T.True).Select(t => (RuleNode)new BooleanLiteral(true) { Position = Pos(t) }))
            .Or(Token.EqualTo(T.False).Select(t => (RuleNode)new BooleanLiteral(false) { Position = Pos(t) }))
            .Or(Token.EqualTo(T.Null).Select(t => (RuleNode)new NullLiteral { Position = Pos(t) }));

    private static readonly TokenListParser<T, RuleNode> NameOrCall =
        Token.EqualTo(T.Identifier).Then(t => CallArguments.Select(a => (RuleArgument[]?)a).OptionalOrDefault().Select(args => args is null
            ? (RuleNode)new IdentifierNode(t.ToStringValue()) { Position = Pos(t) }
            : new CallNode(null, t.ToStringValue(), args) { Position = Pos(t) }));

    private static readonly TokenListParser<T, RuleNode> Primary =
        Literal
            .Or(ListP.Select(l => (RuleNode)l))
            .Or(NameOrCall)
            .Or(Token.EqualTo(T.LParen).IgnoreThen(Expression).Then(e => Token.EqualTo(T.RParen).Value(e)))
            .Named("value");

    private static readonly TokenListParser<T, RuleNode> PostfixExpr =
        Primary.Then(first => Token.EqualTo(T.Dot).IgnoreThen(Token.EqualTo(T.Identifier).Named("method name"))
                .Then(name => CallArguments.Select(a => (RuleArgument[]?)a).OptionalOrDefault().Select(args => (name, args)))
                .Many()
                .Select(calls => calls.Aggregate(first, (target, c) => new CallNode(target, c.name.ToStringValue(), c.args ?? []) { Position = Pos(c.name) })));

    private static readonly TokenListParser<T, RuleNode> UnaryExpr =
        Token.EqualTo(T.Minus).Then(m => SP.Parse.Ref(() => UnaryExpr!).Select(o => (RuleNode)new UnaryNode("-", o) { Position = Pos(m) }))
            .Or(PostfixExpr);

    private static readonly TokenListParser<T, RuleNode> MulExpr =
        SP.Parse.Chain(Op(T.Star, "*").Or(Op(T.Slash, "/")), UnaryExpr, MakeBinary);

    private static readonly TokenListParser<T, RuleNode> AddExpr =
        SP.Parse.Chain(Op(T.Plus, "+").Or(Op(T.Minus, "-")), MulExpr, MakeBinary);

    private static readonly TokenListParser<T, RuleNode> CoalesceExpr =
        SP.Parse.Chain(Op(T.Coalesce, "??"), AddExpr, MakeBinary);

    private static readonly TokenListParser<T, Func<RuleNode, RuleNode>> ComparisonSuffix =
        Op(T.Eq, "==").Or(Op(T.Ne, "!=")).Or(Op(T.Le, "<=")).Or(Op(T.Ge, ">=")).Or(Op(T.Lt, "<")).Or(Op(T.Gt, ">"))
            .Then(op => CoalesceExpr.Select(r => (Func<RuleNode, RuleNode>)(l => new BinaryNode(op, l, r) { Position = l.Position })))
            .Or(Token.EqualTo(T.In).IgnoreThen(ListP).Select(list => (Func<RuleNode, RuleNode>)(l => new InNode(l, list, false) { Position = l.Position })))
            .Or(Token.EqualTo(T.Not).IgnoreThen(Token.EqualTo(T.In)).Try().IgnoreThen(ListP).Select(list => (Func<RuleNode, RuleNode>)(l => new InNode(l, list, true) { Position = l.Position })))
            .Or(Token.EqualTo(T.Is).IgnoreThen(Token.EqualTo(T.Not).Value(true).OptionalOrDefault(false))
                .Then(negated => Token.EqualTo(T.Null).Value((Func<RuleNode, RuleNode>)(l => new IsNullNode(l, negated) { Position = l.Position }))));

    private static readonly TokenListParser<T, RuleNode> ComparisonExpr =
        CoalesceExpr.Then(l => ComparisonSuffix.Select(f => (Func<RuleNode, RuleNode>?)f).OptionalOrDefault().Select(f => f is null ? l : f(l)));

    private static readonly TokenListParser<T, RuleNode> NotExpr =
        Token.EqualTo(T.Not).Then(n => SP.Parse.Ref(() => NotExpr!).Select(o => (RuleNode)new UnaryNode("not", o) { Position = Pos(n) }))
            .Or(ComparisonExpr);

    private static readonly TokenListParser<T, RuleNode> AndExpr = SP.Parse.Chain(Op(T.And, "and"), NotExpr, MakeBinary);

    private static readonly TokenListParser<T, RuleNode> OrExpr = SP.Parse.Chain(Op(T.Or, "or"), AndExpr, MakeBinary);

    private static readonly TokenListParser<T, RuleNode> Rule = OrExpr.AtEnd();

    /// <summary>Parses <paramref name="text"/>; never throws for bad text.</summary>
    public static RuleParseResult TryParse(string text, RuleLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        limits ??= RuleLimits.Default;
        if (text.Length > limits.MaxLength)
        {
            return Fail(1, 1, "limit", $"The rule is {text.Length} characters long; at most {limits.MaxLength} are allowed.");
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return Fail(1, 1, "syntax", "The rule is empty: expected an expression.");
        }

        try
        {
            var tokens = Tokenizer.TryTokenize(text);
            if (!tokens.HasValue)
            {
                var fragment = tokens.FormatErrorMessageFragment();
                return Fail(tokens.ErrorPosition.Line, tokens.ErrorPosition.Column, "syntax", Capitalize(fragment) + ".");
            }

            var list = tokens.Value;
            var count = 0;
            var depth = 0;
            var prefix = 0;
            foreach (var token in list)
            {
                if (++count > limits.MaxTokens)
                {
                    return Fail(token.Position.Line, token.Position.Column, "limit", $"The rule has more than {limits.MaxTokens} tokens.");
                }

                switch (token.Kind)
                {
                    case T.LParen or T.LBracket:
                        depth++;
                        break;
                    case T.RParen or T.RBracket:
                        depth = Math.Max(0, depth - 1);
                        break;
                }

                prefix = token.Kind is T.Not or T.Minus ? prefix + 1 : 0;
                if (depth + prefix > limits.MaxDepth)
                {
                    return Fail(token.Position.Line, token.Position.Column, "limit", $"The rule nests deeper than {limits.MaxDepth} levels.");
                }
            }

            var result = Rule.TryParse(list);
            if (!result.HasValue)
            {
                var at = result.ErrorPosition.HasValue ? result.ErrorPosition : (result.Remainder.IsAtEnd ? EndOf(text) : result.Remainder.First().Position);
                return Fail(at.Line, at.Column, "syntax", Capitalize(result.FormatErrorMessageFragment()) + ".");
            }

            var (nodes, treeDepth) = Measure(result.Value, 0, limits.MaxDepth + 1);
            if (treeDepth > limits.MaxDepth)
            {
                return Fail(1, 1, "limit", $"The rule nests deeper than {limits.MaxDepth} levels.");
            }

            if (nodes > limits.MaxNodes)
            {
                return Fail(1, 1, "limit", $"The rule has {nodes} parts; at most {limits.MaxNodes} are allowed.");
            }

            return new RuleParseResult(result.Value, []);
        }
        catch (Exception ex) when (ex is ParseException or FormatException or OverflowException or ArgumentException or UnparsableValueException)
        {
            return Fail(1, 1, "syntax", "The rule could not be read: " + ex.Message);
        }
    }

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="RuleException">The text is not a valid rule.</exception>
    public static RuleNode Parse(string text, RuleLimits? limits = null)
    {
        var result = TryParse(text, limits);
        return result.Node ?? throw new RuleException(result.Errors);
    }

    internal static (int Nodes, int Depth) Measure(RuleNode node, int depth, int stopAt)
    {
        if (depth > stopAt)
        {
            return (1, depth);
        }

        var nodes = 1;
        var max = depth + 1;
        foreach (var child in Children(node))
        {
            var (n, d) = Measure(child, depth + 1, stopAt);
            nodes += n;
            max = Math.Max(max, d);
        }

        return (nodes, max);
    }

    internal static IEnumerable<RuleNode> Children(RuleNode node) => node switch
    {
        CallNode c => c.Target is null ? c.Arguments.Select(a => a.Value) : c.Arguments.Select(a => a.Value).Prepend(c.Target),
        UnaryNode u => [u.Operand],
        BinaryNode b => [b.Left, b.Right],
        InNode i => [i.Value, i.List],
        IsNullNode n => [n.Operand],
        ListNode l => l.Items,
        _ => [],
    };

    private static TokenListParser<T, string> Op(T kind, string op) => Token.EqualTo(kind).Value(op);

    private static RuleNode MakeBinary(string op, RuleNode left, RuleNode right) => new BinaryNode(op, left, right) { Position = left.Position };

    private static RulePosition Pos(Token<T> token) => new(token.Position.Absolute, token.Position.Line, token.Position.Column);

    private static RuleNode Money(Token<T> t)
    {
        var text = t.ToStringValue();
        var code = text[^3..];
        var amount = decimal.Parse(text[..^3].TrimEnd(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        return new MoneyLiteral(amount, code) { Position = Pos(t) };
    }

    private static RuleNode Duration(Token<T> t)
    {
        var text = t.ToStringValue();
        return new DurationLiteral(long.Parse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture), text[^1]) { Position = Pos(t) };
    }

    private static RuleNode Date(Token<T> t)
    {
        var parsed = LocalDatePattern.Iso.Parse(t.ToStringValue());
        if (!parsed.Success)
        {
            throw new ParseException($"'{t.ToStringValue()}' at {t.Position.Line}:{t.Position.Column} is not a valid date", t.Position);
        }

        return new DateLiteral(parsed.Value) { Position = Pos(t) };
    }

    private static Position EndOf(string text)
    {
        var line = 1;
        var column = 1;
        foreach (var c in text)
        {
            if (c == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return new Position(text.Length, line, column);
    }

    private static RuleParseResult Fail(int line, int column, string code, string message) =>
        new(null, [new RuleError(Math.Max(1, line), Math.Max(1, column), code, message)]);

    private static string Capitalize(string s) => s.Length == 0 ? "Syntax error" : char.ToUpperInvariant(s[0]) + s[1..];
}
