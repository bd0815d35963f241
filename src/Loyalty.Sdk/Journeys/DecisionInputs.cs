using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Loyalty.Sdk.Journeys;

/// <summary>The inputs of a journey decision: a few values under fixed keys (shared per shape), read-only. Enumerates
/// in key order, as the dictionary it replaces did; several cost one small array instead of a hash table each.</summary>
internal sealed class DecisionInputs(string[] keys, string[] values) : IReadOnlyDictionary<string, string>
{
    public static readonly string[] Entered = ["cause", "entry", "holdout"];
    public static readonly string[] Action = ["step", "disposition", "key"];
    public static readonly string[] Suppressed = ["step", "disposition", "reason"];

    public int Count => keys.Length;

    public IEnumerable<string> Keys => keys;

    public IEnumerable<string> Values => values;

    public string this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The decision has no input '{key}'.");

    public bool ContainsKey(string key) => Array.IndexOf(keys, key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        for (var k = 0; k < keys.Length; k++)
        {
            if (string.Equals(keys[k], key, StringComparison.Ordinal))
            {
                value = values[k];
                return true;
            }
        }

        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (var k = 0; k < keys.Length; k++)
        {
            yield return new KeyValuePair<string, string>(keys[k], values[k]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
