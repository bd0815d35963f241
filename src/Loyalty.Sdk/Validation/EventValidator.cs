using System.Globalization;
using System.Text.Json;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Validation;

/// <summary>
/// Checks an event against the rules of the wire format and of the tenant's program. Every problem is reported with
/// the path of its field; an event with any problem is not applied at all.
/// </summary>
public static class EventValidator
{
    /// <summary>Validates <paramref name="e"/>; returns the problems (empty when valid).</summary>
    /// <param name="e">The event.</param>
    /// <param name="program">The tenant's program.</param>
    /// <param name="now">The engine clock's instant.</param>
    /// <param name="maxFutureSkew">How far in the future an event may be dated.</param>
    /// <param name="prefix">Path prefix, e.g. <c>$[3]</c> in a batch.</param>
    public static IReadOnlyList<ValidationError> Validate(LoyaltyEvent e, LoyaltyProgram program, Instant now, Duration maxFutureSkew, string prefix = "$")
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(program);
        var v = new Collector(prefix);

        if (e.Id.Value is null)
        {
            v.Add("id", "required", "The event id is required.");
        }

        if (e.Tenant.Value is null)
        {
            v.Add("tenant", "required", "The tenant is required.");
        }

        if (e.OccurredAt > now + maxFutureSkew)
        {
            v.Add("occurredAt", "in_future", $"The event is dated {e.OccurredAt}, after the engine clock ({now}) plus the allowed skew ({maxFutureSkew}).");
        }

        v.Enum("channel", e.Channel);
        ValidateIdentifiers(e, program, v);

        switch (e)
        {
            case OrderPlaced o:
                ValidateOrder(o, program, v);
                break;
            case OrderCompleted o:
                v.Text("orderId", o.OrderId);
                break;
            case OrderReturned r:
                v.Text("orderId", r.OrderId);
                v.Text("returnId", r.ReturnId);
                ValidateLineQuantities(r.Lines, v);
                if (r.RefundAmount < 0)
                {
                    v.Add("refundAmount", "negative", "The refund amount cannot be negative.");
                }

                break;
            case OrderCancelled c:
                v.Text("orderId", c.OrderId);
                ValidateLineQuantities(c.Lines, v);
                break;
            case SignedUp signedUp when signedUp.Profile is not null:
                ValidateProfile(signedUp.Profile, "profile", now, v);
                break;
            case ProfileUpdated p:
                if (p.Profile is null)
                {
                    v.Add("profile", "required", "The profile is required.");
                }
                else
                {
                    ValidateProfile(p.Profile, "profile", now, v);
                }

                break;
            case ConsentChanged c:
                v.Enum("contactChannel", c.ContactChannel);
                v.Enum("purpose", c.Purpose);
                v.Enum("status", c.Status);
                break;
            case Interaction i:
                v.Enum("interactionKind", i.InteractionKind);
                break;
            case CartAbandoned c:
                v.Text("cartId", c.CartId);
                v.Currency("currency", c.Currency);
                v.NotNegative("value", c.Value);
                break;
            case SupportTicket t:
                v.Text("ticketId", t.TicketId);
                v.Enum("status", t.Status);
                if (t.Satisfaction is { } s && s is < 1 or > 5)
                {
                    v.Add("satisfaction", "out_of_range", "Satisfaction must be from 1 to 5.");
                }

                break;
            case ReviewSubmitted r:
                v.Text("sku", r.Sku);
                if (r.Rating is < 1 or > 5)
                {
                    v.Add("rating", "out_of_range", "The rating must be from 1 to 5.");
                }

                break;
            case CustomEvent c:
                ValidateCustom(c, program, v);
                break;
        }

        return v.Errors;
    }

    private static void ValidateIdentifiers(LoyaltyEvent e, LoyaltyProgram program, Collector v)
    {
        if (e.Identifiers is null || e.Identifiers.Count == 0)
        {
            v.Add("identifiers", "required", "At least one identifier is required to know whose event this is.");
            return;
        }

        for (var i = 0; i < e.Identifiers.Count; i++)
        {
            var id = e.Identifiers[i];
            if (id is null)
            {
                v.Add($"identifiers[{i}]", "required", "An identifier cannot be null.");
                continue;
            }

            if (id.Type.Name is null)
            {
                v.Add($"identifiers[{i}].type", "required", "The identifier type is required.");
            }
            else if (!program.IsKnownIdentifierType(id.Type))
            {
                v.Add($"identifiers[{i}].type", "unknown_identifier_type", $"Unknown identifier type '{id.Type}'; register it in the program's customIdentifierTypes.");
            }

            if (string.IsNullOrWhiteSpace(id.Value))
            {
                v.Add($"identifiers[{i}].value", "required", "The identifier value is empty.");
            }
            else if (id.Value.Length > Identifier.MaxValueLength)
            {
                v.Add($"identifiers[{i}].value", "too_long", $"The identifier value is longer than {Identifier.MaxValueLength} characters.");
            }
            else if (id.Value.Any(char.IsControl))
            {
                v.Add($"identifiers[{i}].value", "control_character", "The identifier value contains control characters.");
            }
        }
    }

    private static void ValidateOrder(OrderPlaced o, LoyaltyProgram program, Collector v)
    {
        v.Text("orderId", o.OrderId);
        if (v.Currency("currency", o.Currency) && o.Currency != program.BaseCurrency && !program.ExchangeRates.ContainsKey(o.Currency.Code))
        {
            v.Add("currency", "currency_not_accepted", $"The program's base currency is {program.BaseCurrency} and it has no exchange rate for {o.Currency}.");
        }

        if (o.Lines is null || o.Lines.Count == 0)
        {
            v.Add("lines", "required", "An order needs at least one line.");
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < o.Lines.Count; i++)
            {
                var line = o.Lines[i];
                var p = $"lines[{i}]";
                if (line is null)
                {
                    v.Add(p, "required", "An order line cannot be null.");
                    continue;
                }

                if (v.Text($"{p}.lineId", line.LineId) && !seen.Add(line.LineId))
                {
                    v.Add($"{p}.lineId", "duplicate", $"Line id '{line.LineId}' appears twice in the order.");
                }

                v.Text($"{p}.sku", line.Sku);
                if (line.Quantity < 0)
                {
                    v.Add($"{p}.quantity", "negative", "The quantity cannot be negative.");
                }
                else if (line.Quantity == 0)
                {
                    v.Add($"{p}.quantity", "out_of_range", "The quantity must be at least 1.");
                }

                v.NotNegative($"{p}.unitPrice", line.UnitPrice);
                v.Enum($"{p}.lineKind", line.LineKind);
            }
        }

        v.NotNegative("discount", o.Discount);
        v.NotNegative("shipping", o.Shipping);
        v.NotNegative("tax", o.Tax);
        v.NotNegative("total", o.Total);
        if (o.PointsRedeemed < 0)
        {
            v.Add("pointsRedeemed", "negative", "Points redeemed cannot be negative.");
        }

        if (v.Errors.Count == 0)
        {
            var expected = o.Subtotal - o.Discount + o.Shipping + o.Tax;
            if (Math.Abs(expected - o.Total) > 0.01m)
            {
                v.Add("total", "total_mismatch", string.Create(CultureInfo.InvariantCulture, $"The total {o.Total} differs from lines − discount + shipping + tax = {expected}."));
            }
        }
    }

    private static void ValidateLineQuantities(IReadOnlyList<OrderLineQuantity>? lines, Collector v)
    {
        if (lines is null)
        {
            return;
        }

        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line is null)
            {
                v.Add($"lines[{i}]", "required", "A line cannot be null.");
                continue;
            }

            v.Text($"lines[{i}].lineId", line.LineId);
            if (line.Quantity < 0)
            {
                v.Add($"lines[{i}].quantity", "negative", "The quantity cannot be negative.");
            }
            else if (line.Quantity == 0)
            {
                v.Add($"lines[{i}].quantity", "out_of_range", "The quantity must be at least 1.");
            }
        }
    }

    private static void ValidateProfile(ProfileData p, string path, Instant now, Collector v)
    {
        if (p.TimeZone is not null && DateTimeZoneProviders.Tzdb.GetZoneOrNull(p.TimeZone) is null)
        {
            v.Add($"{path}.timeZone", "invalid_time_zone", $"'{p.TimeZone}' is not an IANA time zone id.");
        }

        if (p.BirthDate is { } birth && birth > now.InUtc().Date)
        {
            v.Add($"{path}.birthDate", "in_future", "The birth date is in the future.");
        }

        if (p.Locale is not null && !IsValidLocale(p.Locale))
        {
            v.Add($"{path}.locale", "invalid_locale", $"'{p.Locale}' is not a BCP-47 locale such as 'en-US'.");
        }

        if (p.Address?.Country is { } country && !(country.Length == 2 && country.All(char.IsAsciiLetterUpper)))
        {
            v.Add($"{path}.address.country", "invalid_country", "The country must be an ISO 3166-1 alpha-2 code in upper case, e.g. 'FR'.");
        }
    }

    private static bool IsValidLocale(string locale)
    {
        if (locale.Length is < 2 or > 35)
        {
            return false;
        }

        var parts = locale.Split('-');
        return parts[0].Length is 2 or 3 && parts[0].All(char.IsAsciiLetter) && parts.All(x => x.Length is > 0 and <= 8 && x.All(char.IsAsciiLetterOrDigit));
    }

    private static void ValidateCustom(CustomEvent c, LoyaltyProgram program, Collector v)
    {
        if (!v.Text("name", c.Name))
        {
            return;
        }

        var definition = program.CustomEvents.FirstOrDefault(d => d.Name == c.Name);
        if (definition is null)
        {
            v.Add("name", "unknown_custom_event", $"Custom event '{c.Name}' is not registered in the program.");
            return;
        }

        var properties = c.Properties ?? new Dictionary<string, JsonElement>();
        foreach (var required in definition.Required)
        {
            if (!properties.ContainsKey(required))
            {
                v.Add($"properties.{required}", "required", $"Property '{required}' is required by custom event '{c.Name}'.");
            }
        }

        foreach (var (name, value) in properties)
        {
            if (!definition.Properties.TryGetValue(name, out var type))
            {
                v.Add($"properties.{name}", "unknown_property", $"Property '{name}' is not declared for custom event '{c.Name}'.");
                continue;
            }

            var ok = type switch
            {
                CustomPropertyType.String => value.ValueKind == JsonValueKind.String,
                CustomPropertyType.Number => value.ValueKind == JsonValueKind.Number,
                CustomPropertyType.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                _ => false,
            };
            if (!ok)
            {
                v.Add($"properties.{name}", "wrong_type", $"Property '{name}' must be a {type.ToString().ToLowerInvariant()}.");
            }
        }
    }

    private sealed class Collector(string prefix)
    {
        public List<ValidationError> Errors { get; } = [];

        public void Add(string field, string code, string message) => Errors.Add(new ValidationError($"{prefix}.{field}", code, message));

        public bool Text(string field, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                Add(field, "required", $"'{field[(field.LastIndexOf('.') + 1)..]}' is required.");
                return false;
            }

            if (value.Length > 256)
            {
                Add(field, "too_long", "The value is longer than 256 characters.");
                return false;
            }

            return true;
        }

        public void NotNegative(string field, decimal value)
        {
            if (value < 0)
            {
                Add(field, "negative", "The amount cannot be negative.");
            }
        }

        public bool Currency(string field, Currency currency)
        {
            if (currency.Code is null)
            {
                Add(field, "invalid_currency", "The currency is required (an ISO-4217 code).");
                return false;
            }

            return true;
        }

        public void Enum<T>(string field, T value)
            where T : struct, Enum
        {
            if (!System.Enum.IsDefined(value))
            {
                Add(field, "invalid_value", $"{value} is not a valid {typeof(T).Name}.");
            }
        }
    }
}
