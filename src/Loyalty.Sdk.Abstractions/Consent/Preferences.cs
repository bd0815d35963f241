using System.Text.Json.Serialization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>How often a customer wants marketing.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<DesiredFrequency>))]
public enum DesiredFrequency
{
    /// <summary>As the program's caps allow.</summary>
    AsItHappens,

    /// <summary>At most one marketing message a day.</summary>
    DailyDigest,

    /// <summary>At most one marketing message every seven days.</summary>
    WeeklyDigest,

    /// <summary>At most one marketing message every thirty days.</summary>
    MonthlyDigest,
}

/// <summary>A customer's preferences beyond consent (kept with an append-only change log).</summary>
public sealed record PreferenceSettings
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>Topics the customer unsubscribed from.</summary>
    public IReadOnlyList<string> TopicsOptedOut { get; init; } = [];

    /// <summary>Desired frequency.</summary>
    public DesiredFrequency Frequency { get; init; } = DesiredFrequency.AsItHappens;

    /// <summary>No marketing before this local date (exclusive end of the pause: the pause ends at its start).</summary>
    public LocalDate? PausedUntil { get; init; }

    /// <summary>Time zone chosen in the preference center (wins over the profile's).</summary>
    public string? TimeZone { get; init; }

    /// <summary>Every change, oldest first.</summary>
    public IReadOnlyList<PreferenceChange> Changes { get; init; } = [];

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; init; }
}

/// <summary>One change in the preference center.</summary>
/// <param name="Field">What changed, e.g. <c>topics.offers</c>, <c>frequency</c>, <c>pausedUntil</c>.</param>
/// <param name="From">The old value.</param>
/// <param name="To">The new value.</param>
/// <param name="At">When.</param>
/// <param name="Method">How it was captured.</param>
/// <param name="Source">Where.</param>
/// <param name="Actor">Who.</param>
public sealed record PreferenceChange(string Field, string? From, string? To, Instant At, ConsentMethod Method, string? Source, string Actor);

/// <summary>The preference center as the host's UI shows it.</summary>
public sealed record PreferenceCenterView
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>One row per contact channel.</summary>
    public IReadOnlyList<ChannelPreference> Channels { get; init; } = [];

    /// <summary>Topics and whether the customer receives them.</summary>
    public IReadOnlyList<TopicPreference> Topics { get; init; } = [];

    /// <summary>Desired frequency.</summary>
    public DesiredFrequency Frequency { get; init; }

    /// <summary>Pause end, if paused.</summary>
    public LocalDate? PausedUntil { get; init; }

    /// <summary>Whether the customer is unsubscribed from all marketing.</summary>
    public bool UnsubscribedFromAll { get; init; }

    /// <summary>Data-sharing choices (third-party sharing, profiling, personalization), granted or not.</summary>
    public IReadOnlyDictionary<string, bool> DataSharing { get; init; } = new Dictionary<string, bool>();

    /// <summary>The time zone messages are timed in.</summary>
    public string? TimeZone { get; init; }
}

/// <summary>One channel of the preference center.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Reachable">Whether an address is known.</param>
/// <param name="Marketing">The marketing consent status, null when never asked.</param>
/// <param name="Suppressed">Suppression lists that apply.</param>
public sealed record ChannelPreference(ContactChannel Channel, bool Reachable, ConsentStatus? Marketing, IReadOnlyList<SuppressionList> Suppressed);

/// <summary>One topic of the preference center.</summary>
/// <param name="Id">Topic id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Subscribed">Whether the customer receives it.</param>
public sealed record TopicPreference(string Id, string Name, bool Subscribed);

/// <summary>A change submitted by the preference center; null fields are left as they are. Every change is written to
/// the consent or preference history with its source.</summary>
public sealed record PreferenceUpdate
{
    /// <summary>The tenant.</summary>
    public required TenantId Tenant { get; init; }

    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>When the customer made the change.</summary>
    public required Instant At { get; init; }

    /// <summary>Marketing opt-in (true) or opt-out (false) per channel.</summary>
    public IReadOnlyDictionary<ContactChannel, bool>? Channels { get; init; }

    /// <summary>Topic subscriptions.</summary>
    public IReadOnlyDictionary<string, bool>? Topics { get; init; }

    /// <summary>Desired frequency.</summary>
    public DesiredFrequency? Frequency { get; init; }

    /// <summary>Pause marketing until this local date.</summary>
    public LocalDate? PauseUntil { get; init; }

    /// <summary>End a pause now.</summary>
    public bool Resume { get; init; }

    /// <summary>Unsubscribe from all marketing (true) or lift that (false).</summary>
    public bool? UnsubscribeFromAll { get; init; }

    /// <summary>Share data with third parties.</summary>
    public bool? ThirdPartySharing { get; init; }

    /// <summary>Allow profiling and analytics.</summary>
    public bool? Profiling { get; init; }

    /// <summary>Allow personalization.</summary>
    public bool? Personalization { get; init; }

    /// <summary>The customer's IANA time zone.</summary>
    public string? TimeZone { get; init; }

    /// <summary>How it was captured.</summary>
    public ConsentMethod Method { get; init; } = ConsentMethod.PreferenceCenter;

    /// <summary>Where (page, app screen…).</summary>
    public string? Source { get; init; }

    /// <summary>The wording shown.</summary>
    public ConsentWording? Wording { get; init; }

    /// <summary>Evidence.</summary>
    public ConsentEvidence? Evidence { get; init; }

    /// <summary>Who.</summary>
    public string Actor { get; init; } = "customer";
}
