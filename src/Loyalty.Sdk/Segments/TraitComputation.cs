using System.Text.Json;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Segments;

/// <summary>Fills built-in trait slots from the profile and the segmentation state.</summary>
internal static class TraitFillers
{
    public static Action<CustomerTraitContext, RuleSubject>? Create(RuleSlot slot, SegmentOptions o)
    {
        var i = slot.Index;
        static double Ms(long ms) => ms == 0 ? double.NaN : ms;
        static double Ts(Instant? t) => t is { } v ? v.ToUnixTimeMilliseconds() : double.NaN;
        int Ch(int arg) => Array.IndexOf(BuiltInTraits.Channels.ToArray(), slot.Arguments[arg]);
        var ft = o.FrequencyThresholds.Select(x => (double)x).ToArray();
        var mt = o.MonetaryThresholds.Select(x => (double)x).ToArray();
        switch (slot.Trait)
        {
            case "given_name": return (c, s) => s.Texts[i] = c.Profile?.GivenName;
            case "locale": return (c, s) => s.Texts[i] = c.Profile?.Locale;
            case "country": return (c, s) => s.Texts[i] = c.Profile?.Address?.Country;
            case "time_zone": return (c, s) => s.Texts[i] = c.Profile?.TimeZone;
            case "birth_date": return (c, s) => s.SetDate(i, c.Profile?.BirthDate);
            case "signed_up_at": return (c, s) => s.Numbers[i] = Ts(c.Profile?.SignedUpAt);
            case "is_member": return (c, s) => s.Flags[i] = c.Profile?.SignedUpAt is not null;
            case "first_seen": return (c, s) => s.Numbers[i] = Ts(c.Profile?.FirstSeen);
            case "last_seen": return (c, s) => s.Numbers[i] = Ts(c.Profile?.LastSeen);
            case "orders": return (c, s) => s.Numbers[i] = c.Profile?.Traits.Orders ?? 0;
            case "gross_spend": return (c, s) => s.Numbers[i] = (double)(c.Profile?.Traits.GrossSpend ?? 0);
            case "net_spend" or "monetary": return (c, s) => s.Numbers[i] = (double)(c.Profile?.Traits.NetSpend ?? 0);
            case "returns": return (c, s) => s.Numbers[i] = c.Profile?.Traits.Returns ?? 0;
            case "return_rate": return (c, s) => s.Numbers[i] = c.Profile?.Traits is { Orders: > 0 } t ? (double)t.Returns / t.Orders : double.NaN;
            case "cancelled_orders": return (c, s) => s.Numbers[i] = c.Profile?.Traits.CancelledOrders ?? 0;
            case "aov": return (c, s) => s.Numbers[i] = c.Profile?.Traits is { Orders: > 0 } t ? (double)t.AverageOrderValue : double.NaN;
            case "first_order": return (c, s) => s.Numbers[i] = Ts(c.Profile?.Traits.FirstOrderAt);
            case "last_order": return (c, s) => s.Numbers[i] = Ts(c.Profile?.Traits.LastOrderAt);
            case "interactions": return (c, s) => s.Numbers[i] = c.Profile?.Traits.Interactions ?? 0;
            case "last_interaction": return (c, s) => s.Numbers[i] = Ts(c.Profile?.Traits.LastInteractionAt);
            case "abandoned_carts": return (c, s) => s.Numbers[i] = c.Profile?.Traits.AbandonedCarts ?? 0;
            case "support_tickets": return (c, s) => s.Numbers[i] = c.Profile?.Traits.SupportTickets ?? 0;
            case "reviews": return (c, s) => s.Numbers[i] = c.Profile?.Traits.Reviews ?? 0;
            case "last_channel": return (c, s) => s.Texts[i] = c.Profile?.Traits.LastChannel is { } ch ? BuiltInTraits.Channels[(int)ch] : null;
            case "frequency": return (c, s) => s.Numbers[i] = c.State.Traits.Orders;
            case "recency_days":
                return (c, s) =>
                {
                    var last = c.State.Traits.LastOrderMs;
                    if (last == 0)
                    {
                        s.Numbers[i] = double.NaN;
                        s.Expires[i] = long.MaxValue;
                        return;
                    }

                    var now = c.Now.ToUnixTimeMilliseconds();
                    var days = Math.Floor((double)(now - last) / RuleTime.DayMs);
                    s.Numbers[i] = days;
                    s.Expires[i] = last + ((long)(days + 1) * RuleTime.DayMs);
                };
            case "rfm_r": return (c, s) => s.Numbers[i] = Recency(c, s, o, i);
            case "rfm_f": return (c, s) => s.Numbers[i] = c.State.Traits.Orders == 0 ? double.NaN : Score(c.State.Traits.Orders, ft);
            case "rfm_m": return (c, s) => s.Numbers[i] = c.State.Traits.Orders == 0 ? double.NaN : Score((double)(c.Profile?.Traits.NetSpend ?? 0), mt);
            case "rfm_score":
                return (c, s) => s.Numbers[i] = c.State.Traits.Orders == 0 ? double.NaN
                    : Recency(c, s, o, i) + Score(c.State.Traits.Orders, ft) + Score((double)(c.Profile?.Traits.NetSpend ?? 0), mt);
            case "purchase_interval": return (c, s) => s.Numbers[i] = c.State.Traits.Intervals == 0 ? double.NaN : c.State.Traits.MeanIntervalDays;
            case "recent_purchase_interval": return (c, s) => s.Numbers[i] = c.State.Traits.Intervals == 0 ? double.NaN : c.State.Traits.RecentIntervalDays;
            case "purchase_interval_trend": return (c, s) => s.Numbers[i] = Trend(c.State.Traits);
            case "frequency_dropping": return (c, s) => s.Flags[i] = Trend(c.State.Traits) >= 1.5;
            case "weekend_order_share": return (c, s) => s.Numbers[i] = c.State.Traits.Orders == 0 ? double.NaN : (double)c.State.Traits.WeekendOrders / c.State.Traits.Orders;
            case "preferred_channel": return (c, s) => s.Texts[i] = ArgMax(c.State.Traits.OrdersByChannel);
            case "response_rate":
                {
                    var ch = Ch(0);
                    return (c, s) => s.Numbers[i] = Rate(c.State.Traits, ch);
                }

            case "best_response_channel":
                return (c, s) =>
                {
                    var t = c.State.Traits;
                    var best = -1;
                    for (var ch = 0; ch < ComputedTraitState.Channels; ch++)
                    {
                        if (t.Delivered[ch] >= 3 && (best < 0 || Rate(t, ch) > Rate(t, best)))
                        {
                            best = ch;
                        }
                    }

                    s.Texts[i] = best < 0 ? null : BuiltInTraits.Channels[best];
                };
            case "last_engagement":
                {
                    var ch = Ch(0);
                    return (c, s) => s.Numbers[i] = Ms(c.State.Traits.LastEngagementMs[ch]);
                }

            case "category_affinity":
                {
                    var category = slot.Arguments[0];
                    return (c, s) =>
                    {
                        var spend = c.State.Traits.CategorySpend;
                        var total = 0d;
                        foreach (var v in spend.Values)
                        {
                            total += v;
                        }

                        s.Numbers[i] = total <= 0 ? double.NaN : spend.GetValueOrDefault(category) / total;
                    };
                }

            case "top_category":
                return (c, s) =>
                {
                    string? best = null;
                    var max = 0d;
                    foreach (var (k, v) in c.State.Traits.CategorySpend)
                    {
                        if (v > max || (v == max && best is not null && string.CompareOrdinal(k, best) < 0))
                        {
                            (best, max) = (k, v);
                        }
                    }

                    s.Texts[i] = best;
                };
            case "lifecycle_stage": return (c, s) => s.Texts[i] = Lifecycle(c, s, o, i);
            case "tier":
                return (c, s) =>
                {
                    var net = c.Profile?.Traits.NetSpend ?? 0;
                    var t = o.TierThresholds;
                    s.Texts[i] = t.Count >= 3 && net >= t[2] ? "platinum" : t.Count >= 2 && net >= t[1] ? "gold" : t.Count >= 1 && net >= t[0] ? "silver" : "bronze";
                };
            default:
                return null;
        }
    }

    private static double Rate(ComputedTraitState t, int ch) => ch < 0 || t.Delivered[ch] == 0 ? double.NaN : Math.Min(1, (double)t.Responded[ch] / t.Delivered[ch]);

    private static double Trend(ComputedTraitState t) => t.Intervals < 2 || t.MeanIntervalDays <= 0 ? double.NaN : t.RecentIntervalDays / t.MeanIntervalDays;

    private static string? ArgMax(int[] counts)
    {
        var best = -1;
        for (var ch = 0; ch < counts.Length; ch++)
        {
            if (counts[ch] > 0 && (best < 0 || counts[ch] > counts[best]))
            {
                best = ch;
            }
        }

        return best < 0 ? null : BuiltInTraits.Channels[best];
    }

    private static double Score(double value, double[] thresholds)
    {
        var score = 1;
        foreach (var t in thresholds)
        {
            if (value >= t)
            {
                score++;
            }
        }

        return score;
    }

    private static double Recency(CustomerTraitContext c, RuleSubject s, SegmentOptions o, int slot)
    {
        var last = c.State.Traits.LastOrderMs;
        if (last == 0)
        {
            return double.NaN;
        }

        var days = (c.Now.ToUnixTimeMilliseconds() - last) / (double)RuleTime.DayMs;
        s.Expires[slot] = long.MaxValue;
        var score = 5;
        foreach (var t in o.RecencyThresholds)
        {
            if (days >= t)
            {
                score--;
            }
            else
            {
                s.Expires[slot] = last + (t * RuleTime.DayMs);
                break;
            }
        }

        return Math.Max(1, score);
    }

    private static string Lifecycle(CustomerTraitContext c, RuleSubject s, SegmentOptions o, int slot)
    {
        var now = c.Now.ToUnixTimeMilliseconds();
        var t = c.State.Traits;
        s.Expires[slot] = long.MaxValue;
        void Until(long at)
        {
            if (at > now)
            {
                s.Expires[slot] = Math.Min(s.Expires[slot], at);
            }
        }

        if (t.Orders == 0)
        {
            var first = c.Profile?.FirstSeen.ToUnixTimeMilliseconds() ?? now;
            Until(first + (o.NewDays * RuleTime.DayMs));
            return now - first < o.NewDays * RuleTime.DayMs ? "new" : "prospect";
        }

        var atRiskDays = Math.Min(o.LapsedDays, Math.Max(o.AtRiskDays, t.Intervals > 0 ? 2.5 * t.MeanIntervalDays : 0));
        var atRisk = t.LastOrderMs + (long)(atRiskDays * RuleTime.DayMs);
        var lapsed = t.LastOrderMs + (o.LapsedDays * RuleTime.DayMs);
        Until(atRisk);
        Until(lapsed);
        if (now >= lapsed)
        {
            return "lapsed";
        }

        if (now >= atRisk)
        {
            return "at_risk";
        }

        if (t.ReactivatedAtMs > 0 && now - t.ReactivatedAtMs < o.ReactivatedDays * RuleTime.DayMs)
        {
            Until(t.ReactivatedAtMs + (o.ReactivatedDays * RuleTime.DayMs));
            return "reactivated";
        }

        var newUntil = t.FirstOrderMs + (o.NewDays * RuleTime.DayMs);
        Until(newUntil);
        return now < newUntil ? "new" : "active";
    }
}

/// <summary>Applies one event to a customer's segmentation state in O(1): computed traits and window counters.</summary>
internal static class TraitUpdater
{
    public static void Apply(CustomerSegmentState state, LoyaltyEvent e, LoyaltyProgram program, SegmentOptions options, DateTimeZone zone, SegmentCatalog catalog, Instant now)
    {
        var t = state.Traits;
        var at = e.OccurredAt.ToUnixTimeMilliseconds();
        var ch = (int)e.Channel;
        double value = 0;
        switch (e)
        {
            case OrderPlaced o:
                value = ToBase(program, o.Currency, o.Subtotal - o.Discount);
                if (t.LastOrderMs > 0 && at > t.LastOrderMs)
                {
                    var gap = (at - t.LastOrderMs) / (double)RuleTime.DayMs;
                    t.Intervals++;
                    t.MeanIntervalDays += (gap - t.MeanIntervalDays) / t.Intervals;
                    t.RecentIntervalDays = t.Intervals == 1 ? gap : (0.5 * gap) + (0.5 * t.RecentIntervalDays);
                    if (gap >= options.AtRiskDays)
                    {
                        t.ReactivatedAtMs = at;
                    }
                }

                t.Orders++;
                t.Monetary += value;
                t.FirstOrderMs = t.FirstOrderMs == 0 ? at : Math.Min(t.FirstOrderMs, at);
                t.LastOrderMs = Math.Max(t.LastOrderMs, at);
                var day = (int)(((RuleTime.LocalDay(at, zone) % 7) + 7 + 3) % 7);
                if (day >= 5)
                {
                    t.WeekendOrders++;
                }

                t.OrdersByChannel[ch]++;
                t.LastEngagementMs[ch] = Math.Max(t.LastEngagementMs[ch], at);
                foreach (var line in o.Lines)
                {
                    var category = (line.Category ?? "other").ToLowerInvariant();
                    t.CategorySpend[category] = t.CategorySpend.GetValueOrDefault(category) + (double)ToBase(program, o.Currency, line.LineTotal);
                }

                break;
            case Interaction i:
                switch (i.InteractionKind)
                {
                    case InteractionKind.MessageDelivered:
                        t.Delivered[ch]++;
                        break;
                    case InteractionKind.MessageOpened or InteractionKind.MessageClicked:
                        t.Responded[ch]++;
                        t.Delivered[ch] = Math.Max(t.Delivered[ch], t.Responded[ch]);
                        t.LastEngagementMs[ch] = Math.Max(t.LastEngagementMs[ch], at);
                        break;
                    case InteractionKind.AppVisit or InteractionKind.SiteVisit or InteractionKind.StoreVisit:
                        t.LastEngagementMs[ch] = Math.Max(t.LastEngagementMs[ch], at);
                        break;
                }

                break;
            case OrderReturned r:
                value = (double)(r.RefundAmount ?? 0);
                break;
            case CartAbandoned c:
                value = ToBase(program, c.Currency, c.Value);
                break;
            case ReviewSubmitted r:
                value = r.Rating;
                break;
        }

        foreach (var series in catalog.Series)
        {
            if (Matches(series, e, catalog.SourceKinds))
            {
                Add(state, series, e, value, catalog.Schema.Retention(series.Id), now);
            }
        }
    }

    internal static double ToBase(LoyaltyProgram program, Currency currency, decimal amount) =>
        (double)(currency == program.BaseCurrency ? amount : amount * program.ExchangeRates.GetValueOrDefault(currency.Code, 1m));

    private static bool Matches(WindowSeries series, LoyaltyEvent e, IReadOnlyDictionary<string, string[]> sourceKinds)
    {
        if (!sourceKinds.TryGetValue(series.Source, out var kinds) || !kinds.Contains(e.Kind))
        {
            return false;
        }

        if (e is CustomEvent c && c.Name != series.Source)
        {
            return false;
        }

        if (e is SupportTicket { Status: TicketStatus.Closed })
        {
            return false;
        }

        foreach (var (property, expected) in series.Filters)
        {
            if (!Values(e, property).Any(v => string.Equals(v, expected, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<string> Values(LoyaltyEvent e, string property)
    {
        if (property == "channel")
        {
            return [BuiltInTraits.Channels[(int)e.Channel]];
        }

        return (e, property) switch
        {
            (OrderPlaced o, "category") => o.Lines.Select(l => (l.Category ?? "other").ToLowerInvariant()).Distinct(),
            (Interaction i, "kind") => [BuiltInTraits.InteractionKinds[(int)i.InteractionKind]],
            (CustomEvent c, _) when c.Properties.TryGetValue(property, out var v) => v.ValueKind switch
            {
                JsonValueKind.String => [v.GetString()!],
                JsonValueKind.True => ["true"],
                JsonValueKind.False => ["false"],
                _ => [],
            },
            _ => [],
        };
    }

    private static void Add(CustomerSegmentState state, WindowSeries series, LoyaltyEvent e, double value, Duration retention, Instant now)
    {
        if (!state.Series.TryGetValue(series.Key, out var s))
        {
            state.Series[series.Key] = s = new WindowSeriesState();
        }

        var bucketMs = (long)series.Bucket.TotalMilliseconds;
        var at = e.OccurredAt.ToUnixTimeMilliseconds();
        var start = RuleTime.FloorDiv(at, bucketMs) * bucketMs;
        var horizon = Math.Max(now.ToUnixTimeMilliseconds(), at) - (long)retention.TotalMilliseconds;
        if (start + bucketMs <= horizon)
        {
            return;
        }

        var buckets = s.Buckets;
        var index = buckets.Count - 1;
        while (index >= 0 && buckets[index].Start > start)
        {
            index--;
        }

        if (index >= 0 && buckets[index].Start == start)
        {
            var b = buckets[index];
            b.Count++;
            b.Sum += value;
            b.Min = Math.Min(b.Min, value);
            b.Max = Math.Max(b.Max, value);
            buckets[index] = b;
        }
        else
        {
            buckets.Insert(index + 1, new WindowBucket { Start = start, Count = 1, Sum = value, Min = value, Max = value });
        }

        var drop = 0;
        while (drop < buckets.Count && buckets[drop].Start + bucketMs <= horizon)
        {
            drop++;
        }

        if (drop > 0)
        {
            buckets.RemoveRange(0, drop);
        }

        if (series.DistinctProperty is { } property)
        {
            s.LastSeen ??= new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var v in Values(e, property))
            {
                s.LastSeen[v] = Math.Max(s.LastSeen.GetValueOrDefault(v, long.MinValue), start);
            }

            foreach (var old in s.LastSeen.Where(kv => kv.Value + bucketMs <= horizon).Select(kv => kv.Key).ToArray())
            {
                s.LastSeen.Remove(old);
            }
        }
    }
}

/// <summary>A customer's window counters as the compiled rules read them; reused across customers.</summary>
internal sealed class SeriesWindows : IRuleWindows
{
    private WindowSeriesState?[] bySeries = [];
    private long[] bucketMs = [];

    public void Bind(SegmentCatalog catalog, CustomerSegmentState state)
    {
        var all = catalog.Schema.Series;
        if (bySeries.Length < all.Count)
        {
            bySeries = new WindowSeriesState?[all.Count];
            bucketMs = new long[all.Count];
        }

        for (var i = 0; i < all.Count; i++)
        {
            bySeries[i] = state.Series.Count == 0 ? null : state.Series.GetValueOrDefault(all[i].Key);
            bucketMs[i] = (long)all[i].Bucket.TotalMilliseconds;
        }
    }

    public double Aggregate(int series, AggregateKind kind, long fromMs, long nowMs)
    {
        var s = series < bySeries.Length ? bySeries[series] : null;
        if (s is null)
        {
            return kind is AggregateKind.Count or AggregateKind.Sum or AggregateKind.Distinct ? 0 : double.NaN;
        }

        var width = bucketMs[series];
        if (kind == AggregateKind.Distinct)
        {
            var distinct = 0;
            if (s.LastSeen is { } seen)
            {
                foreach (var v in seen.Values)
                {
                    if (v + width > fromMs && v <= nowMs)
                    {
                        distinct++;
                    }
                }
            }

            return distinct;
        }

        double count = 0, sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        var buckets = s.Buckets;
        for (var i = buckets.Count - 1; i >= 0; i--)
        {
            var b = buckets[i];
            if (b.Start + width <= fromMs)
            {
                break;
            }

            if (b.Start > nowMs)
            {
                continue;
            }

            count += b.Count;
            sum += b.Sum;
            min = Math.Min(min, b.Min);
            max = Math.Max(max, b.Max);
        }

        return kind switch
        {
            AggregateKind.Count => count,
            AggregateKind.Sum => sum,
            AggregateKind.Avg => count == 0 ? double.NaN : sum / count,
            AggregateKind.Min => count == 0 ? double.NaN : min,
            _ => count == 0 ? double.NaN : max,
        };
    }

    public long NextExpiry(int series, long windowMs, long nowMs)
    {
        var s = series < bySeries.Length ? bySeries[series] : null;
        if (s is null)
        {
            return long.MaxValue;
        }

        var width = bucketMs[series];
        var from = nowMs - windowMs;
        var next = long.MaxValue;
        foreach (var b in s.Buckets)
        {
            if (b.Start + width > from)
            {
                next = b.Start + width + windowMs;
                break;
            }
        }

        if (s.LastSeen is { } seen)
        {
            foreach (var v in seen.Values)
            {
                if (v + width > from)
                {
                    next = Math.Min(next, v + width + windowMs);
                }
            }
        }

        return next;
    }
}
