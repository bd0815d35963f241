using System.Text.Json.Nodes;
using Loyalty.Sdk.Consent;

namespace Loyalty.Sdk.Journeys;

/// <summary>
/// The journeys capability's part of a GDPR export and erasure: for the customer and every id merged into it, the
/// journey instances (journey, version, entry, status, step, timer, holdout, conversion, exit reason) and the response
/// per channel. The erasure deletes both (their timers with them); measurement counters stay, as counts. Undelivered
/// messages are dropped by the erasure itself (the outbox).
/// </summary>
public sealed class JourneyPersonalData : IPersonalDataContributor
{
    /// <inheritdoc />
    public string Section => "journeys";

    /// <inheritdoc />
    public async ValueTask<JsonNode?> ExportAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var instances = new JsonArray();
        var responses = new JsonArray();
        foreach (var id in context.AllIds)
        {
            foreach (var i in (await context.Session.Journeys.ListForCustomerAsync(id, cancellationToken).ConfigureAwait(false)).OrderBy(i => i.Journey, StringComparer.Ordinal))
            {
                instances.Add(new JsonObject
                {
                    ["customer"] = id.Value, ["journey"] = i.Journey, ["version"] = i.JourneyVersion, ["entry"] = i.Entry, ["status"] = i.Status.ToString(),
                    ["step"] = i.Step, ["enteredAt"] = i.EnteredAt?.ToString(), ["wakeAt"] = i.WakeAt?.ToString(), ["holdout"] = i.Holdout,
                    ["converted"] = i.Converted, ["exitReason"] = i.ExitReason,
                });
            }

            if (await context.Session.Journeys.GetResponseAsync(id, cancellationToken).ConfigureAwait(false) is { } r)
            {
                responses.Add(new JsonObject
                {
                    ["customer"] = id.Value,
                    ["channels"] = new JsonArray([.. r.Channels.OrderBy(c => c.Channel).Select(c => (JsonNode)new JsonObject
                    {
                        ["channel"] = c.Channel.ToString(), ["sent"] = c.Sent, ["opened"] = c.Opened, ["clicked"] = c.Clicked,
                    })]),
                });
            }
        }

        return instances.Count == 0 && responses.Count == 0 ? null : new JsonObject { ["instances"] = instances, ["channelResponse"] = responses };
    }

    /// <inheritdoc />
    public async ValueTask EraseAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var id in context.AllIds)
        {
            await context.Session.Journeys.DeleteCustomerAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }
}
