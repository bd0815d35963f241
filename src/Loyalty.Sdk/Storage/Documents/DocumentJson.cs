using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Journeys;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Predictive;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Segments;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;

namespace Loyalty.Sdk.Storage.Documents;

/// <summary>Source-generated metadata for every record a document backend stores. Stored bodies tolerate members they
/// don't know (a newer SDK may add some), unlike the wire format.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowOutOfOrderMetadataProperties = true,
    IncludeFields = true)]
[JsonSerializable(typeof(ProcessedEvent))]
[JsonSerializable(typeof(OutboxMessage))]
[JsonSerializable(typeof(CustomerIdentity))]
[JsonSerializable(typeof(CustomerProfile))]
[JsonSerializable(typeof(OrderRecord))]
[JsonSerializable(typeof(Decision))]
[JsonSerializable(typeof(CustomerLedger))]
[JsonSerializable(typeof(LedgerTransfer))]
[JsonSerializable(typeof(LedgerCommandRecord))]
[JsonSerializable(typeof(LedgerOrder))]
[JsonSerializable(typeof(List<ConsentRecord>))]
[JsonSerializable(typeof(List<SuppressionEntry>))]
[JsonSerializable(typeof(List<AddressSuppression>))]
[JsonSerializable(typeof(List<SendRecord>))]
[JsonSerializable(typeof(PreferenceSettings))]
[JsonSerializable(typeof(CustomerSegmentState))]
[JsonSerializable(typeof(SegmentSizePoint))]
[JsonSerializable(typeof(PurchaseHistory))]
[JsonSerializable(typeof(PredictiveModelSnapshot))]
[JsonSerializable(typeof(JourneyInstance))]
[JsonSerializable(typeof(CustomerChannelResponse))]
[JsonSerializable(typeof(BlockedValue))]
[JsonSerializable(typeof(DoNotLinkRule))]
[JsonSerializable(typeof(MergeReview))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(string))]
internal sealed partial class DocumentJsonContext : JsonSerializerContext;

/// <summary>The typed metadata used by <see cref="DocumentLoyaltyStore"/>.</summary>
internal static class DocumentJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static JsonTypeInfo<ProcessedEvent> ProcessedEvent { get; } = Info<ProcessedEvent>();

    public static JsonTypeInfo<CustomerIdentity> Identity { get; } = Info<CustomerIdentity>();

    public static JsonTypeInfo<CustomerProfile> Profile { get; } = Info<CustomerProfile>();

    public static JsonTypeInfo<OrderRecord> Order { get; } = Info<OrderRecord>();

    public static JsonTypeInfo<Decision> Decision { get; } = Info<Decision>();

    public static JsonTypeInfo<CustomerLedger> Ledger { get; } = Info<CustomerLedger>();

    public static JsonTypeInfo<LedgerTransfer> Transfer { get; } = Info<LedgerTransfer>();

    public static JsonTypeInfo<LedgerCommandRecord> Command { get; } = Info<LedgerCommandRecord>();

    public static JsonTypeInfo<LedgerOrder> LedgerOrder { get; } = Info<LedgerOrder>();

    public static JsonTypeInfo<List<ConsentRecord>> ConsentRecords { get; } = Info<List<ConsentRecord>>();

    public static JsonTypeInfo<List<SuppressionEntry>> Suppressions { get; } = Info<List<SuppressionEntry>>();

    public static JsonTypeInfo<List<AddressSuppression>> AddressSuppressions { get; } = Info<List<AddressSuppression>>();

    public static JsonTypeInfo<List<SendRecord>> Sends { get; } = Info<List<SendRecord>>();

    public static JsonTypeInfo<PreferenceSettings> Preferences { get; } = Info<PreferenceSettings>();

    public static JsonTypeInfo<CustomerSegmentState> Segment { get; } = Info<CustomerSegmentState>();

    public static JsonTypeInfo<SegmentSizePoint> SizePoint { get; } = Info<SegmentSizePoint>();

    public static JsonTypeInfo<PurchaseHistory> PurchaseHistory { get; } = Info<PurchaseHistory>();

    public static JsonTypeInfo<PredictiveModelSnapshot> Model { get; } = Info<PredictiveModelSnapshot>();

    public static JsonTypeInfo<JourneyInstance> Journey { get; } = Info<JourneyInstance>();

    public static JsonTypeInfo<CustomerChannelResponse> ChannelResponse { get; } = Info<CustomerChannelResponse>();

    public static JsonTypeInfo<BlockedValue> Block { get; } = Info<BlockedValue>();

    public static JsonTypeInfo<DoNotLinkRule> DoNotLink { get; } = Info<DoNotLinkRule>();

    public static JsonTypeInfo<MergeReview> Review { get; } = Info<MergeReview>();

    public static JsonTypeInfo<List<string>> Strings { get; } = Info<List<string>>();

    public static JsonTypeInfo<string> String { get; } = Info<string>();

    private static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(DocumentJsonContext.Default.Options);
        options.ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
        options.TypeInfoResolver = DocumentJsonContext.Default;
        options.MakeReadOnly(populateMissingResolver: false);
        return options;
    }
}

/// <summary>The JSON form of outbox messages in a document backend's outbox table.</summary>
public static class OutboxMessageJson
{
    private static readonly JsonTypeInfo<OutboxMessage> Info = (JsonTypeInfo<OutboxMessage>)DocumentJson.Options.GetTypeInfo(typeof(OutboxMessage));

    /// <summary>Serializes a message.</summary>
    public static string Serialize(OutboxMessage message) => JsonSerializer.Serialize(message, Info);

    /// <summary>Reads a message back.</summary>
    public static OutboxMessage Deserialize(string json) => JsonSerializer.Deserialize(json, Info) ?? throw new JsonException("An outbox message body is empty.");
}
