using System.Text.Json;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Segments;

/// <summary>
/// The built-in traits and event sources rules can use, how each is computed, and how it merges when two customers
/// merge (see <c>docs/segments.md</c>).
/// </summary>
public static class BuiltInTraits
{
    private static readonly string[] Any = [];
    private static readonly string[] Orders = [EventKinds.OrderPlaced, EventKinds.OrderReturned, EventKinds.OrderCancelled];
    private static readonly string[] Profile = [EventKinds.SignedUp, EventKinds.ProfileUpdated];
    private static readonly string[] Messages = [EventKinds.Interaction];

    /// <summary>The channels, as rule symbols (<c>web</c>, <c>app</c>, <c>pos</c>, <c>email</c>, <c>sms</c>, <c>push</c>,
    /// <c>whats_app</c>, <c>call_center</c>).</summary>
    public static IReadOnlyList<string> Channels { get; } = Enum.GetValues<Channel>().Select(Snake).ToArray();

    /// <summary>Interaction kinds, as rule symbols.</summary>
    public static IReadOnlyList<string> InteractionKinds { get; } = Enum.GetValues<InteractionKind>().Select(Snake).ToArray();

    /// <summary>Lifecycle stages.</summary>
    public static IReadOnlyList<string> LifecycleStages { get; } = ["prospect", "new", "active", "at_risk", "lapsed", "reactivated"];

    /// <summary>How each built-in trait merges when two customers merge: <c>sum</c>, <c>min</c>, <c>max</c>,
    /// <c>survivor_first</c> or <c>recomputed</c> (derived from merged state).</summary>
    public static IReadOnlyDictionary<string, string> MergePolicies { get; } = Definitions().ToDictionary(d => d.Trait.Name, d => d.Merge, StringComparer.Ordinal);

    /// <summary>The built-in trait definitions.</summary>
    public static IReadOnlyList<RuleTraitDefinition> Traits { get; } = Definitions().Select(d => d.Trait).ToArray();

    /// <summary>The snake_case symbol of an enum value.</summary>
    public static string Snake<TEnum>(TEnum value)
        where TEnum : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>The event sources of <paramref name="program"/>: orders, returns, interactions, carts, tickets, reviews,
    /// signups, and one per custom event.</summary>
    public static IReadOnlyList<RuleSourceDefinition> Sources(LoyaltyProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var channel = new Dictionary<string, IReadOnlyList<string>?> { ["channel"] = Channels };
        var list = new List<RuleSourceDefinition>
        {
            new("orders", "Orders placed; value = merchandise value after discounts, in the base currency.")
            {
                EventKinds = [EventKinds.OrderPlaced], ValueType = RuleType.Money,
                Filters = new Dictionary<string, IReadOnlyList<string>?> { ["channel"] = Channels, ["category"] = null },
            },
            new("returns", "Returns received; value = refund.") { EventKinds = [EventKinds.OrderReturned], ValueType = RuleType.Money, Filters = channel },
            new("interactions", "Message interactions and visits.")
            {
                EventKinds = [EventKinds.Interaction],
                Filters = new Dictionary<string, IReadOnlyList<string>?> { ["channel"] = Channels, ["kind"] = InteractionKinds },
            },
            new("carts", "Carts abandoned; value = cart value.") { EventKinds = [EventKinds.CartAbandoned], ValueType = RuleType.Money, Filters = channel },
            new("tickets", "Support tickets opened.") { EventKinds = [EventKinds.SupportTicket], Filters = channel },
            new("reviews", "Reviews; value = rating 1 to 5.") { EventKinds = [EventKinds.ReviewSubmitted], ValueType = RuleType.Number, Filters = channel },
            new("signups", "Program sign-ups.") { EventKinds = [EventKinds.SignedUp], Filters = channel },
        };
        foreach (var custom in program.CustomEvents)
        {
            if (list.Any(s => s.Name == custom.Name))
            {
                continue;
            }

            var filters = new Dictionary<string, IReadOnlyList<string>?> { ["channel"] = Channels };
            foreach (var (name, type) in custom.Properties)
            {
                if (type is CustomPropertyType.String or CustomPropertyType.Boolean)
                {
                    filters[name] = type == CustomPropertyType.Boolean ? ["true", "false"] : null;
                }
            }

            list.Add(new RuleSourceDefinition(custom.Name, $"Custom event '{custom.Name}'.") { EventKinds = [EventKinds.Custom], Filters = filters });
        }

        return list;
    }

    /// <summary>The schema rules of <paramref name="program"/> are checked against: built-in traits and sources, the
    /// providers' traits (which replace built-ins of the same name), and the segment ids.</summary>
    public static RuleSchema CreateSchema(LoyaltyProgram program, IEnumerable<ICustomerTraitProvider>? providers = null, IEnumerable<string>? segmentIds = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        var schema = new RuleSchema(program.BaseCurrency, program.ExchangeRates);
        foreach (var trait in Traits)
        {
            schema.AddTrait(trait);
        }

        foreach (var provider in providers ?? [new ReachabilityTraitProvider()])
        {
            foreach (var trait in provider.Traits)
            {
                schema.AddTrait(trait);
            }
        }

        foreach (var source in Sources(program))
        {
            schema.AddSource(source);
        }

        foreach (var id in segmentIds ?? program.Segments.Select(s => s.Id))
        {
            schema.AddSegment(id);
        }

        return schema;
    }

    private static IEnumerable<(RuleTraitDefinition Trait, string Merge)> Definitions()
    {
        (RuleTraitDefinition, string) T(string name, RuleType type, string description, string[] changedBy, string merge, bool timeDependent = false, params RuleParameter[] parameters) =>
            (new RuleTraitDefinition(name, type, description) { ChangedBy = changedBy, TimeDependent = timeDependent, Parameters = parameters }, merge);

        var channel = new RuleParameter("channel", Channels);
        yield return T("given_name", RuleType.String, "Given name.", Profile, "survivor_first");
        yield return T("locale", RuleType.String, "BCP-47 locale.", Profile, "survivor_first");
        yield return T("country", RuleType.String, "Country of the postal address (ISO 3166-1 alpha-2).", Profile, "survivor_first");
        yield return T("time_zone", RuleType.String, "IANA time zone.", Profile, "survivor_first");
        yield return T("birth_date", RuleType.Date, "Date of birth.", Profile, "survivor_first");
        yield return T("signed_up_at", RuleType.Timestamp, "When the customer joined the program.", Profile, "min");
        yield return T("is_member", RuleType.Boolean, "Whether the customer joined the program.", Profile, "max");
        yield return T("first_seen", RuleType.Timestamp, "First event.", Any, "min");
        yield return T("last_seen", RuleType.Timestamp, "Last event.", Any, "max");
        yield return T("orders", RuleType.Number, "Orders placed (lifetime).", Orders, "sum");
        yield return T("gross_spend", RuleType.Money, "Merchandise value of orders placed.", Orders, "sum");
        yield return T("net_spend", RuleType.Money, "Gross spend minus returns and cancellations.", Orders, "sum");
        yield return T("returns", RuleType.Number, "Returns received.", Orders, "sum");
        yield return T("return_rate", RuleType.Number, "Returns per order.", Orders, "recomputed");
        yield return T("cancelled_orders", RuleType.Number, "Orders cancelled in full.", Orders, "sum");
        yield return T("aov", RuleType.Money, "Average order value.", Orders, "recomputed");
        yield return T("first_order", RuleType.Timestamp, "First order.", Orders, "min");
        yield return T("last_order", RuleType.Timestamp, "Last order.", Orders, "max");
        yield return T("interactions", RuleType.Number, "Message interactions and visits.", Messages, "sum");
        yield return T("last_interaction", RuleType.Timestamp, "Last interaction.", Messages, "max");
        yield return T("abandoned_carts", RuleType.Number, "Carts abandoned.", [EventKinds.CartAbandoned], "sum");
        yield return T("support_tickets", RuleType.Number, "Support tickets opened.", [EventKinds.SupportTicket], "sum");
        yield return T("reviews", RuleType.Number, "Reviews submitted.", [EventKinds.ReviewSubmitted], "sum");
        yield return T("last_channel", RuleType.String, "Channel of the last event.", Any, "survivor_first");
        yield return T("recency_days", RuleType.Number, "Whole days since the last order (R of RFM).", Orders, "recomputed", timeDependent: true);
        yield return T("frequency", RuleType.Number, "Orders placed (F of RFM).", Orders, "sum");
        yield return T("monetary", RuleType.Money, "Net spend (M of RFM).", Orders, "sum");
        yield return T("rfm_r", RuleType.Number, "Recency score 1–5 (5 = most recent).", Orders, "recomputed", timeDependent: true);
        yield return T("rfm_f", RuleType.Number, "Frequency score 1–5.", Orders, "recomputed");
        yield return T("rfm_m", RuleType.Number, "Monetary score 1–5.", Orders, "recomputed");
        yield return T("rfm_score", RuleType.Number, "rfm_r + rfm_f + rfm_m (3–15).", Orders, "recomputed", timeDependent: true);
        yield return T("purchase_interval", RuleType.Number, "Mean days between orders.", Orders, "recomputed");
        yield return T("recent_purchase_interval", RuleType.Number, "Recent days between orders (exponentially weighted).", Orders, "recomputed");
        yield return T("purchase_interval_trend", RuleType.Number, "recent_purchase_interval / purchase_interval: above 1 means buying less often.", Orders, "recomputed");
        yield return T("frequency_dropping", RuleType.Boolean, "Buying markedly less often than usual (trend ≥ 1.5 over at least 2 intervals).", Orders, "recomputed");
        yield return T("weekend_order_share", RuleType.Number, "Share of orders placed on Saturday or Sunday (customer's time zone).", Orders, "recomputed");
        yield return T("preferred_channel", RuleType.String, "Channel of most orders.", Orders, "recomputed");
        yield return T("response_rate", RuleType.Number, "Messages opened or clicked / delivered on the channel.", Messages, "recomputed", false, channel);
        yield return T("best_response_channel", RuleType.String, "Channel with the best response rate (at least 3 delivered).", Messages, "recomputed");
        yield return T("last_engagement", RuleType.Timestamp, "Last engagement (order, open, click, visit) on the channel.", [EventKinds.OrderPlaced, EventKinds.Interaction], "max", false, channel);
        yield return T("category_affinity", RuleType.Number, "Share of spend in the category (0–1).", Orders, "recomputed", false, new RuleParameter("category"));
        yield return T("top_category", RuleType.String, "Category with the most spend.", Orders, "recomputed");
        yield return T("lifecycle_stage", RuleType.String, "prospect, new, active, at_risk, lapsed or reactivated.", Orders, "recomputed", timeDependent: true);
        yield return T("tier", RuleType.String, "bronze, silver, gold or platinum by net spend (until a ledger capability provides its own).", Orders, "recomputed");
    }
}
