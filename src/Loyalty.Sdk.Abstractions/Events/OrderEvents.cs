using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;

namespace Loyalty.Sdk.Events;

/// <summary>What an order line sells; non-product lines are usually excluded from earning.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<OrderLineKind>))]
public enum OrderLineKind
{
    /// <summary>A product.</summary>
    Product,

    /// <summary>A gift card.</summary>
    GiftCard,

    /// <summary>A service (installation, warranty, ...).</summary>
    Service,
}

/// <summary>One line of an order.</summary>
public sealed record OrderLine
{
    /// <summary>The line's id within the order (used to return by line).</summary>
    public required string LineId { get; init; }

    /// <summary>The stock-keeping unit.</summary>
    public required string Sku { get; init; }

    /// <summary>The product category, e.g. <c>shoes</c>.</summary>
    public string? Category { get; init; }

    /// <summary>Units bought (at least 1).</summary>
    public required int Quantity { get; init; }

    /// <summary>Price of one unit in the order's currency, after line discounts (not negative).</summary>
    public required decimal UnitPrice { get; init; }

    /// <summary>What the line sells.</summary>
    public OrderLineKind LineKind { get; init; }

    /// <summary>The line total: quantity × unit price.</summary>
    [JsonIgnore]
    public decimal LineTotal => Quantity * UnitPrice;
}

/// <summary>An order was placed.</summary>
public sealed record OrderPlaced : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.OrderPlaced;

    /// <summary>The order's id in the shop.</summary>
    public required string OrderId { get; init; }

    /// <summary>The currency of every amount of the order.</summary>
    public required Currency Currency { get; init; }

    /// <summary>The lines (at least one).</summary>
    public IReadOnlyList<OrderLine> Lines { get; init => field = value ?? []; } = [];

    /// <summary>Order-level discount (not negative).</summary>
    public decimal Discount { get; init; }

    /// <summary>Shipping charged (not negative).</summary>
    public decimal Shipping { get; init; }

    /// <summary>Taxes charged (not negative).</summary>
    public decimal Tax { get; init; }

    /// <summary>The total paid: lines − discount + shipping + tax.</summary>
    public required decimal Total { get; init; }

    /// <summary>Points redeemed to pay part of the order (0 when none).</summary>
    public long PointsRedeemed { get; init; }

    /// <summary>The store, for in-store orders.</summary>
    public string? StoreId { get; init; }

    /// <summary>The merchandise subtotal: sum of the line totals.</summary>
    [JsonIgnore]
    public decimal Subtotal => Lines.Sum(l => l.LineTotal);
}

/// <summary>An order was completed (delivered, picked up, or its return window may start).</summary>
public sealed record OrderCompleted : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.OrderCompleted;

    /// <summary>The order's id.</summary>
    public required string OrderId { get; init; }
}

/// <summary>A quantity of one order line, for returns and cancellations by line.</summary>
public sealed record OrderLineQuantity
{
    /// <summary>The line's id in the order.</summary>
    public required string LineId { get; init; }

    /// <summary>Units returned or cancelled (at least 1).</summary>
    public required int Quantity { get; init; }
}

/// <summary>An order was returned: whole when <see cref="Lines"/> is empty, else by line.</summary>
public sealed record OrderReturned : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.OrderReturned;

    /// <summary>The order's id.</summary>
    public required string OrderId { get; init; }

    /// <summary>The return's id (several returns may concern one order).</summary>
    public required string ReturnId { get; init; }

    /// <summary>The lines returned; empty means the whole order.</summary>
    public IReadOnlyList<OrderLineQuantity> Lines { get; init => field = value ?? []; } = [];

    /// <summary>The amount refunded, in the order's currency, when known (not negative).</summary>
    public decimal? RefundAmount { get; init; }
}

/// <summary>An order was cancelled before completion: whole when <see cref="Lines"/> is empty, else by line.</summary>
public sealed record OrderCancelled : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.OrderCancelled;

    /// <summary>The order's id.</summary>
    public required string OrderId { get; init; }

    /// <summary>The lines cancelled; empty means the whole order.</summary>
    public IReadOnlyList<OrderLineQuantity> Lines { get; init => field = value ?? []; } = [];
}

/// <summary>A cart was abandoned.</summary>
public sealed record CartAbandoned : LoyaltyEvent
{
    /// <inheritdoc />
    [JsonIgnore]
    public override string Kind => EventKinds.CartAbandoned;

    /// <summary>The cart's id.</summary>
    public required string CartId { get; init; }

    /// <summary>The currency of the cart value.</summary>
    public required Currency Currency { get; init; }

    /// <summary>The cart's value (not negative).</summary>
    public required decimal Value { get; init; }

    /// <summary>The SKUs in the cart.</summary>
    public IReadOnlyList<string> Skus { get; init => field = value ?? []; } = [];
}
