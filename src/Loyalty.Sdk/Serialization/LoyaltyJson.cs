using System.Text.Json;
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

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(LoyaltyJsonContext.Default.Options);
        options.ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
        options.TypeInfoResolver = LoyaltyJsonContext.Default;
        options.MakeReadOnly(populateMissingResolver: false);
        return options;
    }
}
