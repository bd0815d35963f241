using System.Text.Json.Serialization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Programs;

/// <summary>
/// The ledger section of a program: point currencies, earning rules and caps, expiry, the pending (return) window, the
/// return policy, reservations and tiers. See <c>docs/ledger.md</c>.
/// </summary>
public sealed record LedgerProgram
{
    /// <summary>The point currencies, each its own ledger (e.g. <c>points</c>, <c>stamps</c>, <c>cashback</c>).</summary>
    public IReadOnlyList<PointCurrency> Currencies { get; init => field = value ?? [new PointCurrency { Code = "points", Name = "Points" }]; } = [new PointCurrency { Code = "points", Name = "Points" }];

    /// <summary>The currency orders earn in by default and tiers qualify on.</summary>
    public string PrimaryCurrency { get; init => field = string.IsNullOrEmpty(value) ? "points" : value; } = "points";

    /// <summary>Earning rules, evaluated by descending <see cref="EarningRule.Priority"/>.</summary>
    public IReadOnlyList<EarningRule> EarningRules { get; init => field = value ?? []; } = [];

    /// <summary>Caps on what a customer earns from orders per day, week or month.</summary>
    public IReadOnlyList<EarningCap> Caps { get; init => field = value ?? []; } = [];

    /// <summary>What never earns.</summary>
    public EarningExclusions Exclusions { get; init => field = value ?? new(); } = new();

    /// <summary>When points of a currency without its own policy expire.</summary>
    public ExpiryPolicy Expiry { get; init => field = value ?? new(); } = new();

    /// <summary>When points from orders become available.</summary>
    public PendingPolicy Pending { get; init => field = value ?? new(); } = new();

    /// <summary>What a return does to points already earned.</summary>
    public ReturnPolicy Returns { get; init => field = value ?? new(); } = new();

    /// <summary>Checkout reservations.</summary>
    public ReservationPolicy Reservations { get; init => field = value ?? new(); } = new();

    /// <summary>Which lots a redemption consumes first.</summary>
    public ConsumptionOrder Consumption { get; init; } = ConsumptionOrder.EarliestExpiry;

    /// <summary>Days before expiry when a "points expiring soon" signal is raised (0, the default: none).</summary>
    public int ExpiryNoticeDays { get; init; }

    /// <summary>Explicit conversions between currencies (no other transfer crosses ledgers).</summary>
    public IReadOnlyList<CurrencyConversion> Conversions { get; init => field = value ?? []; } = [];

    /// <summary>Tiers, when the program has them.</summary>
    public TierProgram? Tiers { get; init; }
}

/// <summary>A point currency: one ledger.</summary>
public sealed record PointCurrency
{
    /// <summary>The code (lower-case letters, digits, '_'), e.g. <c>points</c>.</summary>
    public required string Code { get; init; }

    /// <summary>Display name.</summary>
    public string? Name { get; init; }

    /// <summary>Monetary value of one unit in the program's base currency (for liability), e.g. 0.01.</summary>
    public decimal ValuePerPoint { get; init; }

    /// <summary>How fractional points from earning rates are rounded.</summary>
    public PointRounding Rounding { get; init; } = PointRounding.Floor;

    /// <summary>This currency's expiry, overriding <see cref="LedgerProgram.Expiry"/>.</summary>
    public ExpiryPolicy? Expiry { get; init; }
}

/// <summary>Rounding of fractional points.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<PointRounding>))]
public enum PointRounding
{
    /// <summary>Down to the whole point (the customer never gets more than the rate says).</summary>
    Floor,

    /// <summary>To the nearest point, halves away from zero.</summary>
    Nearest,

    /// <summary>Up to the whole point.</summary>
    Ceiling,
}

/// <summary>Which lots are consumed first.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ConsumptionOrder>))]
public enum ConsumptionOrder
{
    /// <summary>The lot that expires first (lots that never expire last), then the oldest.</summary>
    EarliestExpiry,

    /// <summary>The oldest lot first.</summary>
    Fifo,
}

/// <summary>What an earning rule does.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<EarningRuleKind>))]
public enum EarningRuleKind
{
    /// <summary>Points per unit of eligible spend (<see cref="EarningRule.Rate"/>); the first matching base rule of a line wins.</summary>
    Base,

    /// <summary>Extra points: base points of matching lines × (<see cref="EarningRule.Multiplier"/> − 1).</summary>
    Multiplier,

    /// <summary>A fixed number of points per matching order (<see cref="EarningRule.Points"/>).</summary>
    Bonus,
}

/// <summary>An earning rule; each rule's points are posted as their own lot with the rule id as the reason.</summary>
public sealed record EarningRule
{
    /// <summary>The rule's id (stable: it is the natural key of its postings with the order id).</summary>
    public required string Id { get; init; }

    /// <summary>Version of the rule (0 or omitted means 1); recorded on every posting.</summary>
    public int Version { get; init => field = value == 0 ? 1 : value; } = 1;

    /// <summary>What the rule does.</summary>
    public required EarningRuleKind Kind { get; init; }

    /// <summary>The currency it earns (default: the primary currency).</summary>
    public string? Currency { get; init; }

    /// <summary>Points per unit of the base currency (base rules).</summary>
    public decimal Rate { get; init; }

    /// <summary>Multiplier (multiplier rules), e.g. 2 for double points.</summary>
    public decimal Multiplier { get; init => field = value == 0m ? 1m : value; } = 1m;

    /// <summary>Points (bonus rules).</summary>
    public long Points { get; init; }

    /// <summary>Higher runs first.</summary>
    public int Priority { get; init; }

    /// <summary>When the rule applies, no rule of lower priority is evaluated for the order.</summary>
    public bool Stop { get; init; }

    /// <summary>The campaign the rule belongs to (a label kept on its postings); campaign rules usually carry a date
    /// window in <see cref="When"/>.</summary>
    public string? Campaign { get; init; }

    /// <summary>When the rule applies (all given conditions must hold).</summary>
    public EarningConditions When { get; init => field = value ?? new(); } = new();
}

/// <summary>Structured conditions of an earning rule; an empty list or null means "any".</summary>
public sealed record EarningConditions
{
    /// <summary>Line categories.</summary>
    public IReadOnlyList<string> Categories { get; init => field = value ?? []; } = [];

    /// <summary>Line SKUs.</summary>
    public IReadOnlyList<string> Skus { get; init => field = value ?? []; } = [];

    /// <summary>Channels of the order.</summary>
    public IReadOnlyList<Channel> Channels { get; init => field = value ?? []; } = [];

    /// <summary>ISO days of week (1 = Monday … 7 = Sunday) in the program's time zone.</summary>
    public IReadOnlyList<int> DaysOfWeek { get; init => field = value ?? []; } = [];

    /// <summary>First day the rule applies (inclusive, program time zone).</summary>
    public LocalDate? From { get; init; }

    /// <summary>Last day the rule applies (inclusive).</summary>
    public LocalDate? To { get; init; }

    /// <summary>Only the customer's first order.</summary>
    public bool FirstPurchase { get; init; }

    /// <summary>Only in the customer's birthday month.</summary>
    public bool BirthdayMonth { get; init; }

    /// <summary>Only for customers in these tiers.</summary>
    public IReadOnlyList<string> Tiers { get; init => field = value ?? []; } = [];

    /// <summary>Only for orders whose eligible value is at least this (base currency).</summary>
    public decimal? MinOrderValue { get; init; }

    /// <summary>A condition in the rule language (<c>docs/rules.md</c>) over the order and the customer, e.g.
    /// <c>order_has_category("shoes") and in_segment("vip")</c>; it must hold as well as every other condition. The
    /// traits it can use are listed in <c>docs/ledger.md</c>.</summary>
    public string? Rule { get; init; }
}

/// <summary>Calendar period of a cap or a window.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<CapPeriod>))]
public enum CapPeriod
{
    /// <summary>A calendar day.</summary>
    Day,

    /// <summary>An ISO week (Monday to Sunday).</summary>
    Week,

    /// <summary>A calendar month.</summary>
    Month,
}

/// <summary>A cap on order earnings per customer and calendar period.</summary>
public sealed record EarningCap
{
    /// <summary>The period.</summary>
    public required CapPeriod Period { get; init; }

    /// <summary>Most points earned from orders in one period.</summary>
    public required long MaxPoints { get; init; }

    /// <summary>The currency capped (default: primary).</summary>
    public string? Currency { get; init; }

    /// <summary>Also count and cap points granted by earn commands without an order (review or referral bonuses sent
    /// by the host): such a command earns what is left of the period and reports the rest as capped. Adjustments are
    /// never capped.</summary>
    public bool IncludeManualEarns { get; init; }
}

/// <summary>What never earns points.</summary>
public sealed record EarningExclusions
{
    /// <summary>Line kinds that never earn (default: gift cards).</summary>
    public IReadOnlyList<OrderLineKind> LineKinds { get; init => field = value ?? [OrderLineKind.GiftCard]; } = [OrderLineKind.GiftCard];

    /// <summary>Categories that never earn.</summary>
    public IReadOnlyList<string> Categories { get; init => field = value ?? []; } = [];

    /// <summary>SKUs that never earn.</summary>
    public IReadOnlyList<string> Skus { get; init => field = value ?? []; } = [];

    /// <summary>Whether shipping earns (default: no).</summary>
    public bool IncludeShipping { get; init; }

    /// <summary>Whether taxes earn (default: no).</summary>
    public bool IncludeTax { get; init; }
}

/// <summary>How expiry is computed.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ExpiryKind>))]
public enum ExpiryKind
{
    /// <summary>Points never expire (inactivity may still apply).</summary>
    Never,

    /// <summary><see cref="ExpiryPolicy.Months"/> and <see cref="ExpiryPolicy.Days"/> after activation, optionally rounded up.</summary>
    AfterActivation,

    /// <summary>On <see cref="ExpiryPolicy.FixedDate"/> (end of that day).</summary>
    FixedDate,

    /// <summary>At the end of the calendar period (<see cref="ExpiryPolicy.RoundUpTo"/>) <see cref="ExpiryPolicy.Periods"/> periods after the one of activation.</summary>
    EndOfPeriod,
}

/// <summary>Rounding of an expiry date up to the end of a calendar period.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ExpiryRounding>))]
public enum ExpiryRounding
{
    /// <summary>No rounding.</summary>
    None,

    /// <summary>End of the month.</summary>
    Month,

    /// <summary>End of the quarter.</summary>
    Quarter,

    /// <summary>End of the year.</summary>
    Year,
}

/// <summary>When points expire. Expiry instants are the end of a day in the program's time zone.</summary>
public sealed record ExpiryPolicy
{
    /// <summary>The kind.</summary>
    public ExpiryKind Kind { get; init; } = ExpiryKind.Never;

    /// <summary>Months after activation (<see cref="ExpiryKind.AfterActivation"/>).</summary>
    public int Months { get; init; }

    /// <summary>Days after activation (<see cref="ExpiryKind.AfterActivation"/>), added to the months.</summary>
    public int Days { get; init; }

    /// <summary>Rounding up (after activation) or the period (end of period).</summary>
    public ExpiryRounding RoundUpTo { get; init; } = ExpiryRounding.None;

    /// <summary>Periods after the activation period (<see cref="ExpiryKind.EndOfPeriod"/>; 0 = this period's end).</summary>
    public int Periods { get; init; }

    /// <summary>The date (<see cref="ExpiryKind.FixedDate"/>).</summary>
    public LocalDate? FixedDate { get; init; }

    /// <summary>When set, everything expires after this many months without earning or redeeming.</summary>
    public int? InactivityMonths { get; init; }
}

/// <summary>When the pending window of an order starts.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<PendingStart>))]
public enum PendingStart
{
    /// <summary>When the order is completed (delivered); points stay pending until then.</summary>
    Completion,

    /// <summary>When the order is placed.</summary>
    Placement,
}

/// <summary>Points from orders are pending for a return window, then become available (and start to expire).</summary>
public sealed record PendingPolicy
{
    /// <summary>Length of the window in days (0: available at once, or at completion).</summary>
    public int Days { get; init; }

    /// <summary>What starts the window.</summary>
    public PendingStart StartsAt { get; init; } = PendingStart.Completion;
}

/// <summary>What a return does to points that are no longer pending.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ReturnMode>))]
public enum ReturnMode
{
    /// <summary>Claw back from the available balance, never below zero; the shortfall is recorded and recovered from
    /// later credits.</summary>
    WithinBalance,

    /// <summary>Only pending points are cancelled; points already available stay.</summary>
    OnlyPending,

    /// <summary>Claw back in full; the available balance may become negative (a debt later credits settle).</summary>
    AllowNegative,
}

/// <summary>The return policy.</summary>
public sealed record ReturnPolicy
{
    /// <summary>The mode.</summary>
    public ReturnMode Mode { get; init; } = ReturnMode.WithinBalance;
}

/// <summary>Checkout reservations.</summary>
public sealed record ReservationPolicy
{
    /// <summary>Minutes after which an uncaptured reservation is released automatically.</summary>
    public int TimeoutMinutes { get; init => field = value == 0 ? 30 : value; } = 30;
}

/// <summary>An explicit conversion between two currencies.</summary>
public sealed record CurrencyConversion
{
    /// <summary>From currency.</summary>
    public required string From { get; init; }

    /// <summary>To currency.</summary>
    public required string To { get; init; }

    /// <summary>Units of <see cref="To"/> per unit of <see cref="From"/> (rounded down).</summary>
    public required decimal Rate { get; init; }
}

/// <summary>What tiers qualify on.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<TierBasis>))]
public enum TierBasis
{
    /// <summary>Points earned in the primary currency (net of clawbacks), never the balance.</summary>
    PointsEarned,

    /// <summary>Eligible spend in the base currency (net of returns).</summary>
    Spend,
}

/// <summary>The qualification window.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<TierWindowKind>))]
public enum TierWindowKind
{
    /// <summary>The last <see cref="TierProgram.WindowMonths"/> months up to now.</summary>
    Rolling,

    /// <summary>The current calendar year.</summary>
    CalendarYear,
}

/// <summary>How a downgrade is applied at review.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<TierDowngrade>))]
public enum TierDowngrade
{
    /// <summary>One tier down at most.</summary>
    OneTier,

    /// <summary>To the tier the customer qualifies for.</summary>
    Recompute,
}

/// <summary>Tiers.</summary>
public sealed record TierProgram
{
    /// <summary>What tiers qualify on.</summary>
    public TierBasis Basis { get; init; } = TierBasis.PointsEarned;

    /// <summary>The window.</summary>
    public TierWindowKind Window { get; init; } = TierWindowKind.Rolling;

    /// <summary>Length of a rolling window in months.</summary>
    public int WindowMonths { get; init => field = value == 0 ? 12 : value; } = 12;

    /// <summary>Months between reviews (a review is due this long after the tier was reached or last kept).</summary>
    public int ReviewMonths { get; init => field = value == 0 ? 12 : value; } = 12;

    /// <summary>Days of grace after a failed review before the downgrade.</summary>
    public int GraceDays { get; init; }

    /// <summary>How a downgrade is applied.</summary>
    public TierDowngrade Downgrade { get; init; } = TierDowngrade.OneTier;

    /// <summary>The levels, lowest first; the first has threshold 0 and is everyone's starting tier.</summary>
    public IReadOnlyList<TierLevel> Levels { get; init => field = value ?? []; } = [];
}

/// <summary>One tier.</summary>
public sealed record TierLevel
{
    /// <summary>The tier's id, e.g. <c>gold</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Display name.</summary>
    public string? Name { get; init; }

    /// <summary>Qualifying points (or spend) in the window to reach the tier.</summary>
    public decimal Threshold { get; init; }

    /// <summary>Benefit: base points earned are multiplied by this (1 = none).</summary>
    public decimal EarnMultiplier { get; init => field = value == 0m ? 1m : value; } = 1m;
}
