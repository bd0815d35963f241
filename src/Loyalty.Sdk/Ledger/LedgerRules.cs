using Loyalty.Sdk.Events;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>What an earning rule's condition can read about the customer besides the order: the profile (traits
/// and birth date, as of this order) and the segments the customer belongs to (as of before this order — segments are
/// evaluated after the ledger).</summary>
public sealed record EarningFacts
{
    /// <summary>The customer's profile.</summary>
    public CustomerProfile? Profile { get; init; }

    /// <summary>Ids of the segments the customer is a member of.</summary>
    public IReadOnlySet<string> Segments { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Whether <see cref="Profile"/> already counts the order being evaluated (true in the ingest pipeline,
    /// where the profile stage runs first; false for a dry run). The order's own share is then taken off, so that
    /// <c>orders</c> and <c>net_spend</c> mean "before this order" in both.</summary>
    public bool ProfileIncludesOrder { get; init; }
}

/// <summary>
/// The rule language of earning rules (<c>when.rule</c>): the schema it is checked against and how an order fills it.
/// Traits: <c>order_value</c> (eligible spend, money), <c>order_total</c> (money), <c>order_channel</c>,
/// <c>order_items</c>, <c>order_has_category("…")</c>, <c>order_has_sku("…")</c>, <c>first_purchase</c>,
/// <c>tier</c>, <c>points_available</c>, <c>lifetime_points</c>, <c>orders</c>, <c>net_spend</c>,
/// <c>birth_date</c> (so <c>days_until_birthday()</c> works) and <c>in_segment("id")</c> for the program's segments.
/// </summary>
public static class LedgerRules
{
    /// <summary>Creates the schema earning-rule conditions of <paramref name="program"/> are checked against.</summary>
    public static RuleSchema CreateSchema(LoyaltyProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var schema = new RuleSchema(program.BaseCurrency, program.ExchangeRates);
        schema.AddTrait(new RuleTraitDefinition("order_value", RuleType.Money, "The order's eligible spend (after exclusions, discounts and points paid)."));
        schema.AddTrait(new RuleTraitDefinition("order_total", RuleType.Money, "The order's total."));
        schema.AddTrait(new RuleTraitDefinition("order_channel", RuleType.String, "The order's channel (web, app, pos, …)."));
        schema.AddTrait(new RuleTraitDefinition("order_items", RuleType.Number, "Units in the order."));
        schema.AddTrait(new RuleTraitDefinition("order_has_category", RuleType.Boolean, "Whether a line of the order is in the category.") { Parameters = [new RuleParameter("category")] });
        schema.AddTrait(new RuleTraitDefinition("order_has_sku", RuleType.Boolean, "Whether a line of the order is the SKU.") { Parameters = [new RuleParameter("sku")] });
        schema.AddTrait(new RuleTraitDefinition("first_purchase", RuleType.Boolean, "Whether this is the customer's first order."));
        schema.AddTrait(new RuleTraitDefinition("tier", RuleType.String, "The customer's effective tier when the order is placed."));
        schema.AddTrait(new RuleTraitDefinition("points_available", RuleType.Number, "Spendable points of the primary currency before the order."));
        schema.AddTrait(new RuleTraitDefinition("lifetime_points", RuleType.Number, "Points of the primary currency earned over the customer's lifetime, before the order."));
        schema.AddTrait(new RuleTraitDefinition("orders", RuleType.Number, "Orders placed before this one."));
        schema.AddTrait(new RuleTraitDefinition("net_spend", RuleType.Money, "Spend net of returns before this order."));
        schema.AddTrait(new RuleTraitDefinition("birth_date", RuleType.Date, "The customer's birth date."));
        foreach (var s in program.Segments)
        {
            schema.AddSegment(s.Id);
        }

        return schema;
    }

    /// <summary>Fills the slots of <paramref name="rule"/> for one order.</summary>
    internal static void Fill(CompiledRule rule, RuleSubject subject, OrderPlaced order, decimal eligible, decimal rate, string? tier, bool firstPurchase, LocalDate? birthDate, CustomerLedger? state, string primary, EarningFacts? facts, Instant now)
    {
        foreach (var slot in rule.Slots)
        {
            var i = slot.Index;
            switch (slot.Trait)
            {
                case "order_value": subject.Numbers[i] = (double)eligible; break;
                case "order_total": subject.Numbers[i] = (double)(order.Total * rate); break;
                case "order_channel": subject.Texts[i] = Journeys.JourneyRules.ChannelName(order.Channel); break;
                case "order_items": subject.Numbers[i] = order.Lines.Sum(l => l.Quantity); break;
                case "order_has_category": subject.Flags[i] = order.Lines.Any(l => string.Equals(l.Category, slot.Arguments[0], StringComparison.OrdinalIgnoreCase)); break;
                case "order_has_sku": subject.Flags[i] = order.Lines.Any(l => string.Equals(l.Sku, slot.Arguments[0], StringComparison.OrdinalIgnoreCase)); break;
                case "first_purchase": subject.Flags[i] = firstPurchase; break;
                case "tier": subject.Texts[i] = tier; break;
                case "points_available": subject.Numbers[i] = state is null ? 0 : LedgerEngine.Spendable(state, primary, now); break;
                case "lifetime_points": subject.Numbers[i] = state?.Balance(primary).LifetimeEarned ?? 0; break;
                case "orders":
                    subject.Numbers[i] = facts?.Profile is { } po ? po.Traits.Orders - (facts.ProfileIncludesOrder ? 1 : 0) : (firstPurchase ? 0 : double.NaN);
                    break;
                case "net_spend":
                    subject.Numbers[i] = facts?.Profile is { } ps ? (double)(ps.Traits.NetSpend - (facts.ProfileIncludesOrder ? (order.Subtotal - order.Discount) * rate : 0m)) : (firstPurchase ? 0 : double.NaN);
                    break;
                case "birth_date": subject.SetDate(i, birthDate ?? facts?.Profile?.BirthDate); break;
                case RuleSchema.SegmentTrait: subject.Flags[i] = facts?.Segments.Contains(slot.Arguments[0]) == true; break;
                default:
                    subject.Numbers[i] = double.NaN;
                    subject.Texts[i] = null;
                    subject.Flags[i] = false;
                    break;
            }
        }
    }
}
