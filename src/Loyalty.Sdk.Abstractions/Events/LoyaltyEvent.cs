using System.Text.Json.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Events;

/// <summary>
/// Something that happened to a customer. Every event carries a stable id (the idempotency key), the instant it
/// occurred, its tenant, the identifiers seen with it, and the channel. On the wire the <c>kind</c> property names the
/// concrete type (see <see cref="EventKinds"/>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(OrderPlaced), EventKinds.OrderPlaced)]
[JsonDerivedType(typeof(OrderCompleted), EventKinds.OrderCompleted)]
[JsonDerivedType(typeof(OrderReturned), EventKinds.OrderReturned)]
[JsonDerivedType(typeof(OrderCancelled), EventKinds.OrderCancelled)]
[JsonDerivedType(typeof(SignedUp), EventKinds.SignedUp)]
[JsonDerivedType(typeof(ProfileUpdated), EventKinds.ProfileUpdated)]
[JsonDerivedType(typeof(ConsentChanged), EventKinds.ConsentChanged)]
[JsonDerivedType(typeof(Interaction), EventKinds.Interaction)]
[JsonDerivedType(typeof(CartAbandoned), EventKinds.CartAbandoned)]
[JsonDerivedType(typeof(SupportTicket), EventKinds.SupportTicket)]
[JsonDerivedType(typeof(ReviewSubmitted), EventKinds.ReviewSubmitted)]
[JsonDerivedType(typeof(CustomEvent), EventKinds.Custom)]
public abstract record LoyaltyEvent
{
    /// <summary>The stable id of the event; ingesting the same id twice changes nothing.</summary>
    public required EventId Id { get; init; }

    /// <summary>The tenant (brand, shop or program) the event belongs to.</summary>
    public required TenantId Tenant { get; init; }

    /// <summary>When it happened.</summary>
    public required Instant OccurredAt { get; init; }

    /// <summary>The identifiers seen with the event (at least one).</summary>
    public IReadOnlyList<Identifier> Identifiers { get; init => field = value ?? []; } = [];

    /// <summary>Where it happened.</summary>
    public Channel Channel { get; init; }

    /// <summary>The kind of the event, as on the wire (e.g. <c>order_placed</c>).</summary>
    [JsonIgnore]
    public abstract string Kind { get; }
}

/// <summary>The wire names of the event kinds.</summary>
public static class EventKinds
{
    /// <summary>An order was placed.</summary>
    public const string OrderPlaced = "order_placed";

    /// <summary>An order was completed (delivered or picked up).</summary>
    public const string OrderCompleted = "order_completed";

    /// <summary>An order was returned, whole or by line.</summary>
    public const string OrderReturned = "order_returned";

    /// <summary>An order was cancelled, whole or by line.</summary>
    public const string OrderCancelled = "order_cancelled";

    /// <summary>A customer signed up.</summary>
    public const string SignedUp = "signed_up";

    /// <summary>A customer's profile changed.</summary>
    public const string ProfileUpdated = "profile_updated";

    /// <summary>A consent choice changed.</summary>
    public const string ConsentChanged = "consent_changed";

    /// <summary>A message interaction or a visit.</summary>
    public const string Interaction = "interaction";

    /// <summary>A cart was abandoned.</summary>
    public const string CartAbandoned = "cart_abandoned";

    /// <summary>A support ticket was opened or closed.</summary>
    public const string SupportTicket = "support_ticket";

    /// <summary>A product review was submitted.</summary>
    public const string ReviewSubmitted = "review_submitted";

    /// <summary>A custom event registered by the host in its program definition.</summary>
    public const string Custom = "custom";

    /// <summary>Every built-in kind.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        OrderPlaced, OrderCompleted, OrderReturned, OrderCancelled, SignedUp, ProfileUpdated, ConsentChanged,
        Interaction, CartAbandoned, SupportTicket, ReviewSubmitted, Custom,
    ];
}
