using System.Text.Json.Serialization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>What starts a journey.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<JourneyTriggerKind>))]
public enum JourneyTriggerKind
{
    /// <summary>An event of <see cref="JourneyTrigger.EventKind"/> matching <see cref="JourneyTrigger.Filter"/>.</summary>
    Event,

    /// <summary>The customer entered <see cref="JourneyTrigger.Segment"/>.</summary>
    SegmentEntered,

    /// <summary>The customer left <see cref="JourneyTrigger.Segment"/>.</summary>
    SegmentExited,

    /// <summary>A date attribute (<c>birthday</c> or <c>signup_anniversary</c>) plus <see cref="JourneyTrigger.OffsetDays"/>.</summary>
    DateAttribute,

    /// <summary>No event for <see cref="JourneyTrigger.Days"/> days.</summary>
    Inactivity,

    /// <summary>Points expire within <see cref="JourneyTrigger.Days"/> days (a ledger decision <c>points_expiring</c>).</summary>
    PointsExpiring,

    /// <summary>The tier changed (a ledger decision <c>tier_changed</c>).</summary>
    TierChanged,

    /// <summary>A points reservation expired (a ledger decision <c>reservation_expired</c>).</summary>
    ReservationExpired,
}

/// <summary>Whether a customer may enter a journey again.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<JourneyReEntry>))]
public enum JourneyReEntry
{
    /// <summary>Once in a lifetime.</summary>
    Once,

    /// <summary>At most once per <see cref="JourneyDefinition.ReEntryPeriod"/>.</summary>
    OncePerPeriod,

    /// <summary>Whenever the trigger fires and no instance is active.</summary>
    Always,
}

/// <summary>The kind of a journey step.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<JourneyStepKind>))]
public enum JourneyStepKind
{
    /// <summary>Wait <see cref="JourneyStep.Duration"/>.</summary>
    Wait,

    /// <summary>Wait until <see cref="JourneyStep.LocalTime"/> in the customer's time zone, <see cref="JourneyStep.Days"/> days later.</summary>
    WaitUntil,

    /// <summary>Wait for <see cref="JourneyStep.EventKind"/> at most <see cref="JourneyStep.Duration"/>; on timeout go to <see cref="JourneyStep.Else"/>.</summary>
    WaitForEvent,

    /// <summary>Go to <see cref="JourneyStep.Next"/> when <see cref="JourneyStep.Condition"/> holds, else to <see cref="JourneyStep.Else"/>.</summary>
    Condition,

    /// <summary>Sticky deterministic split over <see cref="JourneyStep.Branches"/> (hash of customer and journey).</summary>
    Split,

    /// <summary>Perform <see cref="JourneyStep.Action"/>, then go to <see cref="JourneyStep.Next"/>.</summary>
    Action,

    /// <summary>Leave the journey.</summary>
    Exit,
}

/// <summary>The kind of a journey action.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<JourneyActionKind>))]
public enum JourneyActionKind
{
    /// <summary>Send a template on a channel.</summary>
    SendMessage,

    /// <summary>Send on the best consented, reachable channel (else the tenant default).</summary>
    SendBestChannel,

    /// <summary>Award points through the ledger.</summary>
    AwardPoints,

    /// <summary>Alert staff (host handler <c>staff_alert</c>).</summary>
    AlertStaff,

    /// <summary>Call a host handler by name.</summary>
    CallHandler,
}

/// <summary>What starts a journey.</summary>
public sealed record JourneyTrigger
{
    /// <summary>The kind.</summary>
    public required JourneyTriggerKind Kind { get; init; }

    /// <summary>The event kind, for <see cref="JourneyTriggerKind.Event"/>.</summary>
    public string? EventKind { get; init; }

    /// <summary>A rule-language filter evaluated on the event and customer.</summary>
    public string? Filter { get; init; }

    /// <summary>The segment, for segment triggers.</summary>
    public string? Segment { get; init; }

    /// <summary>The date attribute (<c>birthday</c> or <c>signup_anniversary</c>); for <see cref="JourneyTriggerKind.TierChanged"/>,
    /// <c>upgrade</c> or <c>downgrade</c> to fire on one direction only (null: any change).</summary>
    public string? Attribute { get; init; }

    /// <summary>Days added to the date attribute (negative: before).</summary>
    public int OffsetDays { get; init; }

    /// <summary>Days, for inactivity and points-expiring triggers.</summary>
    public int Days { get; init; }
}

/// <summary>One branch of a split.</summary>
/// <param name="Id">The branch id.</param>
/// <param name="Weight">The relative weight (percent).</param>
/// <param name="Next">The step to go to.</param>
/// <param name="Holdout">Whether this is the control branch (its actions are not performed).</param>
public sealed record JourneyBranch(string Id, int Weight, string Next, bool Holdout = false);

/// <summary>An action.</summary>
public sealed record JourneyAction
{
    /// <summary>The kind.</summary>
    public required JourneyActionKind Kind { get; init; }

    /// <summary>The channel of <see cref="JourneyActionKind.SendMessage"/>.</summary>
    public ContactChannel? Channel { get; init; }

    /// <summary>The template, or the handler name of <see cref="JourneyActionKind.CallHandler"/>.</summary>
    public string? Template { get; init; }

    /// <summary>The consent policy's message class (default <c>promotional</c>, or <c>transactional</c> for transactional journeys).</summary>
    public string? MessageClass { get; init; }

    /// <summary>Template variables.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init => field = value ?? new Dictionary<string, string>(); } = new Dictionary<string, string>();

    /// <summary>Points of <see cref="JourneyActionKind.AwardPoints"/>.</summary>
    public long Points { get; init; }
}

/// <summary>One step of a journey.</summary>
public sealed record JourneyStep
{
    /// <summary>The step id, unique in the journey.</summary>
    public required string Id { get; init; }

    /// <summary>The kind.</summary>
    public required JourneyStepKind Kind { get; init; }

    /// <summary>The next step (null: the journey completes).</summary>
    public string? Next { get; init; }

    /// <summary>The alternative step: condition false, or wait-for-event timeout.</summary>
    public string? Else { get; init; }

    /// <summary>The wait, or the wait-for-event timeout.</summary>
    public Duration? Duration { get; init; }

    /// <summary>The local time of <see cref="JourneyStepKind.WaitUntil"/>.</summary>
    public LocalTime? LocalTime { get; init; }

    /// <summary>Days after today for <see cref="JourneyStepKind.WaitUntil"/> (0: today if still ahead, else tomorrow).</summary>
    public int Days { get; init; }

    /// <summary>The awaited event kind.</summary>
    public string? EventKind { get; init; }

    /// <summary>The rule of a condition step.</summary>
    public string? Condition { get; init; }

    /// <summary>The branches of a split.</summary>
    public IReadOnlyList<JourneyBranch> Branches { get; init => field = value ?? []; } = [];

    /// <summary>The action of an action step.</summary>
    public JourneyAction? Action { get; init; }
}

/// <summary>What counts as the journey having helped.</summary>
public sealed record JourneyGoal
{
    /// <summary>The conversion event kind.</summary>
    public string? EventKind { get; init; }

    /// <summary>Or: entering this segment.</summary>
    public string? Segment { get; init; }

    /// <summary>The window after entry.</summary>
    public required Duration Window { get; init; }

    /// <summary>Whether reaching the goal ends the journey.</summary>
    public bool ExitOnGoal { get; init; } = true;
}

/// <summary>A journey: versioned; a customer stays on the version it entered.</summary>
public sealed record JourneyDefinition
{
    /// <summary>The id.</summary>
    public required string Id { get; init; }

    /// <summary>The version (positive); the highest registered version takes new entries.</summary>
    public int Version { get; init; } = 1;

    /// <summary>A name for people.</summary>
    public string? Name { get; init; }

    /// <summary>Transactional journeys are exempt from the global control group and journey holdouts.</summary>
    public bool Transactional { get; init; }

    /// <summary>What starts it.</summary>
    public required JourneyTrigger Trigger { get; init; }

    /// <summary>The re-entry policy.</summary>
    public JourneyReEntry ReEntry { get; init; } = JourneyReEntry.Once;

    /// <summary>The period of <see cref="JourneyReEntry.OncePerPeriod"/>.</summary>
    public Duration? ReEntryPeriod { get; init; }

    /// <summary>Percent of entrants held out of every action (control group, for measurement).</summary>
    public int HoldoutPercent { get; init; }

    /// <summary>The steps; the first is the entry step.</summary>
    public required IReadOnlyList<JourneyStep> Steps { get; init; }

    /// <summary>The goal.</summary>
    public JourneyGoal? Goal { get; init; }

    /// <summary>Event kinds that end the journey at any step.</summary>
    public IReadOnlyList<string> ExitOn { get; init => field = value ?? []; } = [];
}
