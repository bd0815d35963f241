using System.Security.Cryptography;
using System.Text;
using Loyalty.Sdk.Events;
using Microsoft.Extensions.Options;
using NodaTime;
using PhoneNumbers;

namespace Loyalty.Sdk.Consent;

/// <summary>Options of the consent capability.</summary>
public sealed class ConsentOptions
{
    /// <summary>
    /// Secret salt of the address hashes kept on suppression lists after an erasure or a hard bounce, and of erasure
    /// pseudonyms. Set your own secret (at least 16 characters) in production: whoever knows it can test whether an
    /// address is suppressed.
    /// </summary>
    public string SuppressionSalt { get; set; } = "loyalty-sdk-default-suppression-salt";

    /// <summary>How far in the future a recorded consent may be dated (clock skew); default 5 minutes.</summary>
    public Duration MaxFutureSkew { get; set; } = Duration.FromMinutes(5);

    /// <summary>Whether gate decisions made through <see cref="IConsentService"/> are kept in the decision trail
    /// (default true).</summary>
    public bool RecordGateDecisions { get; set; } = true;
}

/// <summary>Validates <see cref="ConsentOptions"/> at start.</summary>
internal sealed class ConsentOptionsValidator : IValidateOptions<ConsentOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsentOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrEmpty(options.SuppressionSalt) || options.SuppressionSalt.Length < 16)
        {
            failures.Add("ConsentOptions.SuppressionSalt must be at least 16 characters.");
        }

        if (options.MaxFutureSkew < Duration.Zero)
        {
            failures.Add("ConsentOptions.MaxFutureSkew cannot be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Salted hashes of contact addresses, and erasure pseudonyms.</summary>
public sealed class AddressHasher(IOptions<ConsentOptions> options)
{
    private readonly string salt = (options ?? throw new ArgumentNullException(nameof(options))).Value.SuppressionSalt;

    /// <summary>The channels an identifier type reaches: e-mail → email; phone → SMS, WhatsApp, phone; device → push,
    /// in-app. Other types reach nothing.</summary>
    public static IReadOnlyList<ContactChannel> ChannelsOf(IdentifierType type) =>
        type == IdentifierType.Email ? [ContactChannel.Email]
        : type == IdentifierType.Phone ? [ContactChannel.Sms, ContactChannel.WhatsApp, ContactChannel.Phone]
        : type == IdentifierType.DeviceId ? [ContactChannel.Push, ContactChannel.InApp]
        : [];

    /// <summary>The salted hash of a normalized identifier within a tenant (hex).</summary>
    public string Hash(TenantId tenant, Identifier identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{salt}\n{tenant.Value}\n{identifier.Type.Name}:{identifier.Value}")));
    }

    /// <summary>The pseudonym an erased customer's kept data is filed under.</summary>
    public CustomerId Pseudonym(TenantId tenant, CustomerId customer) =>
        new("erased_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{salt}\nerased\n{tenant.Value}\n{customer.Value}")))[..24]);

    /// <summary>The zone of a phone number's country when that country has exactly one zone in the tz database
    /// (read from the E.164 country calling code; +1 and other shared codes infer nothing).</summary>
    public static string? InferZone(Identifier phone)
    {
        ArgumentNullException.ThrowIfNull(phone);
        var value = phone.Value;
        if (phone.Type != IdentifierType.Phone || value.Length < 4 || value[0] != '+')
        {
            return null;
        }

        for (var digits = 1; digits <= 3; digits++)
        {
            if (!int.TryParse(value.AsSpan(1, digits), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code))
            {
                return null;
            }

            if (ZoneByCallingCode.TryGetValue(code, out var zone))
            {
                return zone;
            }

            var regions = PhoneNumberUtil.GetInstance().GetRegionCodesForCountryCode(code);
            if (regions.Count > 0)
            {
                string? found = null;
                if (regions.Count == 1)
                {
                    var locations = (NodaTime.TimeZones.TzdbDateTimeZoneSource.Default.ZoneLocations ?? []).Where(l => l.CountryCode == regions[0]).ToArray();
                    found = locations.Length == 1 ? locations[0].ZoneId : null;
                }

                ZoneByCallingCode[code] = found;
                return found;
            }
        }

        return null;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string?> ZoneByCallingCode = new();
}
