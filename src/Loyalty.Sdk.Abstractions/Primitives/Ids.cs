using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;

namespace Loyalty.Sdk;

/// <summary>Shared validation of the string-backed identifiers.</summary>
internal static class IdRules
{
    public const int MaxLength = 128;

    public static string Require(string? value, string what)
    {
        if (!IsValid(value))
        {
            throw new ArgumentException(
                $"A {what} must be 1 to {MaxLength} characters of letters, digits, '-', '_', '.', ':' or '@'.",
                nameof(value));
        }

        return value!;
    }

    public static bool IsValid([NotNullWhen(true)] string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '@'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A tenant: one brand, shop or program. Every record carries its tenant and no API reads across tenants.</summary>
[JsonConverter(typeof(TenantIdJsonConverter))]
public readonly record struct TenantId
{
    /// <summary>Creates a tenant id; throws <see cref="ArgumentException"/> when the value is not a valid id.</summary>
    public TenantId(string value) => Value = IdRules.Require(value, "tenant id");

    /// <summary>The id as text.</summary>
    public string Value { get; }

    /// <summary>Whether <paramref name="value"/> is a valid tenant id.</summary>
    public static bool IsValid([NotNullWhen(true)] string? value) => IdRules.IsValid(value);

    /// <inheritdoc />
    public override string ToString() => Value ?? string.Empty;
}

/// <summary>The canonical id of one resolved customer (a person across all their identifiers).</summary>
[JsonConverter(typeof(CustomerIdJsonConverter))]
public readonly record struct CustomerId
{
    /// <summary>Creates a customer id; throws <see cref="ArgumentException"/> when the value is not a valid id.</summary>
    public CustomerId(string value) => Value = IdRules.Require(value, "customer id");

    /// <summary>The id as text.</summary>
    public string Value { get; }

    /// <summary>Whether <paramref name="value"/> is a valid customer id.</summary>
    public static bool IsValid([NotNullWhen(true)] string? value) => IdRules.IsValid(value);

    /// <inheritdoc />
    public override string ToString() => Value ?? string.Empty;
}

/// <summary>The stable id of an event; ingesting the same id twice changes nothing.</summary>
[JsonConverter(typeof(EventIdJsonConverter))]
public readonly record struct EventId
{
    /// <summary>Creates an event id; throws <see cref="ArgumentException"/> when the value is not a valid id.</summary>
    public EventId(string value) => Value = IdRules.Require(value, "event id");

    /// <summary>The id as text.</summary>
    public string Value { get; }

    /// <summary>Whether <paramref name="value"/> is a valid event id.</summary>
    public static bool IsValid([NotNullWhen(true)] string? value) => IdRules.IsValid(value);

    /// <inheritdoc />
    public override string ToString() => Value ?? string.Empty;
}
