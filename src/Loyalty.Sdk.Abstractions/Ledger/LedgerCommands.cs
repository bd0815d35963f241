using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>
/// A command to the ledger. <see cref="IdempotencyKey"/> is scoped to the tenant: a retry with the same key and the
/// same content returns the original result; the same key with different content is refused
/// (<see cref="IdempotencyConflictException"/>). Commands are value-equal records, which is how content is compared.
/// </summary>
[System.Text.Json.Serialization.JsonPolymorphic(TypeDiscriminatorPropertyName = "command")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(EarnCommand), "earn")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(RedeemCommand), "redeem")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ReserveCommand), "reserve")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(CaptureCommand), "capture")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ReleaseCommand), "release")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ReverseCommand), "reverse")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(AdjustCommand), "adjust")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ExpireLotCommand), "expire_lot")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(TransferPointsCommand), "transfer_points")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ConvertCommand), "convert")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ActivateCommand), "activate")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(TierOverrideCommand), "tier_override")]
public abstract record LedgerCommand
{
    /// <summary>The idempotency key (1 to 200 characters), unique per tenant.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The currency (ledger); null means the program's primary currency.</summary>
    public string? Ledger { get; init; }

    /// <summary>Who asked (required for manual adjustments and overrides).</summary>
    public string? Actor { get; init; }

    /// <summary>Why, for people.</summary>
    public string? Note { get; init; }
}

/// <summary>Credits points as a new lot (issuance → available, or pending until <see cref="PendingUntil"/>).</summary>
public sealed record EarnCommand : LedgerCommand
{
    /// <summary>Points (positive).</summary>
    public required long Points { get; init; }

    /// <summary>The rule behind the earning (e.g. <c>survey_completed</c>).</summary>
    public string? Rule { get; init; }

    /// <summary>The order behind it.</summary>
    public string? OrderId { get; init; }

    /// <summary>Keep the points pending until then (null: available now).</summary>
    public Instant? PendingUntil { get; init; }
}

/// <summary>Spends points at once (available → redeemed), consuming lots.</summary>
public sealed record RedeemCommand : LedgerCommand
{
    /// <summary>Points (positive).</summary>
    public required long Points { get; init; }

    /// <summary>The order paid.</summary>
    public string? OrderId { get; init; }
}

/// <summary>Holds points at checkout (available → reserved) until capture, release or timeout.</summary>
public sealed record ReserveCommand : LedgerCommand
{
    /// <summary>The reservation's id (e.g. the checkout or order id).</summary>
    public required string ReservationId { get; init; }

    /// <summary>Points (positive).</summary>
    public required long Points { get; init; }

    /// <summary>The order paid.</summary>
    public string? OrderId { get; init; }

    /// <summary>Timeout; null means the program's reservation timeout.</summary>
    public Duration? Timeout { get; init; }
}

/// <summary>Captures a reservation (reserved → redeemed), fully or partly; the rest is released.</summary>
public sealed record CaptureCommand : LedgerCommand
{
    /// <summary>The reservation.</summary>
    public required string ReservationId { get; init; }

    /// <summary>Points to capture (null: everything held).</summary>
    public long? Points { get; init; }
}

/// <summary>Releases what a reservation still holds (reserved → available).</summary>
public sealed record ReleaseCommand : LedgerCommand
{
    /// <summary>The reservation.</summary>
    public required string ReservationId { get; init; }
}

/// <summary>Reverses an earlier earning (what is left of its lot) or redemption (points back as a new lot).</summary>
public sealed record ReverseCommand : LedgerCommand
{
    /// <summary>The transfer to reverse.</summary>
    public required string TransferId { get; init; }
}

/// <summary>A manual adjustment: positive credits a new lot, negative debits lots. <see cref="LedgerCommand.Actor"/>
/// and <see cref="LedgerCommand.Note"/> are required.</summary>
public sealed record AdjustCommand : LedgerCommand
{
    /// <summary>Points (not zero).</summary>
    public required long Points { get; init; }
}

/// <summary>Expires one lot now (manual expiry; due expiry runs by itself).</summary>
public sealed record ExpireLotCommand : LedgerCommand
{
    /// <summary>The lot.</summary>
    public required string LotId { get; init; }
}

/// <summary>Gives points to another member (same currency), preserving the expiry of the lots used.</summary>
public sealed record TransferPointsCommand : LedgerCommand
{
    /// <summary>The recipient.</summary>
    public required CustomerId To { get; init; }

    /// <summary>Points (positive).</summary>
    public required long Points { get; init; }
}

/// <summary>Converts points to another currency at the program's conversion rate.</summary>
public sealed record ConvertCommand : LedgerCommand
{
    /// <summary>The target currency.</summary>
    public required string ToLedger { get; init; }

    /// <summary>Points of the source currency (positive).</summary>
    public required long Points { get; init; }
}

/// <summary>Makes pending points available now (explicit action), for one order or all.</summary>
public sealed record ActivateCommand : LedgerCommand
{
    /// <summary>The order (null: every pending lot of the customer).</summary>
    public string? OrderId { get; init; }
}

/// <summary>Sets or removes (<see cref="Tier"/> null) a manual tier override; <see cref="LedgerCommand.Actor"/> is required.</summary>
public sealed record TierOverrideCommand : LedgerCommand
{
    /// <summary>The tier, or null to remove the override.</summary>
    public string? Tier { get; init; }

    /// <summary>What it means.</summary>
    public TierOverrideMode Mode { get; init; } = TierOverrideMode.Floor;

    /// <summary>Until when.</summary>
    public Instant? Until { get; init; }
}
