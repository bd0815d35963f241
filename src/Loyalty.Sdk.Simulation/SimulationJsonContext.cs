using System.Text.Json.Serialization;

namespace Loyalty.Sdk.Simulation.Serialization;

/// <summary>Source-generated JSON metadata for the simulation's own values.</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class LoyaltyJsonContextForSimulation : JsonSerializerContext;
