using System.Globalization;
using System.Text.Json.Nodes;
using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Simulation;

/// <summary>
/// The <c>consent</c> section of the report: a daily marketing send attempt for a sample of customers goes through the
/// real send gate (reserving cap slots, so caps bite as they would in production), plus opt-in rates by channel and
/// contact pressure per customer per week.
/// </summary>
public static class ConsentReport
{
    /// <summary>Customers in the daily-send sample.</summary>
    public const int SampleSize = 1000;

    /// <summary>Builds the section.</summary>
    /// <param name="consent">The consent service.</param>
    /// <param name="program">The tenant's program.</param>
    /// <param name="tenant">The tenant.</param>
    /// <param name="customers">Final customers and when each was first seen.</param>
    /// <param name="events">The history (for its time range).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static async Task<JsonObject> BuildAsync(
        IConsentService consent, LoyaltyProgram program, TenantId tenant, IReadOnlyDictionary<CustomerId, Instant> customers, IReadOnlyList<LoyaltyEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consent);
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(customers);
        ArgumentNullException.ThrowIfNull(events);
        var policy = CompiledConsentPolicy.For(program);
        var messageClass = policy.FindClass("promotional") ?? policy.Source.MessageClasses.FirstOrDefault(m => m.Purpose == ConsentPurpose.Marketing);
        if (messageClass is null || events.Count == 0)
        {
            return ReportBuilder.NotYet("The program's consent policy has no marketing message class to simulate sends with.");
        }

        var end = events.Max(e => e.OccurredAt);
        var start = events.Min(e => e.OccurredAt);

        // Opt-in rates by channel (marketing), over customers asked on that channel.
        var asked = new Dictionary<ContactChannel, int>();
        var granted = new Dictionary<ContactChannel, int>();
        foreach (var customer in customers.Keys)
        {
            foreach (var state in await consent.GetStatesAsync(tenant, customer, end, cancellationToken).ConfigureAwait(false))
            {
                if (state.Purpose != ConsentPurpose.Marketing)
                {
                    continue;
                }

                asked[state.Channel] = asked.GetValueOrDefault(state.Channel) + 1;
                if (state.Status == ConsentStatus.Granted)
                {
                    granted[state.Channel] = granted.GetValueOrDefault(state.Channel) + 1;
                }
            }
        }

        var optIn = new JsonObject();
        foreach (var channel in asked.Keys.Order())
        {
            optIn[Snake(channel)] = new JsonObject
            {
                ["asked"] = asked[channel],
                ["granted"] = granted.GetValueOrDefault(channel),
                ["rate"] = Round(granted.GetValueOrDefault(channel) / (double)asked[channel]),
                ["shareOfCustomers"] = Round(granted.GetValueOrDefault(channel) / (double)Math.Max(1, customers.Count)),
            };
        }

        // A daily marketing e-mail attempt for a deterministic sample, at a customer-specific hour of the day.
        var sample = customers.OrderBy(c => c.Key.Value, StringComparer.Ordinal).Take(SampleSize).ToArray();
        var first = start.InUtc().Date;
        var last = end.InUtc().Date;
        var verdicts = new Dictionary<SendVerdict, int> { [SendVerdict.Send] = 0, [SendVerdict.Defer] = 0, [SendVerdict.Skip] = 0 };
        var reasons = new Dictionary<(SendVerdict, SendReasonCode), int>();
        int attempts = 0, sentAfterDefer = 0, skippedAfterDefer = 0;
        for (var day = first; day <= last; day = day.PlusDays(1))
        {
            foreach (var (customer, firstSeen) in sample)
            {
                var hour = 8 + (int)(customer.Value.Aggregate(17u, (h, c) => (h * 31) + c) % 14);
                var at = day.At(new LocalTime(hour, 0)).InUtc().ToInstant();
                if (at < firstSeen)
                {
                    continue;
                }

                attempts++;
                var check = new SendCheck
                {
                    Tenant = tenant, Customer = customer, Channel = ContactChannel.Email, Purpose = messageClass.Purpose, MessageClass = messageClass.Id, At = at,
                    MessageId = $"sim-{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}-{customer.Value}",
                };
                var r = await consent.TryReserveSendAsync(check, cancellationToken).ConfigureAwait(false);
                verdicts[r.Decision.Verdict]++;
                foreach (var reason in r.Decision.Verdict == SendVerdict.Send ? r.Decision.Reasons.Take(1) : r.Decision.Reasons)
                {
                    reasons[(r.Decision.Verdict, reason.Code)] = reasons.GetValueOrDefault((r.Decision.Verdict, reason.Code)) + 1;
                }

                if (r.Decision is { Verdict: SendVerdict.Defer, DeferUntil: { } until })
                {
                    var retry = await consent.TryReserveSendAsync(check with { At = until }, cancellationToken).ConfigureAwait(false);
                    if (retry.Reserved)
                    {
                        sentAfterDefer++;
                    }
                    else
                    {
                        skippedAfterDefer++;
                    }
                }
            }
        }

        JsonObject By(SendVerdict verdict)
        {
            var o = new JsonObject();
            foreach (var ((v, code), n) in reasons.Where(kv => kv.Key.Item1 == verdict).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Item2))
            {
                o[Snake(code)] = n;
            }

            return o;
        }

        var saturation = await consent.GetSaturationAsync(tenant, first.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant(), last.PlusDays(2).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant(), cancellationToken).ConfigureAwait(false);
        var weeks = saturation.Weeks;
        return new JsonObject
        {
            ["available"] = true,
            ["messageClass"] = messageClass.Id,
            ["channel"] = "email",
            ["sampledCustomers"] = sample.Length,
            ["attempts"] = attempts,
            ["sent"] = verdicts[SendVerdict.Send],
            ["deferred"] = verdicts[SendVerdict.Defer],
            ["skipped"] = verdicts[SendVerdict.Skip],
            ["sentAfterDefer"] = sentAfterDefer,
            ["skippedAfterDefer"] = skippedAfterDefer,
            ["sentByReason"] = By(SendVerdict.Send),
            ["deferredByReason"] = By(SendVerdict.Defer),
            ["skippedByReason"] = By(SendVerdict.Skip),
            ["optInByChannel"] = optIn,
            ["saturation"] = new JsonObject
            {
                ["messagesPerReachedCustomerPerWeek"] = Round(weeks.Count == 0 ? 0 : weeks.Average(w => w.MessagesPerCustomer)),
                ["maxPerCustomerPerWeek"] = weeks.Count == 0 ? 0 : weeks.Max(w => w.MaxPerCustomer),
                ["weekly"] = new JsonArray(weeks.Select(w => (JsonNode)new JsonObject
                {
                    ["week"] = w.WeekStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["messages"] = w.Messages,
                    ["customers"] = w.Customers,
                    ["perCustomer"] = w.MessagesPerCustomer,
                    ["max"] = w.MaxPerCustomer,
                }).ToArray()),
            },
        };
    }

    private static string Snake<T>(T value)
        where T : struct, Enum => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    private static double Round(double value) => Math.Round(value, 4, MidpointRounding.AwayFromZero);
}
