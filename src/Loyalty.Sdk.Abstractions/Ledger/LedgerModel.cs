using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>The kind of a ledger account. Customer accounts hold a customer's points; program accounts are the other
/// side of every movement, so that the sum over all accounts of a ledger is always zero.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<AccountKind>))]
public enum AccountKind
{
    /// <summary>Customer: spendable points.</summary>
    Available,

    /// <summary>Customer: points in their return window, not yet spendable.</summary>
    Pending,

    /// <summary>Customer: points held by checkout reservations.</summary>
    Reserved,

    /// <summary>Program: the issuer; its negative balance is the outstanding liability.</summary>
    Issuance,

    /// <summary>Program: points redeemed.</summary>
    Redeemed,

    /// <summary>Program: points expired.</summary>
    Expired,

    /// <summary>Program: manual adjustments (goodwill credits, corrections).</summary>
    Adjustments,

    /// <summary>Program: breakage written off (reserved for finance; the engine books expiry to <see cref="Expired"/>).</summary>
    Breakage,

    /// <summary>Program: the clearing account of conversions between currencies.</summary>
    Conversion,
}

/// <summary>One account of one ledger: a customer's (available, pending, reserved) or the program's.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="Customer">The customer, for customer accounts; null for program accounts.</param>
public readonly record struct LedgerAccount(AccountKind Kind, CustomerId? Customer)
{
    /// <summary>Whether this is a customer account.</summary>
    public bool IsCustomer => Customer is not null;

    /// <summary>A program account.</summary>
    public static LedgerAccount Program(AccountKind kind) => new(kind, null);

    /// <summary>A customer account.</summary>
    public static LedgerAccount Of(CustomerId customer, AccountKind kind) => new(kind, customer);

    /// <inheritdoc />
    public override string ToString() => Customer is { } c ? $"customer:{c}:{Kind.ToString().ToLowerInvariant()}" : $"program:{Kind.ToString().ToLowerInvariant()}";
}

/// <summary>Why points moved.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<TransferKind>))]
public enum TransferKind
{
    /// <summary>Points earned (issuance → pending or available).</summary>
    Earn,

    /// <summary>Pending points became available (pending → available, same lot).</summary>
    Activate,

    /// <summary>Points spent directly (available → redeemed).</summary>
    Redeem,

    /// <summary>Points held for checkout (available → reserved).</summary>
    Reserve,

    /// <summary>A reservation captured (reserved → redeemed).</summary>
    Capture,

    /// <summary>A reservation released (reserved → available).</summary>
    Release,

    /// <summary>An earlier transfer reversed on request.</summary>
    Reverse,

    /// <summary>Points taken back because goods were returned or cancelled (→ issuance).</summary>
    Clawback,

    /// <summary>A shortfall of an earlier clawback recovered from a later credit (available → issuance).</summary>
    Recover,

    /// <summary>A negative balance settled from a later credit (available lot → available debt).</summary>
    SettleDebt,

    /// <summary>Points paid for an order given back because the order was refunded (redeemed → available, new lot).</summary>
    Refund,

    /// <summary>A manual adjustment by an actor.</summary>
    Adjust,

    /// <summary>Points expired (available → expired), one entry per lot.</summary>
    Expire,

    /// <summary>Points given by one member to another.</summary>
    MemberTransfer,

    /// <summary>Points moved from an absorbed customer to the survivor of a merge (one entry per lot).</summary>
    Merge,

    /// <summary>One leg of a conversion between currencies (through the conversion account).</summary>
    Convert,
}

/// <summary>Why an entry was made: the command (idempotency key), and the rule, order, event or actor behind it.</summary>
public sealed record LedgerReason
{
    /// <summary>The idempotency key of the command that made the entry.</summary>
    public required string CommandKey { get; init; }

    /// <summary>The rule (earning rule id, policy id such as <c>ledger.expiry</c>).</summary>
    public string? Rule { get; init; }

    /// <summary>The rule's version (the program version for policies).</summary>
    public int? RuleVersion { get; init; }

    /// <summary>The order concerned.</summary>
    public string? OrderId { get; init; }

    /// <summary>The event that caused it.</summary>
    public EventId? EventId { get; init; }

    /// <summary>Who made a manual entry.</summary>
    public string? Actor { get; init; }

    /// <summary>Free text for people.</summary>
    public string? Note { get; init; }

    /// <summary>The merge that moved the points (to reverse on a split).</summary>
    public string? MergeId { get; init; }

    /// <summary>The transfer this one reverses, claws back or refunds.</summary>
    public string? Reverses { get; init; }
}

/// <summary>
/// One immutable entry of the journal: <see cref="Amount"/> points of <see cref="Ledger"/> move from
/// <see cref="Debit"/> to <see cref="Credit"/>. Customer sides name the lot they touch.
/// </summary>
public sealed record LedgerTransfer
{
    /// <summary>Unique id (the command key and the entry's position in the command).</summary>
    public required string Id { get; init; }

    /// <summary>The currency (ledger) code.</summary>
    public required string Ledger { get; init; }

    /// <summary>The account debited.</summary>
    public required LedgerAccount Debit { get; init; }

    /// <summary>The account credited.</summary>
    public required LedgerAccount Credit { get; init; }

    /// <summary>Points moved (positive).</summary>
    public required long Amount { get; init; }

    /// <summary>Why.</summary>
    public required TransferKind Kind { get; init; }

    /// <summary>When (the engine's instant).</summary>
    public required Instant At { get; init; }

    /// <summary>The day it is booked on, in the program's time zone (periods of caps and tiers).</summary>
    public LocalDate BookingDate { get; init; }

    /// <summary>The lot debited on the debit side (customer accounts).</summary>
    public string? DebitLot { get; init; }

    /// <summary>The lot credited on the credit side (customer accounts); created when new.</summary>
    public string? CreditLot { get; init; }

    /// <summary>The reservation concerned.</summary>
    public string? ReservationId { get; init; }

    /// <summary>When the credited lot becomes available (pending lots, when scheduled).</summary>
    public Instant? ActivatesAt { get; init; }

    /// <summary>When the credited lot expires, or when a reservation lapses.</summary>
    public Instant? ExpiresAt { get; init; }

    /// <summary>Points a clawback could not collect (recorded and recovered later).</summary>
    public long Shortfall { get; init; }

    /// <summary>Qualifying spend (base currency) added (earn) or removed (clawback), for spend-based tiers.</summary>
    public decimal Spend { get; init; }

    /// <summary>Lifetime-earned points that move from the debit side's customer to the credit side's with a merge entry
    /// (or its reversal on an unmerge); such an entry may move zero points.</summary>
    public long Lifetime { get; init; }

    /// <summary>Why.</summary>
    public required LedgerReason Reason { get; init; }
}

/// <summary>A lot: the points of one credit, with when they became available, when they expire and what is left.</summary>
public record struct LedgerLot
{
    /// <summary>The lot's id (the id of the transfer that created it).</summary>
    public required string Id { get; init; }

    /// <summary>The currency.</summary>
    public required string Ledger { get; init; }

    /// <summary>Points credited.</summary>
    public long Amount { get; set; }

    /// <summary>Points still pending.</summary>
    public long Pending { get; set; }

    /// <summary>Points available.</summary>
    public long Available { get; set; }

    /// <summary>Points held by reservations.</summary>
    public long Reserved { get; set; }

    /// <summary>When the lot was created.</summary>
    public Instant CreatedAt { get; init; }

    /// <summary>When it became available.</summary>
    public Instant? ActivatedAt { get; set; }

    /// <summary>When it becomes available (pending lots with a scheduled activation).</summary>
    public Instant? ActivatesAt { get; set; }

    /// <summary>When it expires (null: never).</summary>
    public Instant? ExpiresAt { get; set; }

    /// <summary>What created it.</summary>
    public TransferKind Source { get; init; }

    /// <summary>The order it came from.</summary>
    public string? OrderId { get; init; }

    /// <summary>The rule that earned it.</summary>
    public string? Rule { get; init; }

    /// <summary>Points left in any state.</summary>
    public readonly long Remaining => Pending + Available + Reserved;
}

/// <summary>The balances of one customer in one currency.</summary>
public record struct LedgerBalance
{
    /// <summary>The currency.</summary>
    public required string Ledger { get; init; }

    /// <summary>Spendable (negative only under the allow-negative return policy).</summary>
    public long Available { get; set; }

    /// <summary>In the return window.</summary>
    public long Pending { get; set; }

    /// <summary>Held by reservations.</summary>
    public long Reserved { get; set; }

    /// <summary>Points earned, net of clawbacks and reversals of earnings.</summary>
    public long LifetimeEarned { get; set; }

    /// <summary>Negative balance not yet settled (allow-negative policy).</summary>
    public long Debt { get; set; }

    /// <summary>Clawback shortfall still to be recovered from later credits (within-balance policy).</summary>
    public long Owed { get; set; }
}

/// <summary>Points held at checkout.</summary>
public sealed class LedgerReservation
{
    /// <summary>The reservation's id.</summary>
    public required string Id { get; init; }

    /// <summary>The currency.</summary>
    public required string Ledger { get; init; }

    /// <summary>The order it pays for.</summary>
    public string? OrderId { get; init; }

    /// <summary>When it was made.</summary>
    public Instant CreatedAt { get; init; }

    /// <summary>When it is released automatically.</summary>
    public Instant ExpiresAt { get; init; }

    /// <summary>Points reserved.</summary>
    public long Amount { get; set; }

    /// <summary>Points captured.</summary>
    public long Captured { get; set; }

    /// <summary>Points released.</summary>
    public long Released { get; set; }

    /// <summary>Points still held, by lot.</summary>
    public Dictionary<string, long> Held { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Points still held.</summary>
    public long Open => Amount - Captured - Released;

    /// <summary>A copy.</summary>
    public LedgerReservation Clone() => new()
    {
        Id = Id, Ledger = Ledger, OrderId = OrderId, CreatedAt = CreatedAt, ExpiresAt = ExpiresAt, Amount = Amount, Captured = Captured, Released = Released,
        Held = new Dictionary<string, long>(Held, StringComparer.Ordinal),
    };
}

/// <summary>Earnings of one booking day, kept for caps and tier qualification.</summary>
/// <param name="Ledger">The currency.</param>
/// <param name="Day">The booking day.</param>
/// <param name="Points">Points earned from orders, net of clawbacks.</param>
/// <param name="Spend">Qualifying spend, net of returns.</param>
public readonly record struct EarnBucket(string Ledger, LocalDate Day, long Points, decimal Spend);

/// <summary>The meaning of a manual tier override.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<TierOverrideMode>))]
public enum TierOverrideMode
{
    /// <summary>The customer is at least this tier (qualification can still lift them higher).</summary>
    Floor,

    /// <summary>The customer is exactly this tier, whatever they qualify for.</summary>
    Fixed,
}

/// <summary>A manual tier override.</summary>
public sealed record TierOverride
{
    /// <summary>The tier.</summary>
    public required string Tier { get; init; }

    /// <summary>What it means.</summary>
    public TierOverrideMode Mode { get; init; } = TierOverrideMode.Floor;

    /// <summary>Until when (null: until removed).</summary>
    public Instant? Until { get; init; }

    /// <summary>Who set it.</summary>
    public required string Actor { get; init; }

    /// <summary>Why.</summary>
    public string? Note { get; init; }
}

/// <summary>A tier change in the customer's tier history.</summary>
public sealed record TierChange
{
    /// <summary>The tier before (null: none).</summary>
    public string? From { get; init; }

    /// <summary>The tier after.</summary>
    public required string To { get; init; }

    /// <summary>When.</summary>
    public required Instant At { get; init; }

    /// <summary>Why: <c>tier.upgrade</c>, <c>tier.downgrade</c>, <c>tier.grace</c>, <c>tier.kept</c>, <c>tier.override</c>, <c>tier.merge</c>.</summary>
    public required string Rule { get; init; }

    /// <summary>Qualifying value at the time.</summary>
    public decimal Qualifying { get; init; }

    /// <summary>The command or event behind it.</summary>
    public string? CommandKey { get; init; }
}

/// <summary>A customer's tier status.</summary>
public sealed record TierStatus
{
    /// <summary>The tier.</summary>
    public string? Tier { get; init; }

    /// <summary>Since when.</summary>
    public Instant? Since { get; init; }

    /// <summary>Next review.</summary>
    public Instant? ReviewAt { get; init; }

    /// <summary>When a review failed and the grace period ends (null: not in grace).</summary>
    public Instant? GraceUntil { get; init; }

    /// <summary>A manual override.</summary>
    public TierOverride? Override { get; init; }
}
