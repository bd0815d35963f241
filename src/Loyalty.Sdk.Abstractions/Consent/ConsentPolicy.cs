using System.Text.Json.Serialization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Serialization;

namespace Loyalty.Sdk.Consent;

/// <summary>
/// The consent and contact-pressure section of a program (<c>$.consent</c>): frequency caps, quiet hours and send
/// windows, double opt-in, message classes, tags, topics and the holdout group. Local times are <c>HH:mm</c> in the
/// customer's time zone.
/// </summary>
public sealed record ConsentPolicy
{
    private readonly IReadOnlyList<FrequencyCapRule> caps = [];
    private readonly IReadOnlyList<SendWindow> sendWindows = [];
    private readonly IReadOnlyList<MessageClassDefinition> messageClasses = [];
    private readonly IReadOnlyList<string> tags = [];
    private readonly IReadOnlyList<TopicDefinition> topics = [];
    private readonly DoubleOptInPolicy doubleOptIn = new();

    /// <summary>A policy without caps or quiet hours, with the classes <c>marketing</c> and <c>transactional</c>; used
    /// when a program has no consent section.</summary>
    public static ConsentPolicy Default { get; } = new()
    {
        MessageClasses =
        [
            new MessageClassDefinition { Id = "marketing", Purpose = ConsentPurpose.Marketing },
            new MessageClassDefinition { Id = "transactional", Purpose = ConsentPurpose.Transactional },
        ],
    };

    /// <summary>Frequency caps; every rule that matches a message applies, the most restrictive wins.</summary>
    public IReadOnlyList<FrequencyCapRule> Caps { get => caps; init => caps = value ?? []; }

    /// <summary>Quiet hours for every channel (e.g. 21:00 to 09:00), if any.</summary>
    public QuietHours? QuietHours { get; init; }

    /// <summary>Per-channel send windows (e.g. SMS only 10:00 to 20:00).</summary>
    public IReadOnlyList<SendWindow> SendWindows { get => sendWindows; init => sendWindows = value ?? []; }

    /// <summary>Double opt-in.</summary>
    public DoubleOptInPolicy DoubleOptIn { get => doubleOptIn; init => doubleOptIn = value ?? new(); }

    /// <summary>Message classes; the send gate is asked about a class.</summary>
    public IReadOnlyList<MessageClassDefinition> MessageClasses { get => messageClasses; init => messageClasses = value ?? []; }

    /// <summary>Tags that classes and cap rules may use (e.g. <c>promotions</c>).</summary>
    public IReadOnlyList<string> Tags { get => tags; init => tags = value ?? []; }

    /// <summary>Topics of the preference center (e.g. offers, tier updates, product news, newsletters).</summary>
    public IReadOnlyList<TopicDefinition> Topics { get => topics; init => topics = value ?? []; }

    /// <summary>The holdout (control) group, if any.</summary>
    public HoldoutPolicy? Holdout { get; init; }
}

/// <summary>The window of a frequency cap.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<CapWindowKind>))]
public enum CapWindowKind
{
    /// <summary>The last <c>days × 24</c> hours before the send.</summary>
    Rolling,

    /// <summary>The current local calendar day and the <c>days − 1</c> before it, in the customer's time zone.</summary>
    CalendarDays,
}

/// <summary>A frequency cap: at most <see cref="Max"/> messages in the window, over the scope.</summary>
public sealed record FrequencyCapRule
{
    /// <summary>Rule id, reported when the cap is hit.</summary>
    public required string Id { get; init; }

    /// <summary>Only messages on this channel (null: every channel).</summary>
    public ContactChannel? Channel { get; init; }

    /// <summary>Only messages with this tag (null: every tag).</summary>
    public string? Tag { get; init; }

    /// <summary>Maximum messages in the window (at least 1).</summary>
    public required int Max { get; init; }

    /// <summary>Rolling or calendar days.</summary>
    public CapWindowKind Window { get; init; } = CapWindowKind.Rolling;

    /// <summary>Length of the window in days (1 to 366).</summary>
    public required int Days { get; init; }
}

/// <summary>Quiet hours: no message from <see cref="Start"/> to <see cref="End"/> (may cross midnight).</summary>
public sealed record QuietHours
{
    /// <summary>Start, <c>HH:mm</c> local time.</summary>
    public required string Start { get; init; }

    /// <summary>End, <c>HH:mm</c> local time.</summary>
    public required string End { get; init; }
}

/// <summary>A channel's send window: messages only from <see cref="From"/> to <see cref="To"/> local time.</summary>
public sealed record SendWindow
{
    /// <summary>The channel.</summary>
    public required ContactChannel Channel { get; init; }

    /// <summary>Opens, <c>HH:mm</c>.</summary>
    public required string From { get; init; }

    /// <summary>Closes, <c>HH:mm</c> (may be before <see cref="From"/> to cross midnight).</summary>
    public required string To { get; init; }
}

/// <summary>Double opt-in rules.</summary>
public sealed record DoubleOptInPolicy
{
    private readonly IReadOnlyList<ContactChannel> channels = [];

    /// <summary>Hours a pending double opt-in stays confirmable before it expires (1 to 8760; default 72).</summary>
    public int? TimeoutHours { get; init; }

    /// <summary>Channels where a marketing grant without confirmation evidence starts as pending.</summary>
    public IReadOnlyList<ContactChannel> Channels { get => channels; init => channels = value ?? []; }
}

/// <summary>What a cap hit does to a message of a class.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<CapAction>))]
public enum CapAction
{
    /// <summary>Drop the message.</summary>
    Skip,

    /// <summary>Hold it until the window frees, within the class's horizon; beyond it, skip.</summary>
    Defer,
}

/// <summary>A class of messages (e.g. <c>promotional</c>, <c>newsletter</c>, <c>receipt</c>).</summary>
public sealed record MessageClassDefinition
{
    private readonly IReadOnlyList<string> tags = [];

    /// <summary>Class id.</summary>
    public required string Id { get; init; }

    /// <summary>The purpose; <c>transactional</c> classes bypass marketing consent, caps, holdouts and preferences,
    /// never hard suppression or unreachability.</summary>
    public required ConsentPurpose Purpose { get; init; }

    /// <summary>Tags (declared in <see cref="ConsentPolicy.Tags"/>).</summary>
    public IReadOnlyList<string> Tags { get => tags; init => tags = value ?? []; }

    /// <summary>Preference-center topic the class belongs to, if any.</summary>
    public string? Topic { get; init; }

    /// <summary>What a cap hit does.</summary>
    public CapAction OnCapReached { get; init; } = CapAction.Skip;

    /// <summary>How long a message may be deferred (hours, 0 to 720; default 24); beyond it, it is skipped.</summary>
    public int? DeferHorizonHours { get; init; }

    /// <summary>Whether quiet hours and send windows hold the message; defaults to true except for transactional.</summary>
    public bool? RespectQuietHours { get; init; }
}

/// <summary>A preference-center topic.</summary>
public sealed record TopicDefinition
{
    /// <summary>Topic id, e.g. <c>offers</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Display name.</summary>
    public required string Name { get; init; }
}

/// <summary>A deterministic holdout group: a share of customers who get no marketing, to measure its effect.</summary>
public sealed record HoldoutPolicy
{
    private readonly string salt = "holdout";

    /// <summary>Share of customers held out, 0 to 50 percent.</summary>
    public required double Percent { get; init; }

    /// <summary>Salt of the bucket hash; change it to draw a new group.</summary>
    public string Salt { get => salt; init => salt = value ?? "holdout"; }
}
