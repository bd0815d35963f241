using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Loyalty.Sdk.Programs;
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

    private static readonly int MaxPlaceholderLength = Placeholders.Max(p => p.Length);

    private static readonly ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    /// <summary>The regular expression of a blocked pattern (built and compiled to IL once, with a match timeout: it
    /// runs on every identifier of its type).</summary>
    public static Regex Pattern(string pattern) =>
        Patterns.GetOrAdd(pattern, p => new Regex(p, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.Compiled, TimeSpan.FromMilliseconds(50)));

    /// <summary>Normalizes <paramref name="identifier"/> under its type's <paramref name="policy"/>: provider rules for
    /// e-mail when opted in, and the policy's blocked values and patterns on top of the built-in placeholders.</summary>
    /// <param name="identifier">The raw identifier.</param>
    /// <param name="defaultRegion">ISO 3166-1 region for phone numbers without a country code.</param>
    /// <param name="policy">The type's policy; <c>null</c> for defaults.</param>
    public static NormalizedIdentifier Normalize(Identifier identifier, string defaultRegion, IdentifierTypePolicy? policy)
    {
        var n = Normalize(identifier, defaultRegion);
        if (n.Identifier is null || policy is null)
        {
            return n;
        }

        var value = n.Identifier.Value;
        if (policy.ProviderRules && identifier.Type == IdentifierType.Email)
        {
            value = ApplyProviderRules(value);
        }

        var compiled = Compiled(policy);
        if (compiled.Blocked is { } blockedValues && blockedValues.Contains(value))
        {
            return new NormalizedIdentifier(null, true, null);
        }

        var patterns = compiled.Patterns;
        for (var i = 0; i < patterns.Length; i++)
        {
            try
            {
                if (patterns[i].IsMatch(value))
                {
                    return new NormalizedIdentifier(null, true, null);
                }
            }
            catch (RegexMatchTimeoutException)
            {
                return new NormalizedIdentifier(null, false, $"'{identifier.Value}' could not be checked against blocked pattern '{policy.BlockedPatterns[i]}' in time.");
            }
        }

        return ReferenceEquals(value, n.Identifier.Value) ? n : new NormalizedIdentifier(n.Identifier with { Value = value }, false, null);
    }

    // A policy's blocked values as a set and its patterns as compiled expressions, made once per policy instance (the
    // program's policies live as long as the program): resolution checks them on every identifier.
    private static readonly ConditionalWeakTable<IdentifierTypePolicy, CompiledPolicy> CompiledPolicies = [];

    private static CompiledPolicy Compiled(IdentifierTypePolicy policy) =>
        CompiledPolicies.TryGetValue(policy, out var compiled) ? compiled : CompiledPolicies.GetValue(policy, static p => new CompiledPolicy(
            p.Blocked.Count == 0 ? null : p.Blocked.Select(b => b.Trim()).ToFrozenSet(StringComparer.OrdinalIgnoreCase),
            [.. p.BlockedPatterns.Select(Pattern)]));

    private sealed record CompiledPolicy(FrozenSet<string>? Blocked, Regex[] Patterns);

    /// <summary>E-mail provider rules: Gmail ignores dots and <c>+tags</c> in the local part (and googlemail.com is
    /// gmail.com); other providers' <c>+tags</c> are dropped.</summary>
    public static string ApplyProviderRules(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
        var at = email.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0)
        {
            return email;
        }

        var local = email[..at];
        var domain = email[(at + 1)..];
        var plus = local.IndexOf('+', StringComparison.Ordinal);
        if (plus > 0)
        {
            local = local[..plus];
        }

        if (domain is "gmail.com" or "googlemail.com")
        {
            local = local.Replace(".", string.Empty, StringComparison.Ordinal);
            domain = "gmail.com";
        }

        return local.Length == 0 ? email : local + "@" + domain;
    }

    /// <summary>Normalizes <paramref name="identifier"/>.</summary>
    /// <param name="identifier">The raw identifier.</param>
    /// <param name="defaultRegion">ISO 3166-1 region for phone numbers without a country code.</param>
    public static NormalizedIdentifier Normalize(Identifier identifier, string defaultRegion)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        // Already-normalized values (the common case) allocate nothing: the same string and identifier come back.
        var value = identifier.Value is null ? string.Empty : Trim(identifier.Value);
        if (value.Length == 0 || (value.Length <= MaxPlaceholderLength && Placeholders.Contains(value)) || IsAllZeros(value))
        {
            return new NormalizedIdentifier(null, true, null);
        }

        if (identifier.Type == IdentifierType.Email)
        {
            var scan = ScanEmail(value);
            if (scan.Upper)
            {
                value = value.ToLowerInvariant();
                scan = ScanEmail(value);
            }

            // One '@', not first nor last, a '.' after it, no white space.
            if (scan.At <= 0 || scan.Ats != 1 || scan.At == value.Length - 1 || scan.LastDot < scan.At || scan.WhiteSpace)
            {
                return new NormalizedIdentifier(null, false, $"'{identifier.Value}' is not an e-mail address.");
            }

            return new NormalizedIdentifier(Same(identifier, value), false, null);
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

        return new NormalizedIdentifier(Same(identifier, value), false, null);
    }

    private static Identifier Same(Identifier identifier, string value) =>
        ReferenceEquals(value, identifier.Value) ? identifier : identifier with { Value = value };

    // string.Trim returns the same instance when there is nothing to trim; the check avoids even the call's scan twice.
    private static string Trim(string value) =>
        value.Length > 0 && !char.IsWhiteSpace(value[0]) && !char.IsWhiteSpace(value[^1]) ? value : value.Trim();

    // One pass over an e-mail address (the hot path of resolution): upper-case letters, white space, the '@' signs
    // (first position and count) and the last '.'.
    private static (bool Upper, bool WhiteSpace, int At, int Ats, int LastDot) ScanEmail(string value)
    {
        var upper = false;
        var white = false;
        var at = -1;
        var ats = 0;
        var lastDot = -1;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c < 0x80)
            {
                if (char.IsAsciiLetterUpper(c))
                {
                    upper = true;
                }
                else if (c == '@')
                {
                    at = ats++ == 0 ? i : at;
                }
                else if (c == '.')
                {
                    lastDot = i;
                }
                else if (c <= ' ')
                {
                    white |= char.IsWhiteSpace(c);
                }
            }
            else
            {
                upper |= char.IsUpper(c) || char.ToLowerInvariant(c) != c;
                white |= char.IsWhiteSpace(c);
            }
        }

        return (upper, white, at, ats, lastDot);
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
