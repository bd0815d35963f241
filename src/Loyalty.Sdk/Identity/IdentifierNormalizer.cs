using System.Collections.Frozen;
using PhoneNumbers;

namespace Loyalty.Sdk.Identity;

/// <summary>The outcome of normalizing one identifier.</summary>
/// <param name="Identifier">The normalized identifier, when accepted.</param>
/// <param name="Blocked">True when the value is a known placeholder (empty, <c>null</c>, <c>unknown</c>, <c>-1</c>,
/// all zeros) that must never link customers.</param>
/// <param name="Error">Why the value was rejected, when it was.</param>
public readonly record struct NormalizedIdentifier(Identifier? Identifier, bool Blocked, string? Error);

/// <summary>
/// Normalizes identifiers before they are looked up or stored: e-mail addresses trimmed and lower-cased, phone numbers
/// to E.164 (libphonenumber, with the program's default region), other values trimmed. Placeholder values are blocked.
/// </summary>
public static class IdentifierNormalizer
{
    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    private static readonly FrozenSet<string> Placeholders = new[]
    {
        "null", "nil", "none", "unknown", "n/a", "na", "-1", "-", "test", "undefined", "noemail@noemail.com",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Normalizes <paramref name="identifier"/>.</summary>
    /// <param name="identifier">The raw identifier.</param>
    /// <param name="defaultRegion">ISO 3166-1 region for phone numbers without a country code.</param>
    public static NormalizedIdentifier Normalize(Identifier identifier, string defaultRegion)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var value = identifier.Value?.Trim() ?? string.Empty;
        if (value.Length == 0 || Placeholders.Contains(value) || IsAllZeros(value))
        {
            return new NormalizedIdentifier(null, true, null);
        }

        if (identifier.Type == IdentifierType.Email)
        {
            value = value.ToLowerInvariant();
            var at = value.IndexOf('@', StringComparison.Ordinal);
            if (at <= 0 || at != value.LastIndexOf('@') || at == value.Length - 1 || !value[(at + 1)..].Contains('.', StringComparison.Ordinal)
                || value.Any(char.IsWhiteSpace))
            {
                return new NormalizedIdentifier(null, false, $"'{identifier.Value}' is not an e-mail address.");
            }

            return new NormalizedIdentifier(identifier with { Value = value }, false, null);
        }

        if (identifier.Type == IdentifierType.Phone)
        {
            try
            {
                var number = Phones.Parse(value, defaultRegion);
                if (!Phones.IsValidNumber(number))
                {
                    return new NormalizedIdentifier(null, false, $"'{identifier.Value}' is not a valid phone number for region {defaultRegion}.");
                }

                return new NormalizedIdentifier(identifier with { Value = Phones.Format(number, PhoneNumberFormat.E164) }, false, null);
            }
            catch (NumberParseException ex)
            {
                return new NormalizedIdentifier(null, false, $"'{identifier.Value}' is not a phone number: {ex.Message}");
            }
        }

        return new NormalizedIdentifier(identifier with { Value = value }, false, null);
    }

    private static bool IsAllZeros(string value)
    {
        var digits = 0;
        foreach (var c in value)
        {
            if (c == '0')
            {
                digits++;
            }
            else if (c is not (' ' or '-' or '.'))
            {
                return false;
            }
        }

        return digits > 0;
    }
}
