namespace Loyalty.Sdk.Pipeline;

/// <summary>Whether an event was applied or recognised as a duplicate.</summary>
public enum IngestOutcome
{
    /// <summary>The event was applied.</summary>
    Applied,

    /// <summary>The event id had been ingested before; nothing changed.</summary>
    Duplicate,
}

/// <summary>A change of segment membership caused by an event.</summary>
/// <param name="Segment">The segment's id.</param>
/// <param name="Entered">True when the customer entered, false when they exited.</param>
public sealed record SegmentChange(string Segment, bool Entered);

/// <summary>Whether a journey action was queued for delivery or suppressed.</summary>
public enum ActionDisposition
{
    /// <summary>Queued in the outbox.</summary>
    Queued,

    /// <summary>Deferred until a later time.</summary>
    Deferred,

    /// <summary>Suppressed; see the reason.</summary>
    Suppressed,
}

/// <summary>A journey action decided while ingesting an event.</summary>
/// <param name="Journey">The journey's id.</param>
/// <param name="Step">The step's id.</param>
/// <param name="Disposition">Queued, deferred or suppressed.</param>
/// <param name="Reason">Why, when deferred or suppressed.</param>
public sealed record JourneyActionOutcome(string Journey, string Step, ActionDisposition Disposition, string? Reason);

/// <summary>What ingesting one event did.</summary>
public sealed record IngestResult
{
    /// <summary>The event's id.</summary>
    public required EventId EventId { get; init; }

    /// <summary>The event's tenant.</summary>
    public required TenantId Tenant { get; init; }

    /// <summary>Applied, or a duplicate of an earlier event with the same id.</summary>
    public required IngestOutcome Outcome { get; init; }

    /// <summary>The customer the event resolved to.</summary>
    public CustomerId? Customer { get; init; }

    /// <summary>Customers absorbed into <see cref="Customer"/> by a merge this event caused.</summary>
    public IReadOnlyList<CustomerId> Merged { get; init; } = [];

    /// <summary>Whether the event created a new customer.</summary>
    public bool NewCustomer { get; init; }

    /// <summary>Points posted by the event (negative for claw-backs), summed over the ledger's entries.</summary>
    public long PointsPosted { get; init; }

    /// <summary>Segments entered or exited.</summary>
    public IReadOnlyList<SegmentChange> Segments { get; init; } = [];

    /// <summary>Journey actions queued, deferred or suppressed.</summary>
    public IReadOnlyList<JourneyActionOutcome> Actions { get; init; } = [];

    /// <summary>Every decision made, in order; also kept in the customer's decision trail.</summary>
    public IReadOnlyList<Decision> Decisions { get; init; } = [];
}
