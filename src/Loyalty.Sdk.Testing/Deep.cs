using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Loyalty.Sdk.Testing;

/// <summary>
/// Structural equality for the SDK's records and classes, whose list and dictionary members compare by reference:
/// public properties recursively, lists in order, dictionaries by key (whatever their runtime types, so that a list a
/// durable adapter reads back equals the array that was saved), value types and strings with <c>Equals</c>. A
/// difference fails with its path, e.g. <c>$.Links[1].Rule</c>.
/// </summary>
internal static class Deep
{
    public static void Equal(object? expected, object? actual, string? what = null) => Compare(expected, actual, what ?? "$");

    private static void Compare(object? expected, object? actual, string path)
    {
        if (expected is null || actual is null)
        {
            if (expected is not null || actual is not null)
            {
                Assert.Fail($"{path}: expected {Show(expected)} but got {Show(actual)}.");
            }

            return;
        }

        if (expected is JsonNode expectedNode)
        {
            CompareJson(expectedNode, actual as JsonNode, path);
            return;
        }

        var bothCollections = expected is IEnumerable and not string && actual is IEnumerable and not string;
        if (!bothCollections && expected.GetType() != actual.GetType())
        {
            Assert.Fail($"{path}: expected a {expected.GetType().Name} but got a {actual.GetType().Name}.");
        }

        var type = expected.GetType();
        if (expected is JsonElement je)
        {
            if (!JsonElement.DeepEquals(je, (JsonElement)actual))
            {
                Assert.Fail($"{path}: expected JSON {je.GetRawText()} but got {((JsonElement)actual).GetRawText()}.");
            }

            return;
        }

        if (expected is string || type.IsPrimitive || type.IsEnum || type.IsValueType)
        {
            if (!expected.Equals(actual))
            {
                Assert.Fail($"{path}: expected {Show(expected)} but got {Show(actual)}.");
            }

            return;
        }

        if (expected is IEnumerable expectedItems)
        {
            var left = expectedItems.Cast<object?>().ToList();
            var right = ((IEnumerable)actual).Cast<object?>().ToList();
            if (IsDictionary(expected.GetType()) || IsDictionary(actual.GetType()))
            {
                var l = ToDictionary(left);
                var r = ToDictionary(right);
                var lk = l.Keys.Order(StringComparer.Ordinal).ToArray();
                var rk = r.Keys.Order(StringComparer.Ordinal).ToArray();
                if (!lk.SequenceEqual(rk, StringComparer.Ordinal))
                {
                    Assert.Fail($"{path}: expected keys [{string.Join(", ", lk)}] but got [{string.Join(", ", rk)}].");
                }

                foreach (var key in lk)
                {
                    Compare(l[key], r[key], $"{path}[{key}]");
                }

                return;
            }

            if (left.Count != right.Count)
            {
                Assert.Fail($"{path}: expected {left.Count} items but got {right.Count}.");
            }

            for (var i = 0; i < left.Count; i++)
            {
                Compare(left[i], right[i], $"{path}[{i}]");
            }

            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            if (property.Name == "EqualityContract")
            {
                continue;
            }

            Compare(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
        }
    }

    private static void CompareJson(JsonNode expected, JsonNode? actual, string path)
    {
        switch (expected)
        {
            case JsonObject eo when actual is JsonObject ao:
                var lk = eo.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
                var rk = ao.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
                if (!lk.SequenceEqual(rk, StringComparer.Ordinal))
                {
                    Assert.Fail($"{path}: expected keys [{string.Join(", ", lk)}] but got [{string.Join(", ", rk)}].");
                }

                foreach (var key in lk)
                {
                    Compare(eo[key], ao[key], $"{path}.{key}");
                }

                return;
            case JsonArray ea when actual is JsonArray aa:
                if (ea.Count != aa.Count)
                {
                    Assert.Fail($"{path}: expected {ea.Count} items but got {aa.Count}.");
                }

                for (var i = 0; i < ea.Count; i++)
                {
                    Compare(ea[i], aa[i], $"{path}[{i}]");
                }

                return;
            default:
                if (!JsonNode.DeepEquals(expected, actual))
                {
                    Assert.Fail($"{path}: expected {expected.ToJsonString()} but got {actual?.ToJsonString() ?? "null"}.");
                }

                return;
        }
    }

    private static bool IsDictionary(Type type) => type.GetInterfaces().Append(type).Any(i =>
        i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IDictionary<,>)));

    private static Dictionary<string, object?> ToDictionary(List<object?> pairs) => pairs.ToDictionary(
        p => Convert.ToString(p!.GetType().GetProperty("Key")!.GetValue(p), CultureInfo.InvariantCulture)!,
        p => p!.GetType().GetProperty("Value")!.GetValue(p),
        StringComparer.Ordinal);

    private static string Show(object? value) => value is null ? "null" : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?";
}
