using System.Text.Json.Serialization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>The GDPR lawful basis of a processing (article 6).</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<LawfulBasis>))]
public enum LawfulBasis
{
    /// <summary>The person consented.</summary>
    Consent,

    /// <summary>Needed to perform a contract (e.g. a receipt for an order).</summary>
    Contract,

    /// <summary>Required by law.</summary>
    LegalObligation,

    /// <summary>Vital interests of the person.</summary>
    VitalInterests,

    /// <summary>A task in the public interest.</summary>
    PublicTask,

    /// <summary>Legitimate interests of the controller.</summary>
    LegitimateInterests,
}

/// <summary>How a consent choice was captured.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ConsentMethod>))]
public enum ConsentMethod
{
    /// <summary>A web form.</summary>
    Form,

    /// <summary>A point of sale.</summary>
    Pos,

    /// <summary>The mobile app.</summary>
    App,

    /// <summary>A bulk import.</summary>
    Import,

    /// <summary>An SMS keyword (e.g. STOP).</summary>
    SmsKeyword,

    /// <summary>A staff member on the customer's behalf.</summary>
    Staff,

    /// <summary>The preference center.</summary>
    PreferenceCenter,

    /// <summary>A link in a message (unsubscribe, spam complaint) reported by the sending provider.</summary>
    MessageLink,

    /// <summary>The engine itself (double opt-in expiry, merge consolidation).</summary>
    System,
}

/// <summary>The wording shown to the customer when the choice was captured.</summary>
/// <param name="Version">Version of the text, e.g. <c>2025-01</c>.</param>
/// <param name="Hash">Hash of the exact text shown (e.g. <c>sha256:…</c>), when known.</param>
/// <param name="Locale">BCP-47 locale of the text, when known.</param>
public sealed record ConsentWording(string Version, string? Hash = null, string? Locale = null);

/// <summary>Proof attached to a consent record.</summary>
public sealed record ConsentEvidence
{
    /// <summary>The double opt-in token sent to the customer.</summary>
    public string? DoubleOptInToken { get; init; }

    /// <summary>When the confirmation request was sent.</summary>
    public Instant? DoubleOptInSentAt { get; init; }

    /// <summary>When the customer confirmed.</summary>
    public Instant? DoubleOptInConfirmedAt { get; init; }

    /// <summary>IP address the choice came from (optional; personal data).</summary>
    public string? IpAddress { get; init; }

    /// <summary>User agent the choice came from (optional; personal data).</summary>
    public string? UserAgent { get; init; }
}

/// <summary>
/// One entry of a customer's append-only consent history for one contact channel and one purpose. The current state is
/// a fold of the history (see <c>ConsentEngine.Fold</c>); records are never changed, only anonymized on erasure.
/// </summary>
public sealed record ConsentRecord
{
    /// <summary>Unique id of the record.</summary>
    public required string RecordId { get; init; }

    /// <summary>The customer (after a merge: the survivor; see <see cref="OriginalCustomer"/>).</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The contact channel.</summary>
    public required ContactChannel Channel { get; init; }

    /// <summary>The purpose.</summary>
    public required ConsentPurpose Purpose { get; init; }

    /// <summary>The status from <see cref="EffectiveFrom"/> on.</summary>
    public required ConsentStatus Status { get; init; }

    /// <summary>The lawful basis of the processing.</summary>
    public LawfulBasis LawfulBasis { get; init; } = LawfulBasis.Consent;

    /// <summary>When the choice was captured.</summary>
    public required Instant CapturedAt { get; init; }

    /// <summary>When the choice takes effect (usually <see cref="CapturedAt"/>).</summary>
    public required Instant EffectiveFrom { get; init; }

    /// <summary>When a grant lapses, if it does.</summary>
    public Instant? ExpiresAt { get; init; }

    /// <summary>How it was captured.</summary>
    public required ConsentMethod Method { get; init; }

    /// <summary>Where it was captured (a form id, a store, an import batch, an event id…).</summary>
    public string? Source { get; init; }

    /// <summary>The wording shown.</summary>
    public ConsentWording? Wording { get; init; }

    /// <summary>Double opt-in and request evidence.</summary>
    public ConsentEvidence? Evidence { get; init; }

    /// <summary>Who recorded it: <c>customer</c>, a staff id, <c>system</c>, an integration name.</summary>
    public required string Actor { get; init; }

    /// <summary>The event that carried the choice, when it came through the pipeline.</summary>
    public EventId? CausedBy { get; init; }

    /// <summary>The customer the record was first written for, when a merge moved it.</summary>
    public CustomerId? OriginalCustomer { get; init; }

    /// <summary>Position in the tenant's consent log (assigned by the store; orders records captured at the same
    /// instant).</summary>
    public long Sequence { get; init; }
}

/// <summary>The current state of one channel × purpose, folded from the history.</summary>
/// <param name="Channel">The contact channel.</param>
/// <param name="Purpose">The purpose.</param>
/// <param name="Status">The status at the time of the fold.</param>
/// <param name="Since">When that status took effect.</param>
/// <param name="ExpiresAt">When a grant will lapse, or when a pending double opt-in expires.</param>
/// <param name="RecordId">The record the status comes from.</param>
public sealed record ConsentState(ContactChannel Channel, ConsentPurpose Purpose, ConsentStatus Status, Instant Since, Instant? ExpiresAt, string RecordId);

/// <summary>What the host records through <c>IConsentService.RecordAsync</c>: a consent choice with its full evidence.</summary>
public sealed record ConsentRecordRequest
{
    /// <summary>The tenant.</summary>
    public required TenantId Tenant { get; init; }

    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The contact channel.</summary>
    public required ContactChannel Channel { get; init; }

    /// <summary>The purpose.</summary>
    public required ConsentPurpose Purpose { get; init; }

    /// <summary>The new status (granted, denied, pending or withdrawn; <c>expired</c> is the engine's).</summary>
    public required ConsentStatus Status { get; init; }

    /// <summary>The lawful basis.</summary>
    public LawfulBasis LawfulBasis { get; init; } = LawfulBasis.Consent;

    /// <summary>When the choice was captured (not in the future).</summary>
    public required Instant CapturedAt { get; init; }

    /// <summary>When it takes effect; defaults to <see cref="CapturedAt"/> (not in the future).</summary>
    public Instant? EffectiveFrom { get; init; }

    /// <summary>When a grant lapses.</summary>
    public Instant? ExpiresAt { get; init; }

    /// <summary>How it was captured.</summary>
    public required ConsentMethod Method { get; init; }

    /// <summary>Where it was captured.</summary>
    public string? Source { get; init; }

    /// <summary>The wording shown.</summary>
    public ConsentWording? Wording { get; init; }

    /// <summary>Evidence (double opt-in token, IP, user agent).</summary>
    public ConsentEvidence? Evidence { get; init; }

    /// <summary>Who records it.</summary>
    public string Actor { get; init; } = "customer";
}
