using System.Text.Json.Nodes;
using Loyalty.Sdk.Consent;

namespace Loyalty.Sdk.Segments;

/// <summary>
/// The segmentation capability's part of a GDPR export and erasure. The export holds, for the customer and every id
/// merged into it, the current segment memberships with their entry times, the computed-trait state and the window
/// counters; the erasure deletes that state (memberships leave the segments' member lists; sizes and history stay as
/// counts).
/// </summary>
public sealed class SegmentPersonalData : IPersonalDataContributor
{
    /// <inheritdoc />
    public string Section => "segments";

    /// <inheritdoc />
    public async ValueTask<JsonNode?> ExportAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var states = new JsonArray();
        foreach (var id in context.AllIds)
        {
            if (await context.Session.Segments.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } s)
            {
                states.Add(State(s));
            }
        }

        return states.Count == 0 ? null : new JsonObject { ["customers"] = states };
    }

    /// <inheritdoc />
    public async ValueTask EraseAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var id in context.AllIds)
        {
            await context.Session.Segments.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }

    private static JsonObject State(CustomerSegmentState s)
    {
        var t = s.Traits;
        var categories = new JsonObject();
        foreach (var (category, spend) in t.CategorySpend.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            categories[category] = spend;
        }

        var series = new JsonObject();
        foreach (var (key, w) in s.Series.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            series[key] = new JsonObject
            {
                ["buckets"] = new JsonArray([.. w.Buckets.Select(b => (JsonNode)new JsonObject
                {
                    ["start"] = Ms(b.Start), ["count"] = b.Count, ["sum"] = b.Sum, ["min"] = b.Min, ["max"] = b.Max,
                })]),
                ["distinctValues"] = w.LastSeen is null ? null : new JsonArray([.. w.LastSeen.Keys.Order(StringComparer.Ordinal).Select(v => (JsonNode)JsonValue.Create(v))]),
            };
        }

        return new JsonObject
        {
            ["customer"] = s.Customer.Value,
            ["memberships"] = new JsonArray([.. s.Memberships.OrderBy(kv => kv.Value).Select(kv => (JsonNode)new JsonObject { ["segment"] = kv.Key, ["enteredAt"] = kv.Value.ToString() })]),
            ["computedTraits"] = new JsonObject
            {
                ["orders"] = t.Orders,
                ["monetary"] = t.Monetary,
                ["firstOrderAt"] = Ms(t.FirstOrderMs),
                ["lastOrderAt"] = Ms(t.LastOrderMs),
                ["intervals"] = t.Intervals,
                ["meanIntervalDays"] = t.MeanIntervalDays,
                ["recentIntervalDays"] = t.RecentIntervalDays,
                ["weekendOrders"] = t.WeekendOrders,
                ["reactivatedAt"] = Ms(t.ReactivatedAtMs),
                ["ordersByChannel"] = ByChannel(t.OrdersByChannel.Select(v => (long)v)),
                ["delivered"] = ByChannel(t.Delivered.Select(v => (long)v)),
                ["responded"] = ByChannel(t.Responded.Select(v => (long)v)),
                ["lastEngagementAt"] = ByChannel(t.LastEngagementMs, ms: true),
                ["categorySpend"] = categories,
            },
            ["windowCounters"] = series,
            ["dueAt"] = s.DueAt?.ToString(),
        };
    }

    private static JsonObject ByChannel(IEnumerable<long> values, bool ms = false)
    {
        var o = new JsonObject();
        var i = 0;
        foreach (var v in values)
        {
            if (v != 0)
            {
                o[((Channel)i).ToString().ToLowerInvariant()] = ms ? Ms(v) : v;
            }

            i++;
        }

        return o;
    }

    private static string? Ms(long ms) => ms == 0 ? null : NodaTime.Instant.FromUnixTimeMilliseconds(ms).ToString();
}
