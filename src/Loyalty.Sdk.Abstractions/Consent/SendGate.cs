using System.Text.Json.Serialization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>What the send gate says about one message.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<SendVerdict>))]
public enum SendVerdict
{
    /// <summary>Send now.</summary>
    Send,

    /// <summary>Hold the message until <see cref="SendDecision.DeferUntil"/>, then check again.</summary>
    Defer,

    /// <summary>Do not send.</summary>
    Skip,
}

/// <summary>Machine-readable reasons of the send gate.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<SendReasonCode>))]
public enum SendReasonCode
{
    /// <summary>Marketing consent is granted for the channel and purpose.</summary>
    ConsentGranted,

    /// <summary>A transactional message: consent, caps, holdouts and preferences do not apply.</summary>
    TransactionalBypass,

    /// <summary>No consent was ever recorded, or it was denied.</summary>
    NoConsent,

    /// <summary>Consent was withdrawn.</summary>
    Withdrawn,

    /// <summary>A double opt-in is pending confirmation.</summary>
    ConsentPending,

    /// <summary>The consent lapsed (unconfirmed double opt-in, or expiry).</summary>
    ConsentExpired,

    /// <summary>The customer or the address is on a suppression list (see <see cref="SendReason.List"/>).</summary>
    Suppressed,

    /// <summary>A frequency cap is reached (see <see cref="SendReason.Rule"/> and <see cref="SendReason.Until"/>).</summary>
    FrequencyCap,

    /// <summary>Quiet hours or outside the channel's send window (until <see cref="SendReason.Until"/>).</summary>
    QuietHours,

    /// <summary>No address for the channel (e-mail, phone or device identifier; postal address).</summary>
    NoVerifiedAddress,

    /// <summary>The customer is in a holdout (control) group.</summary>
    Holdout,

    /// <summary>The customer paused marketing until a date.</summary>
    Paused,

    /// <summary>The customer unsubscribed from the message's topic.</summary>
    TopicUnsubscribed,

    /// <summary>The message would have to wait beyond the class's deferral horizon.</summary>
    DeferHorizonExceeded,
}

/// <summary>A suppression list.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<SuppressionList>))]
public enum SuppressionList
{
    /// <summary>The address bounced hard (hard suppression: applies to transactional messages too).</summary>
    HardBounce,

    /// <summary>The customer marked a message as spam (marketing only).</summary>
    SpamComplaint,

    /// <summary>The customer unsubscribed from all marketing (marketing only).</summary>
    UnsubscribedAll,

    /// <summary>Staff put the customer on do-not-contact (hard suppression).</summary>
    StaffDoNotContact,

    /// <summary>The address belonged to an erased person (hard suppression, kept as a salted hash).</summary>
    Erased,
}

/// <summary>Where the gate took the customer's time zone from.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<TimeZoneSource>))]
public enum TimeZoneSource
{
    /// <summary>The profile's time zone (or the preference center's).</summary>
    Profile,

    /// <summary>Inferred from the phone number's country when the country has a single zone.</summary>
    Inferred,

    /// <summary>The program's default time zone.</summary>
    TenantDefault,
}

/// <summary>One reason of a send decision. <see cref="Code"/> is the stable machine-readable part; the other fields
/// are set when they apply.</summary>
public sealed record SendReason
{
    /// <summary>The reason.</summary>
    public required SendReasonCode Code { get; init; }

    /// <summary>The suppression list, for <see cref="SendReasonCode.Suppressed"/>.</summary>
    public SuppressionList? List { get; init; }

    /// <summary>The channel a suppression or cap applies to; null for all channels.</summary>
    public ContactChannel? ScopeChannel { get; init; }

    /// <summary>The cap rule id, for <see cref="SendReasonCode.FrequencyCap"/>.</summary>
    public string? Rule { get; init; }

    /// <summary>For caps: messages counted in the window; for quiet hours: unused.</summary>
    public int? Count { get; init; }

    /// <summary>For caps: the rule's maximum.</summary>
    public int? Max { get; init; }

    /// <summary>When the obstacle ends: the cap window frees a slot, quiet hours end, a pause ends.</summary>
    public Instant? Until { get; init; }

    /// <summary><see cref="Until"/> in the customer's local time.</summary>
    public LocalDateTime? LocalUntil { get; init; }

    /// <summary>The consent status behind a consent reason.</summary>
    public ConsentStatus? Status { get; init; }

    /// <summary>The topic, for <see cref="SendReasonCode.TopicUnsubscribed"/>.</summary>
    public string? Topic { get; init; }

    /// <summary>A sentence for people.</summary>
    public string Message => Code switch
    {
        SendReasonCode.ConsentGranted => "Consent is granted for this channel and purpose.",
        SendReasonCode.TransactionalBypass => "Transactional message: marketing consent, caps and holdouts do not apply.",
        SendReasonCode.NoConsent => Status is { } s ? $"Consent is {s.ToString().ToLowerInvariant()}." : "No consent was recorded for this channel and purpose.",
        SendReasonCode.Withdrawn => "Consent was withdrawn.",
        SendReasonCode.ConsentPending => "Double opt-in is not confirmed yet.",
        SendReasonCode.ConsentExpired => "Consent expired.",
        SendReasonCode.Suppressed => $"On the {List?.ToString() ?? "?"} suppression list{(ScopeChannel is { } c ? $" for {c}" : " for all channels")}.",
        SendReasonCode.FrequencyCap => $"Frequency cap '{Rule}' reached ({Count}/{Max}); a slot frees at {LocalUntil?.ToString("yyyy-MM-dd HH:mm", null) ?? Until?.ToString()} local time.",
        SendReasonCode.QuietHours => $"Quiet hours or outside the send window until {LocalUntil?.ToString("yyyy-MM-dd HH:mm", null)} local time.",
        SendReasonCode.NoVerifiedAddress => "No address is known for this channel.",
        SendReasonCode.Holdout => "The customer is in the holdout group.",
        SendReasonCode.Paused => $"Marketing is paused until {LocalUntil?.ToString("yyyy-MM-dd", null)}.",
        SendReasonCode.TopicUnsubscribed => $"Unsubscribed from the topic '{Topic}'.",
        SendReasonCode.DeferHorizonExceeded => $"The message would wait until {Until}, beyond the class's deferral horizon.",
        _ => Code.ToString(),
    };
}

/// <summary>A question to the send gate: may this message go to this customer now?</summary>
public sealed record SendCheck
{
    /// <summary>The tenant.</summary>
    public required TenantId Tenant { get; init; }

    /// <summary>The recipient.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The channel.</summary>
    public required ContactChannel Channel { get; init; }

    /// <summary>The purpose (must be the message class's purpose).</summary>
    public required ConsentPurpose Purpose { get; init; }

    /// <summary>The message class id from the program's consent policy, e.g. <c>promotional</c>.</summary>
    public required string MessageClass { get; init; }

    /// <summary>The dispatch instant.</summary>
    public required Instant At { get; init; }

    /// <summary>The message id: reserving the same id twice consumes one slot; also names the decision.</summary>
    public string? MessageId { get; init; }

    /// <summary>Tags added to the class's tags (for tag-scoped caps).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>The send gate's answer: send, defer until an instant, or skip, always with reasons.</summary>
public sealed record SendDecision
{
    /// <summary>The verdict.</summary>
    public required SendVerdict Verdict { get; init; }

    /// <summary>For <see cref="SendVerdict.Defer"/>: when to try again.</summary>
    public Instant? DeferUntil { get; init; }

    /// <summary>Why. Never empty.</summary>
    public required IReadOnlyList<SendReason> Reasons { get; init; }

    /// <summary>The recipient.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The channel.</summary>
    public required ContactChannel Channel { get; init; }

    /// <summary>The purpose.</summary>
    public required ConsentPurpose Purpose { get; init; }

    /// <summary>The message class.</summary>
    public required string MessageClass { get; init; }

    /// <summary>The instant checked.</summary>
    public required Instant At { get; init; }

    /// <summary>The customer's time zone used.</summary>
    public required string TimeZone { get; init; }

    /// <summary>Where the time zone came from.</summary>
    public required TimeZoneSource TimeZoneSource { get; init; }

    /// <summary>Whether the reason list contains <paramref name="code"/>.</summary>
    public bool Has(SendReasonCode code)
    {
        foreach (var r in Reasons)
        {
            if (r.Code == code)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The result of <c>IConsentService.TryReserveSendAsync</c>.</summary>
/// <param name="Decision">The gate's decision.</param>
/// <param name="Reserved">Whether a cap slot was consumed (only when the verdict is send).</param>
public sealed record SendReservation(SendDecision Decision, bool Reserved);

/// <summary>A message that was dispatched (it counts toward frequency caps).</summary>
public sealed record SendRecord
{
    /// <summary>The message id.</summary>
    public required string MessageId { get; init; }

    /// <summary>The recipient.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The channel.</summary>
    public required ContactChannel Channel { get; init; }

    /// <summary>The message class.</summary>
    public required string MessageClass { get; init; }

    /// <summary>The class's and the message's tags.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>When it was dispatched.</summary>
    public required Instant SentAt { get; init; }

    /// <summary>Whether it counts toward frequency caps (transactional messages do not).</summary>
    public bool CountsTowardCaps { get; init; } = true;
}

/// <summary>The dispatched messages of one customer with the version used for compare-and-swap reservation.</summary>
/// <param name="Sends">The sends, oldest first.</param>
/// <param name="Version">Changes on every reservation or release.</param>
public sealed record SendLog(IReadOnlyList<SendRecord> Sends, long Version);

/// <summary>A customer on a suppression list.</summary>
public sealed record SuppressionEntry
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The list.</summary>
    public required SuppressionList List { get; init; }

    /// <summary>The channel; null for every channel.</summary>
    public ContactChannel? Channel { get; init; }

    /// <summary>Since when.</summary>
    public required Instant Since { get; init; }

    /// <summary>What caused it (event id, staff id…).</summary>
    public string? Source { get; init; }
}

/// <summary>An address suppressed as a salted hash (no personal value is kept).</summary>
public sealed record AddressSuppression
{
    /// <summary>Salted SHA-256 of the normalized identifier (hex).</summary>
    public required string AddressHash { get; init; }

    /// <summary>The list.</summary>
    public required SuppressionList List { get; init; }

    /// <summary>The channel; null for every channel.</summary>
    public ContactChannel? Channel { get; init; }

    /// <summary>Since when.</summary>
    public required Instant Since { get; init; }
}

/// <summary>Counts of gate outcomes for one ISO week, kept for the saturation view.</summary>
/// <param name="WeekStart">Monday of the week (UTC dates).</param>
/// <param name="Verdict">The verdict.</param>
/// <param name="Reason">The main reason.</param>
/// <param name="Count">How many.</param>
public sealed record GateOutcomeCount(LocalDate WeekStart, SendVerdict Verdict, SendReasonCode Reason, long Count);

/// <summary>Contact pressure over a period.</summary>
public sealed record SaturationView
{
    /// <summary>Start of the period.</summary>
    public required Instant From { get; init; }

    /// <summary>End of the period (exclusive).</summary>
    public required Instant To { get; init; }

    /// <summary>Messages per customer per ISO week.</summary>
    public IReadOnlyList<WeeklySaturation> Weeks { get; init; } = [];

    /// <summary>Messages deferred, by main reason.</summary>
    public IReadOnlyDictionary<string, long> DeferredByReason { get; init; } = new Dictionary<string, long>();

    /// <summary>Messages skipped, by main reason.</summary>
    public IReadOnlyDictionary<string, long> SkippedByReason { get; init; } = new Dictionary<string, long>();
}

/// <summary>One week of the saturation view.</summary>
/// <param name="WeekStart">Monday of the week.</param>
/// <param name="Messages">Messages dispatched.</param>
/// <param name="Customers">Customers who received at least one.</param>
/// <param name="MessagesPerCustomer">Average over customers who received at least one.</param>
/// <param name="MaxPerCustomer">The most any customer received.</param>
public sealed record WeeklySaturation(LocalDate WeekStart, int Messages, int Customers, double MessagesPerCustomer, int MaxPerCustomer);
