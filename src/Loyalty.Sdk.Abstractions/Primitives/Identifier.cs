using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;

namespace Loyalty.Sdk;

/// <summary>
/// The type of a customer identifier. Built-in types are the static members; a host registers custom types in its
/// program definition. Type names are lower-case letters, digits and '_'.
/// </summary>
[JsonConverter(typeof(IdentifierTypeJsonConverter))]
public readonly record struct IdentifierType
{
    /// <summary>Creates an identifier type; throws <see cref="ArgumentException"/> for an invalid name.</summary>
    public IdentifierType(string name)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid identifier type: use 1 to 40 lower-case letters, digits or '_'.", nameof(name));
        }

        Name = name;
    }

    /// <summary>The type's name, e.g. <c>email</c>.</summary>
    public string Name { get; }

    /// <summary>An e-mail address.</summary>
    public static IdentifierType Email { get; } = new("email");

    /// <summary>A phone number.</summary>
    public static IdentifierType Phone { get; } = new("phone");

    /// <summary>A loyalty card number.</summary>
    public static IdentifierType LoyaltyCard { get; } = new("loyalty_card");

    /// <summary>The customer id of a point-of-sale system.</summary>
    public static IdentifierType PosCustomerId { get; } = new("pos_customer_id");

    /// <summary>The customer id of an e-commerce platform.</summary>
    public static IdentifierType EcomCustomerId { get; } = new("ecom_customer_id");

    /// <summary>An anonymous device or browser id.</summary>
    public static IdentifierType DeviceId { get; } = new("device_id");

    /// <summary>The built-in types.</summary>
    public static IReadOnlyList<IdentifierType> BuiltIn { get; } = [Email, Phone, LoyaltyCard, PosCustomerId, EcomCustomerId, DeviceId];

    /// <summary>Whether this is one of the built-in types.</summary>
    public bool IsBuiltIn => BuiltIn.Contains(this);

    /// <summary>Whether <paramref name="name"/> is a valid type name.</summary>
    public static bool IsValidName([NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 40)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Name ?? string.Empty;
}

/// <summary>One identifier seen on an event: a type and a value as the source system sent it.</summary>
/// <param name="Type">The identifier's type.</param>
/// <param name="Value">The raw value; the identity stage normalizes it.</param>
public sealed record Identifier(IdentifierType Type, string Value)
{
    /// <summary>Maximum length of an identifier value.</summary>
    public const int MaxValueLength = 256;

    // Identifiers are dictionary keys on the hot path of resolution (index, blocks, sharing): the hash is computed
    // once per instance. Zero means not computed yet.
    private int hash;

    // `with` copies through this constructor: the cached hash of the original must not follow a changed value.
    private Identifier(Identifier original)
    {
        Type = original.Type;
        Value = original.Value;
    }

    /// <inheritdoc />
    public bool Equals(Identifier? other) =>
        ReferenceEquals(this, other)
        || (other is not null && (hash == 0 || other.hash == 0 || hash == other.hash) && Type == other.Type && string.Equals(Value, other.Value, StringComparison.Ordinal));

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = hash;
        if (h == 0)
        {
            h = HashCode.Combine(Type, Value is null ? 0 : string.GetHashCode(Value, StringComparison.Ordinal));
            hash = h = h == 0 ? 1 : h;
        }

        return h;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Type}:{Value}";
}
