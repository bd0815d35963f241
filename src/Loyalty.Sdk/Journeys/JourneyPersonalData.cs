using System.Text.Json.Nodes;
using Loyalty.Sdk.Consent;

namespace Loyalty.Sdk.Journeys;

/// <summary>
/// The journeys' part of a GDPR export and erasure. The export lists, for the customer and every id merged into it,
/// each journey instance: journey and version, entry number, status, step, when it entered and next wakes, holdout,
/// conversion and exit reason. The erasure deletes the instances and their timers; the journeys' counters are
/// aggregates and stay, and queued messages are cancelled with the rest of the customer's outbox.
/// </summary>
public sealed class JourneyPersonalData : IPersonalDataContributor
{
    /// <inheritdoc />
    public string Section => "journeys";

    /// <inheritdoc />
    public async ValueTask<JsonNode?> ExportAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var list = new JsonArray();
        foreach (var id in context.AllIds)
        {
            foreach (var i in (await context.Session.Journeys.ListForCustomerAsync(id, cancellationToken).ConfigureAwait(false)).OrderBy(i => i.Journey, StringComparer.Ordinal))
            {
                list.Add(new JsonObject
                {
                    ["customer"] = i.Customer.Value,
                    ["journey"] = i.Journey,
                    ["journeyVersion"] = i.JourneyVersion,
                    ["entry"] = i.Entry,
                    ["status"] = i.Status.ToString().ToLowerInvariant(),
                    ["step"] = i.Step,
                    ["enteredAt"] = i.EnteredAt?.ToString(),
                    ["wakeAt"] = i.WakeAt?.ToString(),
                    ["holdout"] = i.Holdout,
                    ["converted"] = i.Converted,
                    ["exitReason"] = i.ExitReason,
                });
            }
        }

        return list.Count == 0 ? null : new JsonObject { ["instances"] = list };
    }

    /// <inheritdoc />
    public async ValueTask EraseAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var id in context.AllIds)
        {
            await context.Session.Journeys.EraseCustomerAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }
}
