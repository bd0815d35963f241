using System.Text.Json.Serialization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;

namespace Loyalty.Sdk.Serialization;

/// <summary>Source-generated System.Text.Json metadata for every wire type of the SDK.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowOutOfOrderMetadataProperties = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(LoyaltyEvent))]
[JsonSerializable(typeof(LoyaltyProgram))]
[JsonSerializable(typeof(IngestResult))]
[JsonSerializable(typeof(IReadOnlyList<Decision>))]
[JsonSerializable(typeof(Identity.CustomerIdentity))]
[JsonSerializable(typeof(Profiles.CustomerProfile))]
[JsonSerializable(typeof(IReadOnlyList<Storage.OrderRecord>))]
[JsonSerializable(typeof(IReadOnlyList<Consent.ConsentRecord>))]
[JsonSerializable(typeof(IReadOnlyList<Consent.ConsentState>))]
[JsonSerializable(typeof(IReadOnlyList<Consent.SuppressionEntry>))]
[JsonSerializable(typeof(IReadOnlyList<Consent.SendRecord>))]
[JsonSerializable(typeof(Consent.PreferenceSettings))]
[JsonSerializable(typeof(Consent.PreferenceCenterView))]
[JsonSerializable(typeof(Consent.SendDecision))]
[JsonSerializable(typeof(Consent.SaturationView))]
[JsonSerializable(typeof(Consent.ErasureReceipt))]
public sealed partial class LoyaltyJsonContext : JsonSerializerContext;
