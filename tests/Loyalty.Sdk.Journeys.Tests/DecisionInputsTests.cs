using System.Text.Json;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Storage.Documents;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

/// <summary>Journey decision inputs (a compact read-only map) behave and serialize as the dictionary they replace.</summary>
public sealed class DecisionInputsTests
{
    [Fact]
    public void Inputs_read_enumerate_and_round_trip_like_a_dictionary()
    {
        var inputs = new DecisionInputs(DecisionInputs.Action, ["send", "queued", "journey:j:v1:c:1:send"]);
        Assert.Equal(3, inputs.Count);
        Assert.Equal("queued", inputs["disposition"]);
        Assert.True(inputs.ContainsKey("key"));
        Assert.False(inputs.TryGetValue("reason", out _));
        Assert.Throws<KeyNotFoundException>(() => inputs["reason"]);
        Assert.Equal(["step", "disposition", "key"], inputs.Select(kv => kv.Key));

        var decision = new Decision
        {
            Capability = Capabilities.Journeys, Action = "journey_action", Rule = "journey.j.v1", RuleVersion = 1, Summary = "s",
            Inputs = inputs, Customer = new CustomerId("c"), CausedBy = new EventId("e"), DecidedAt = Instant.FromUtc(2025, 1, 1, 0, 0),
        };
        var json = JsonSerializer.Serialize(decision, DocumentJson.Decision);
        var back = JsonSerializer.Deserialize(json, DocumentJson.Decision)!;
        Assert.Equal(new Dictionary<string, string>(inputs), new Dictionary<string, string>(back.Inputs));
        Assert.Contains("\"disposition\":\"queued\"", json, StringComparison.Ordinal);
    }
}
