using System.Collections.Immutable;
using System.Globalization;
using Loyalty.Sdk.Identity.Matching.Comparison;
using Loyalty.Sdk.Identity.Matching.Text;

namespace Loyalty.Sdk.Identity.Matching.Blocking;

/// <summary>Generates the distinct candidate pairs of a union of blocking rules.</summary>
internal static class Blocker
{
    public static long Pack(int i, int j) => ((long)i << 32) | (uint)j;

    public static (int Left, int Right) Unpack(long pair) => ((int)(pair >> 32), (int)(pair & 0xFFFFFFFF));

    public static (long[] Pairs, BlockingSummary Summary) Generate(
        RecordSchema schema,
        PreparedRecords records,
        IReadOnlyList<BlockingRule> rules,
        int maxBlockSize,
        CancellationToken ct)
    {
        var keys = new string?[rules.Count][];
        for (var r = 0; r < rules.Count; r++)
        {
            keys[r] = ComputeKeys(schema, records, rules[r]);
        }

        var pairs = new List<long>();
        var stats = ImmutableArray.CreateBuilder<BlockingRuleStatistics>();
        for (var r = 0; r < rules.Count; r++)
        {
            ct.ThrowIfCancellationRequested();
            var ruleKeys = keys[r];
            var blocks = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (var i = 0; i < records.Count; i++)
            {
                var key = ruleKeys[i];
                if (key is null)
                {
                    continue;
                }

                if (!blocks.TryGetValue(key, out var members))
                {
                    members = [];
                    blocks.Add(key, members);
                }

                members.Add(i);
            }

            long newPairs = 0, skippedRecords = 0;
            var skippedBlocks = 0;
            foreach (var members in blocks.Values)
            {
                if (members.Count < 2)
                {
                    continue;
                }

                if (members.Count > maxBlockSize)
                {
                    skippedBlocks++;
                    skippedRecords += members.Count;
                    continue;
                }

                ct.ThrowIfCancellationRequested();
                for (var a = 0; a < members.Count; a++)
                {
                    var i = members[a];
                    for (var b = a + 1; b < members.Count; b++)
                    {
                        var j = members[b];
                        if (records.IsLink && (i < records.LeftCount) == (j < records.LeftCount))
                        {
                            continue;
                        }

                        if (CoveredByEarlierRule(keys, r, i, j))
                        {
                            continue;
                        }

                        pairs.Add(Pack(i, j));
                        newPairs++;
                    }
                }
            }

            stats.Add(new BlockingRuleStatistics(rules[r].Name, newPairs, skippedBlocks, skippedRecords));
        }

        var array = pairs.ToArray();
        Array.Sort(array);
        long total = records.IsLink
            ? (long)records.LeftCount * (records.Count - records.LeftCount)
            : (long)records.Count * (records.Count - 1) / 2;
        return (array, new BlockingSummary(array.LongLength, total, stats.ToImmutable()));
    }

    private static bool CoveredByEarlierRule(string?[][] keys, int rule, int i, int j)
    {
        for (var r = 0; r < rule; r++)
        {
            var a = keys[r][i];
            if (a is not null && string.Equals(a, keys[r][j], StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    internal static string?[] ComputeKeys(RecordSchema schema, PreparedRecords records, BlockingRule rule)
    {
        var fieldIndexes = rule.Parts.Select(p =>
        {
            var index = schema.IndexOf(p.Field);
            return index >= 0
                ? index
                : throw new ArgumentException($"Blocking rule '{rule.Name}' names unknown field '{p.Field}'.", nameof(rule));
        }).ToArray();
        var result = new string?[records.Count];
        var parts = new string[rule.Parts.Length];
        for (var i = 0; i < records.Count; i++)
        {
            var complete = true;
            for (var p = 0; p < parts.Length && complete; p++)
            {
                var value = records.Fields[fieldIndexes[p]].Text[i];
                var part = value is null ? null : Transform(value, rule.Parts[p]);
                if (string.IsNullOrEmpty(part))
                {
                    complete = false;
                }
                else
                {
                    parts[p] = part;
                }
            }

            result[i] = !complete ? null : parts.Length == 1 ? parts[0] : string.Join('\u001f', parts);
        }

        return result;
    }

    private static string? Transform(string value, BlockingKeyPart part) => part.Transform switch
    {
        BlockingTransform.Exact => value,
        BlockingTransform.Soundex => StringSimilarity.Soundex(value),
        BlockingTransform.Prefix => value.Length <= part.Length ? value : value[..part.Length],
        BlockingTransform.Year => value.Length >= 4 && int.TryParse(value.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? value[..4]
            : null,
        BlockingTransform.Digits => DigitsOf(value),
        BlockingTransform.Domain => value.LastIndexOf('@') is var at and >= 0 && at < value.Length - 1 ? value[(at + 1)..] : null,
        _ => null,
    };

    private static string? DigitsOf(string value)
    {
        var count = 0;
        foreach (var c in value)
        {
            count += char.IsAsciiDigit(c) ? 1 : 0;
        }

        if (count == 0)
        {
            return null;
        }

        return string.Create(count, value, static (span, v) =>
        {
            var k = 0;
            foreach (var c in v)
            {
                if (char.IsAsciiDigit(c))
                {
                    span[k++] = c;
                }
            }
        });
    }

    /// <summary>For each candidate pair, a bit per field set when some rule the pair satisfies uses that field: within
    /// the blocks of a rule, agreement on the rule's fields holds by construction and says nothing about matching.
    /// Parts by <see cref="BlockingTransform.Digits"/> or <see cref="BlockingTransform.Domain"/> do not count: equal
    /// digits or domains leave the comparison of the value itself (its letters) free.</summary>
    internal static ulong[] BlockingFieldMasks(RecordSchema schema, PreparedRecords records, IReadOnlyList<BlockingRule> rules, long[] candidates)
    {
        var keys = rules.Select(r => ComputeKeys(schema, records, r)).ToArray();
        var ruleFields = rules.Select(r => r.Parts.Where(p => p.Transform is not (BlockingTransform.Digits or BlockingTransform.Domain))
            .Aggregate(0UL, (mask, p) => mask | (1UL << schema.IndexOf(p.Field)))).ToArray();
        var masks = new ulong[candidates.Length];
        for (var k = 0; k < candidates.Length; k++)
        {
            var (i, j) = Unpack(candidates[k]);
            for (var r = 0; r < rules.Count; r++)
            {
                var a = keys[r][i];
                if (a is not null && string.Equals(a, keys[r][j], StringComparison.Ordinal))
                {
                    masks[k] |= ruleFields[r];
                }
            }
        }

        return masks;
    }
}
