using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NodaTime.Text;

namespace Loyalty.Sdk.Rules.Syntax;

/// <summary>
/// The JSON form of a syntax tree, for rule-builder UIs. Every node is an object with a <c>kind</c>:
/// <c>number</c>/<c>string</c>/<c>boolean</c> (<c>value</c>), <c>null</c>, <c>money</c> (<c>amount</c>, <c>currency</c>),
/// <c>duration</c> (<c>amount</c>, <c>unit</c>), <c>date</c> (<c>value</c>), <c>name</c> (<c>name</c>), <c>call</c>
/// (<c>target</c>?, <c>name</c>, <c>args</c>: [{<c>name</c>?, <c>value</c>}]), <c>unary</c>/<c>binary</c> (<c>op</c>,
/// <c>operand</c> or <c>left</c>/<c>right</c>), <c>in</c> (<c>value</c>, <c>list</c>, <c>negated</c>), <c>is_null</c>
/// (<c>operand</c>, <c>negated</c>), <c>list</c> (<c>items</c>). It round-trips with the text form.
/// </summary>
public static class RuleJson
{
    private const int MaxDepth = 64;

    /// <summary>The JSON form of <paramref name="node"/>.</summary>
    public static JsonObject ToJson(RuleNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node switch
        {
            NumberLiteral n => new JsonObject { ["kind"] = "number", ["value"] = n.Value },
            StringLiteral s => new JsonObject { ["kind"] = "string", ["value"] = s.Value },
            BooleanLiteral b => new JsonObject { ["kind"] = "boolean", ["value"] = b.Value },
            NullLiteral => new JsonObject { ["kind"] = "null" },
            MoneyLiteral m => new JsonObject { ["kind"] = "money", ["amount"] = m.Amount, ["currency"] = m.Currency },
            DurationLiteral d => new JsonObject { ["kind"] = "duration", ["amount"] = d.Amount, ["unit"] = d.Unit.ToString() },
            DateLiteral d => new JsonObject { ["kind"] = "date", ["value"] = LocalDatePattern.Iso.Format(d.Value) },
            IdentifierNode i => new JsonObject { ["kind"] = "name", ["name"] = i.Name },
            CallNode c => Call(c),
            UnaryNode u => new JsonObject { ["kind"] = "unary", ["op"] = u.Operator, ["operand"] = ToJson(u.Operand) },
            BinaryNode b => new JsonObject { ["kind"] = "binary", ["op"] = b.Operator, ["left"] = ToJson(b.Left), ["right"] = ToJson(b.Right) },
            InNode n => new JsonObject { ["kind"] = "in", ["value"] = ToJson(n.Value), ["list"] = ToJson(n.List), ["negated"] = n.Negated },
            IsNullNode n => new JsonObject { ["kind"] = "is_null", ["operand"] = ToJson(n.Operand), ["negated"] = n.Negated },
            ListNode l => new JsonObject { ["kind"] = "list", ["items"] = new JsonArray(l.Items.Select(i => (JsonNode)ToJson(i)).ToArray()) },
            _ => throw new ArgumentException($"Unknown node {node.GetType().Name}.", nameof(node)),
        };
    }

    /// <summary>The JSON text of <paramref name="node"/>.</summary>
    public static string Serialize(RuleNode node) => ToJson(node).ToJsonString();

    /// <summary>Reads the JSON form.</summary>
    /// <exception cref="RuleException">The JSON is not a valid syntax tree (the path of the problem is in the message).</exception>
    public static RuleNode FromJson(JsonNode? json) => Read(json, "$", 0);

    /// <summary>Reads the JSON text form.</summary>
    /// <exception cref="RuleException">The JSON is malformed or not a valid syntax tree.</exception>
    public static RuleNode Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return FromJson(JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 256 }));
        }
        catch (JsonException ex)
        {
            throw new RuleException([new RuleError(1, 1, "json", "The rule JSON is malformed: " + ex.Message)]);
        }
    }

    private static JsonObject Call(CallNode c)
    {
        var json = new JsonObject { ["kind"] = "call" };
        if (c.Target is not null)
        {
            json["target"] = ToJson(c.Target);
        }

        json["name"] = c.Name;
        json["args"] = new JsonArray(c.Arguments.Select(a =>
        {
            var arg = new JsonObject();
            if (a.Name is not null)
            {
                arg["name"] = a.Name;
            }

            arg["value"] = ToJson(a.Value);
            return (JsonNode)arg;
        }).ToArray());
        return json;
    }

    private static RuleNode Read(JsonNode? json, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw Error(path, "nests too deep");
        }

        if (json is not JsonObject o)
        {
            throw Error(path, "must be an object with a 'kind'");
        }

        try
        {
            var kind = Text(o, "kind", path);
            return kind switch
            {
                "number" => Number(o["value"]?.GetValue<decimal>() ?? throw Error(path + ".value", "is required")),
                "string" => new StringLiteral(Text(o, "value", path)),
                "boolean" => new BooleanLiteral(o["value"]?.GetValue<bool>() ?? throw Error(path + ".value", "is required")),
                "null" => new NullLiteral(),
                "money" => new MoneyLiteral(o["amount"]?.GetValue<decimal>() ?? throw Error(path + ".amount", "is required"), Currency(Text(o, "currency", path), path)),
                "duration" => new DurationLiteral(o["amount"]?.GetValue<long>() ?? throw Error(path + ".amount", "is required"), Unit(Text(o, "unit", path), path)),
                "date" => new DateLiteral(LocalDatePattern.Iso.Parse(Text(o, "value", path)).GetValueOrThrow()),
                "name" => new IdentifierNode(Name(Text(o, "name", path), path)),
                "call" => new CallNode(
                    o["target"] is null ? null : Read(o["target"], path + ".target", depth + 1),
                    Name(Text(o, "name", path), path),
                    (o["args"] as JsonArray ?? []).Select((a, i) => new RuleArgument(
                        a?["name"] is null ? null : Name(a["name"]!.GetValue<string>(), $"{path}.args[{i}]"),
                        Read(a?["value"], $"{path}.args[{i}].value", depth + 1))).ToArray()),
                "unary" => new UnaryNode(Op(Text(o, "op", path), path, "not", "-"), Read(o["operand"], path + ".operand", depth + 1)),
                "binary" => new BinaryNode(
                    Op(Text(o, "op", path), path, "and", "or", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "??"),
                    Read(o["left"], path + ".left", depth + 1),
                    Read(o["right"], path + ".right", depth + 1)),
                "in" => new InNode(Read(o["value"], path + ".value", depth + 1), Read(o["list"], path + ".list", depth + 1) as ListNode ?? throw Error(path + ".list", "must be a list"), o["negated"]?.GetValue<bool>() ?? false),
                "is_null" => new IsNullNode(Read(o["operand"], path + ".operand", depth + 1), o["negated"]?.GetValue<bool>() ?? false),
                "list" => new ListNode((o["items"] as JsonArray ?? []).Select((x, i) => Read(x, $"{path}.items[{i}]", depth + 1)).ToArray()),
                _ => throw Error(path + ".kind", $"'{kind}' is not a node kind"),
            };
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or UnparsableValueException or JsonException)
        {
            throw Error(path, "is not valid: " + ex.Message);
        }
    }

    private static RuleNode Number(decimal value) => value < 0 ? new UnaryNode("-", new NumberLiteral(-value)) : new NumberLiteral(value);

    private static string Text(JsonObject o, string name, string path) =>
        o[name]?.GetValue<string>() ?? throw Error($"{path}.{name}", "is required");

    private static string Name(string name, string path) =>
        name.Length is > 0 and <= 64 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !Keywords.Contains(name)
            ? name
            : throw Error(path, $"'{name}' is not a valid name");

    private static string Currency(string code, string path) =>
        code.Length == 3 && code.All(char.IsAsciiLetterUpper) ? code : throw Error(path + ".currency", $"'{code}' is not an ISO-4217 code");

    private static char Unit(string unit, string path) =>
        unit is "w" or "d" or "h" or "m" ? unit[0] : throw Error(path + ".unit", "must be w, d, h or m");

    private static string Op(string op, string path, params string[] allowed) =>
        allowed.Contains(op) ? op : throw Error(path + ".op", $"'{op}' is not one of {string.Join(", ", allowed)}");

    private static readonly HashSet<string> Keywords = ["and", "or", "not", "in", "is", "null", "true", "false"];

    private static RuleException Error(string path, string message) =>
        new([new RuleError(1, 1, "json", string.Create(CultureInfo.InvariantCulture, $"{path} {message}."))]);
}
