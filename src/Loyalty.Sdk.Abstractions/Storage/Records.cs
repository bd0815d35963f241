using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Storage;

/// <summary>An ingested event id and what it resolved to, kept so a retry is recognised as a duplicate.</summary>
/// <param name="EventId">The event id.</param>
/// <param name="Customer">The customer it resolved to.</param>
/// <param name="IngestedAt">When it was applied (engine clock).</param>
public sealed record ProcessedEvent(EventId EventId, CustomerId? Customer, Instant IngestedAt);

/// <summary>An order as the engine knows it, kept for returns and cancellations by line.</summary>
public sealed record OrderRecord
{
    /// <summary>The order's id.</summary>
    public required string OrderId { get; init; }

    /// <summary>The customer who placed it.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>When it was placed.</summary>
    public required Instant PlacedAt { get; init; }

    /// <summary>The order's currency.</summary>
    public required Currency Currency { get; init; }

    /// <summary>The lines as placed.</summary>
    public IReadOnlyList<OrderLine> Lines { get; init; } = [];

    /// <summary>The normalized identifiers the placing event was resolved with, so that a split of the customer can
    /// send the order with the identifiers it came from (empty for orders recorded before this was kept).</summary>
    public IReadOnlyList<Identifier> Identifiers { get; init; } = [];

    /// <summary>Units returned or cancelled so far, by line id.</summary>
    public IReadOnlyDictionary<string, int> ReturnedQuantities { get; init; } = new Dictionary<string, int>();

    /// <summary>The total paid.</summary>
    public decimal Total { get; init; }

    /// <summary>The order-level discount, spread over the lines when they are returned.</summary>
    public decimal Discount { get; init; }

    /// <summary>Whether the order was completed.</summary>
    public bool Completed { get; init; }

    /// <summary>Return and cancellation ids already applied (a retry with a new event id changes nothing).</summary>
    public IReadOnlyList<string> AppliedReturns { get; init; } = [];

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; init; }
}

/// <summary>A message or action waiting in the outbox for delivery.</summary>
public sealed record OutboxMessage
{
    /// <summary>Idempotency key; enqueuing the same key twice keeps the first.</summary>
    public required string Key { get; init; }

    /// <summary>The tenant.</summary>
    public required TenantId Tenant { get; init; }

    /// <summary>The recipient.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The kind of action, e.g. <c>send_message</c>, <c>alert_staff</c>.</summary>
    public required string ActionKind { get; init; }

    /// <summary>The channel, for messages.</summary>
    public Channel? Channel { get; init; }

    /// <summary>The template or handler id.</summary>
    public string? Template { get; init; }

    /// <summary>Template variables.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    /// <summary>Not to be delivered before this instant.</summary>
    public required Instant DueAt { get; init; }

    /// <summary>Delivery attempts so far.</summary>
    public int Attempts { get; init; }
}

/// <summary>An outbox message claimed by a dispatcher until <see cref="LeaseUntil"/>.</summary>
/// <param name="Message">The message.</param>
/// <param name="LeaseUntil">The claim expires then; another dispatcher may take it afterwards.</param>
/// <param name="Owner">Who claimed it.</param>
public sealed record OutboxClaim(OutboxMessage Message, Instant LeaseUntil, string Owner);
