using Loyalty.Sdk.Events;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>The rule schema of journey filters and conditions, and the deterministic hashing of splits.</summary>
public static class JourneyRules
{
    /// <summary>Creates the schema journey rules are checked against.</summary>
    public static RuleSchema CreateSchema(Currency baseCurrency)
    {
        var schema = new RuleSchema(baseCurrency);
        schema.AddTrait(new RuleTraitDefinition("event_kind", RuleType.String, "The triggering event's kind."));
        schema.AddTrait(new RuleTraitDefinition("event_channel", RuleType.String, "The triggering event's channel."));
        schema.AddTrait(new RuleTraitDefinition("event_value", RuleType.Money, "The triggering order's or cart's total."));
        schema.AddTrait(new RuleTraitDefinition("orders", RuleType.Number, "Orders placed."));
        schema.AddTrait(new RuleTraitDefinition("net_spend", RuleType.Money, "Spend net of returns."));
        schema.AddTrait(new RuleTraitDefinition("abandoned_carts", RuleType.Number, "Carts abandoned."));
        schema.AddTrait(new RuleTraitDefinition("interactions", RuleType.Number, "Interactions (opens, clicks, visits)."));
        return schema;
    }

    /// <summary>A stable bucket 0–99 of a customer for a salt (journey id, or tenant for the global control group):
    /// 64-bit FNV-1a over the salt and the customer id, so assignment is sticky and deterministic across processes.</summary>
    public static int Bucket(string salt, CustomerId customer)
    {
        ArgumentNullException.ThrowIfNull(salt);
        var hash = 14695981039346656037UL;
        foreach (var ch in salt)
        {
            hash = (hash ^ ch) * 1099511628211UL;
        }

        hash = (hash ^ 0x1f) * 1099511628211UL;
        foreach (var ch in customer.Value ?? string.Empty)
        {
            hash = (hash ^ ch) * 1099511628211UL;
        }

        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return (int)(hash % 100);
    }

    internal static void Fill(CompiledRule rule, RuleSubject subject, LoyaltyEvent? e, CustomerProfile? profile)
    {
        foreach (var slot in rule.Slots)
        {
            var i = slot.Index;
            switch (slot.Trait)
            {
                case "event_kind": subject.Texts[i] = e?.Kind; break;
                case "event_channel": subject.Texts[i] = e is null ? null : ChannelName(e.Channel); break;
                case "event_value":
                    subject.Numbers[i] = e switch
                    {
                        OrderPlaced o => (double)o.Total,
                        CartAbandoned c => (double)c.Value,
                        _ => double.NaN,
                    };
                    break;
                case "orders": subject.Numbers[i] = profile?.Traits.Orders ?? 0; break;
                case "net_spend": subject.Numbers[i] = (double)(profile?.Traits.NetSpend ?? 0); break;
                case "abandoned_carts": subject.Numbers[i] = profile?.Traits.AbandonedCarts ?? 0; break;
                case "interactions": subject.Numbers[i] = profile?.Traits.Interactions ?? 0; break;
                default:
                    subject.Numbers[i] = double.NaN;
                    subject.Texts[i] = null;
                    subject.Flags[i] = false;
                    break;
            }
        }
    }

    /// <summary>A channel as rule languages spell it (<c>web</c>, <c>app</c>, <c>pos</c>, <c>whatsapp</c>…).</summary>
    internal static string ChannelName(Channel c) => c switch
    {
        Channel.Web => "web",
        Channel.App => "app",
        Channel.Pos => "pos",
        Channel.Email => "email",
        Channel.Sms => "sms",
        Channel.Push => "push",
        Channel.WhatsApp => "whatsapp",
        _ => "call_center",
    };

    internal static DateTimeZone Zone(string? id, string fallback) =>
        (id is null ? null : DateTimeZoneProviders.Tzdb.GetZoneOrNull(id)) ?? DateTimeZoneProviders.Tzdb.GetZoneOrNull(fallback) ?? DateTimeZone.Utc;
}
