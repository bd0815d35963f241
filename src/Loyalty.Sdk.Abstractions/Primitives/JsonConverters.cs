using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loyalty.Sdk.Serialization;

/// <summary>Writes and reads an enum as its snake_case name (e.g. <c>call_center</c>); numbers are refused.</summary>
/// <typeparam name="TEnum">The enum type.</typeparam>
public sealed class SnakeCaseEnumConverter<TEnum> : JsonStringEnumConverter<TEnum>
    where TEnum : struct, Enum
{
    /// <summary>Creates the converter.</summary>
    public SnakeCaseEnumConverter()
        : base(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    {
    }
}

/// <summary>Base for the JSON converters of the string-backed value types.</summary>
/// <typeparam name="T">The value type.</typeparam>
public abstract class StringValueConverter<T> : JsonConverter<T>
{
    /// <summary>A short description of the value for error messages, e.g. "tenant id".</summary>
    protected abstract string What { get; }

    /// <summary>Whether the text is valid.</summary>
    protected abstract bool IsValid(string value);

    /// <summary>Creates the value from valid text.</summary>
    protected abstract T Create(string value);

    /// <summary>The text of a value.</summary>
    protected abstract string ToText(T value);

    /// <inheritdoc />
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected a string for the {What}.");
        }

        var text = reader.GetString();
        if (text is null || !IsValid(text))
        {
            throw new JsonException($"'{text}' is not a valid {What}.");
        }

        return Create(text);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(ToText(value));
    }
}

/// <summary>JSON converter for <see cref="TenantId"/>.</summary>
public sealed class TenantIdJsonConverter : StringValueConverter<TenantId>
{
    /// <inheritdoc />
    protected override string What => "tenant id";

    /// <inheritdoc />
    protected override bool IsValid(string value) => TenantId.IsValid(value);

    /// <inheritdoc />
    protected override TenantId Create(string value) => new(value);

    /// <inheritdoc />
    protected override string ToText(TenantId value) => value.Value;
}

/// <summary>JSON converter for <see cref="EventId"/>.</summary>
public sealed class EventIdJsonConverter : StringValueConverter<EventId>
{
    /// <inheritdoc />
    protected override string What => "event id";

    /// <inheritdoc />
    protected override bool IsValid(string value) => EventId.IsValid(value);

    /// <inheritdoc />
    protected override EventId Create(string value) => new(value);

    /// <inheritdoc />
    protected override string ToText(EventId value) => value.Value;
}

/// <summary>JSON converter for <see cref="CustomerId"/>.</summary>
public sealed class CustomerIdJsonConverter : StringValueConverter<CustomerId>
{
    /// <inheritdoc />
    protected override string What => "customer id";

    /// <inheritdoc />
    protected override bool IsValid(string value) => CustomerId.IsValid(value);

    /// <inheritdoc />
    protected override CustomerId Create(string value) => new(value);

    /// <inheritdoc />
    protected override string ToText(CustomerId value) => value.Value;
}

/// <summary>JSON converter for <see cref="Currency"/>.</summary>
public sealed class CurrencyJsonConverter : StringValueConverter<Currency>
{
    /// <inheritdoc />
    protected override string What => "ISO-4217 currency code";

    /// <inheritdoc />
    protected override bool IsValid(string value) => Currency.IsValid(value);

    /// <inheritdoc />
    protected override Currency Create(string value) => new(value);

    /// <inheritdoc />
    protected override string ToText(Currency value) => value.Code;
}

/// <summary>JSON converter for <see cref="IdentifierType"/>.</summary>
public sealed class IdentifierTypeJsonConverter : StringValueConverter<IdentifierType>
{
    /// <inheritdoc />
    protected override string What => "identifier type";

    /// <inheritdoc />
    protected override bool IsValid(string value) => IdentifierType.IsValidName(value);

    /// <inheritdoc />
    protected override IdentifierType Create(string value) => new(value);

    /// <inheritdoc />
    protected override string ToText(IdentifierType value) => value.Name;
}
