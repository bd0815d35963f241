using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;

namespace Loyalty.Sdk.Serialization;

/// <summary>The SDK's JSON settings: camelCase, snake_case enums, ISO-8601 NodaTime values, strict about unknown
/// members, source-generated metadata.</summary>
public static class LoyaltyJson
{
    /// <summary>Options for reading and writing the SDK's wire types.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Metadata for <see cref="LoyaltyEvent"/>.</summary>
    public static JsonTypeInfo<LoyaltyEvent> Event { get; } = (JsonTypeInfo<LoyaltyEvent>)Options.GetTypeInfo(typeof(LoyaltyEvent));

    /// <summary>Metadata for <see cref="LoyaltyProgram"/>.</summary>
    public static JsonTypeInfo<LoyaltyProgram> Program { get; } = (JsonTypeInfo<LoyaltyProgram>)Options.GetTypeInfo(typeof(LoyaltyProgram));

    /// <summary>Metadata for <see cref="IngestResult"/>.</summary>
    public static JsonTypeInfo<IngestResult> IngestResult { get; } = (JsonTypeInfo<IngestResult>)Options.GetTypeInfo(typeof(IngestResult));

    /// <summary>Writes an event as one line of JSON (NDJSON record, no trailing newline).</summary>
    public static string SerializeEvent(LoyaltyEvent @event) => JsonSerializer.Serialize(@event, Event);

    /// <summary>The JSON Schema of events (the one published as <c>docs/events.schema.json</c>).</summary>
    public static string EventSchema()
    {
        var exporterOptions = new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, schema) =>
            {
                var type = context.TypeInfo.Type;
                if (type == typeof(Instant) || type == typeof(Instant?))
                {
                    return new JsonObject { ["type"] = "string", ["format"] = "date-time", ["description"] = "ISO-8601 instant in UTC, e.g. 2025-03-01T10:00:00Z." };
                }

                if (type == typeof(LocalDate) || type == typeof(LocalDate?))
                {
                    return new JsonObject { ["type"] = "string", ["format"] = "date" };
                }

                if (type == typeof(Currency))
                {
                    return new JsonObject { ["type"] = "string", ["pattern"] = "^[A-Z]{3}$", ["description"] = "Active ISO-4217 currency code." };
                }

                if (type == typeof(TenantId) || type == typeof(EventId) || type == typeof(CustomerId))
                {
                    return new JsonObject { ["type"] = "string", ["pattern"] = "^[A-Za-z0-9_.:@-]{1,128}$" };
                }

                if (type == typeof(IdentifierType))
                {
                    return new JsonObject { ["type"] = "string", ["pattern"] = "^[a-z0-9_]{1,40}$", ["description"] = "email, phone, loyalty_card, pos_customer_id, ecom_customer_id, device_id, or a type registered in the program." };
                }

                if (type.IsEnum)
                {
                    return new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(Enum.GetNames(type).Select(n => (JsonNode)JsonNamingPolicy.SnakeCaseLower.ConvertName(n)).ToArray()) };
                }

                return schema;
            },
        };
        var node = JsonSchemaExporter.GetJsonSchemaAsNode(Options, typeof(LoyaltyEvent), exporterOptions);
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = "Loyalty.Sdk event",
            ["description"] = "One event as ingested by ILoyaltyEngine; NDJSON files hold one per line. The 'kind' property selects the shape.",
        };
        foreach (var (key, value) in node.AsObject().ToArray())
        {
            node.AsObject().Remove(key);
            root[key] = value;
        }

        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(LoyaltyJsonContext.Default.Options);
        options.ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
        options.TypeInfoResolver = LoyaltyJsonContext.Default;
        options.MakeReadOnly(populateMissingResolver: false);
        return options;
    }
}
