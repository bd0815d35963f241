using System.Text.Json;
using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Events;

/// <summary>A postal address.</summary>
public sealed record PostalAddress
{
    /// <summary>Street and number.</summary>
    public string? Line1 { get; init; }

    /// <summary>Additional address line.</summary>
    public string? Line2 { get; init; }

    /// <summary>City or suburb.</summary>
    public string? City { get; init; }

    /// <summary>Postal code, kept as text (leading zeros).</summary>
    public string? PostalCode { get; init; }

    /// <summary>State or region.</summary>
    public string? Region { get; init; }

    /// <summary>ISO 3166-1 alpha-2 country code.</summary>
    public string? Country { get; init; }
}

/// <summary>Profile fields; a null field means "not changed".</summary>
public sealed record ProfileData
{
    /// <summary>Given (first) name.</summary>
    public string? GivenName { get; init; }

    /// <summary>Family (last) name.</summary>
    public string? FamilyName { get; init; }

    /// <summary>Date of birth.</summary>
    public LocalDate? BirthDate { get; init; }

    /// <summary>IANA time zone id, e.g. <c>Europe/Paris</c>.</summary>
    public string? TimeZone { get; init; }

    /// <summary>BCP-47 locale, e.g. <c>fr-FR</c>.</summary>
    public string? Locale { get; init; }

    /// <summary>Postal address.</summary>
    public PostalAddress? Address { get; init; }
}

/// <summary>A customer signed up for the program.</summary>
public sealed record SignedUp : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.SignedUp;

    /// <summary>The profile given at sign-up.</summary>
    public ProfileData? Profile { get; init; }
}

/// <summary>A customer's profile changed.</summary>
public sealed record ProfileUpdated : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.ProfileUpdated;

    /// <summary>The changed fields.</summary>
    public required ProfileData Profile { get; init; }
}

/// <summary>A channel through which a customer can be contacted (consent is given per contact channel).</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ContactChannel>))]
public enum ContactChannel
{
    /// <summary>E-mail.</summary>
    Email,

    /// <summary>SMS.</summary>
    Sms,

    /// <summary>Push notification.</summary>
    Push,

    /// <summary>WhatsApp.</summary>
    WhatsApp,

    /// <summary>Phone call.</summary>
    Phone,

    /// <summary>Postal mail.</summary>
    Postal,

    /// <summary>In-app message.</summary>
    InApp,
}

/// <summary>Why a customer is contacted or their data used.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ConsentPurpose>))]
public enum ConsentPurpose
{
    /// <summary>Marketing messages.</summary>
    Marketing,

    /// <summary>Personalized content.</summary>
    Personalization,

    /// <summary>Profiling and analytics.</summary>
    Profiling,

    /// <summary>Transactional messages (receipts, service).</summary>
    Transactional,

    /// <summary>Sharing with third parties.</summary>
    ThirdPartySharing,
}

/// <summary>The state of a consent choice.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ConsentStatus>))]
public enum ConsentStatus
{
    /// <summary>Consent given.</summary>
    Granted,

    /// <summary>Consent refused.</summary>
    Denied,

    /// <summary>Waiting for double opt-in confirmation.</summary>
    Pending,

    /// <summary>Consent given earlier and withdrawn.</summary>
    Withdrawn,

    /// <summary>Consent lapsed: a double opt-in was not confirmed in time, or a grant reached its expiry.</summary>
    Expired,
}

/// <summary>A consent choice changed.</summary>
public sealed record ConsentChanged : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.ConsentChanged;

    /// <summary>The contact channel the choice is about.</summary>
    public required ContactChannel ContactChannel { get; init; }

    /// <summary>The purpose the choice is about.</summary>
    public required ConsentPurpose Purpose { get; init; }

    /// <summary>The new status.</summary>
    public required ConsentStatus Status { get; init; }

    /// <summary>Where it was captured (form, pos, app, import, sms_keyword, staff).</summary>
    public string? Source { get; init; }

    /// <summary>Version of the wording shown to the customer.</summary>
    public string? WordingVersion { get; init; }
}

/// <summary>What kind of interaction happened.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<InteractionKind>))]
public enum InteractionKind
{
    /// <summary>A message was delivered.</summary>
    MessageDelivered,

    /// <summary>A message was opened.</summary>
    MessageOpened,

    /// <summary>A link in a message was clicked.</summary>
    MessageClicked,

    /// <summary>A message bounced.</summary>
    MessageBounced,

    /// <summary>The customer unsubscribed from a message.</summary>
    Unsubscribed,

    /// <summary>The customer marked a message as spam.</summary>
    SpamComplaint,

    /// <summary>An app session.</summary>
    AppVisit,

    /// <summary>A web site visit.</summary>
    SiteVisit,

    /// <summary>A visit to a physical store.</summary>
    StoreVisit,
}

/// <summary>A message interaction or a visit.</summary>
public sealed record Interaction : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.Interaction;

    /// <summary>What happened.</summary>
    public required InteractionKind InteractionKind { get; init; }

    /// <summary>The message concerned, for message interactions.</summary>
    public string? MessageId { get; init; }
}

/// <summary>Whether a support ticket was opened or closed.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<TicketStatus>))]
public enum TicketStatus
{
    /// <summary>Opened.</summary>
    Opened,

    /// <summary>Closed.</summary>
    Closed,
}

/// <summary>A support ticket was opened or closed.</summary>
public sealed record SupportTicket : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.SupportTicket;

    /// <summary>The ticket's id.</summary>
    public required string TicketId { get; init; }

    /// <summary>Opened or closed.</summary>
    public required TicketStatus Status { get; init; }

    /// <summary>Satisfaction score 1 to 5, when closed and rated.</summary>
    public int? Satisfaction { get; init; }
}

/// <summary>A product review was submitted.</summary>
public sealed record ReviewSubmitted : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.ReviewSubmitted;

    /// <summary>The SKU reviewed.</summary>
    public required string Sku { get; init; }

    /// <summary>Rating 1 to 5.</summary>
    public required int Rating { get; init; }
}

/// <summary>A custom event; its <see cref="Name"/> must be registered in the tenant's program definition.</summary>
public sealed record CustomEvent : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.Custom;

    /// <summary>The registered name, e.g. <c>store_checkin</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Properties, checked against the registered property types.</summary>
    public IReadOnlyDictionary<string, JsonElement> Properties { get; init => field = value ?? new Dictionary<string, JsonElement>(); } = new Dictionary<string, JsonElement>();
}
