using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>What a command did.</summary>
public sealed record LedgerResult
{
    /// <summary>The idempotency key.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The entries written (empty when there was nothing to do).</summary>
    public IReadOnlyList<LedgerTransfer> Transfers { get; init; } = [];

    /// <summary>The customer's balances after the command.</summary>
    public IReadOnlyList<LedgerBalance> Balances { get; init; } = [];

    /// <summary>Whether this is the stored result of an earlier identical command (a retry).</summary>
    public bool Replayed { get; init; }

    /// <summary>Points a clawback could not collect.</summary>
    public long Shortfall { get; init; }

    /// <summary>Points an earn command asked for that a cap (<c>includeManualEarns</c>) did not let through.</summary>
    public long Capped { get; init; }

    /// <summary>Signals raised (tier changes...).</summary>
    public IReadOnlyList<LedgerSignal> Signals { get; init; } = [];

    /// <summary>Points moved by the command (sum of the amounts credited to the customer minus debited).</summary>
    public long Net { get; init; }
}

/// <summary>What a ledger signal says.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<LedgerSignalKind>))]
public enum LedgerSignalKind
{
    /// <summary>Points expired.</summary>
    PointsExpired,

    /// <summary>Points will expire soon.</summary>
    PointsExpiringSoon,

    /// <summary>Pending points became available.</summary>
    PointsActivated,

    /// <summary>A reservation lapsed and was released.</summary>
    ReservationExpired,

    /// <summary>The tier changed (or a review started a grace period).</summary>
    TierChanged,
}

/// <summary>A signal for journeys and messaging ("your points expire on ...").</summary>
public sealed record LedgerSignal
{
    /// <summary>What happened.</summary>
    public required LedgerSignalKind Kind { get; init; }

    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The currency.</summary>
    public string? Ledger { get; init; }

    /// <summary>Points concerned.</summary>
    public long Points { get; init; }

    /// <summary>When it happened (the due-work instant).</summary>
    public required Instant At { get; init; }

    /// <summary>When the points expire (expiring soon).</summary>
    public Instant? ExpiresAt { get; init; }

    /// <summary>The tier after, for tier changes.</summary>
    public string? Tier { get; init; }

    /// <summary>The tier before, for tier changes.</summary>
    public string? PreviousTier { get; init; }

    /// <summary>A stable key (for outbox de-duplication).</summary>
    public required string Key { get; init; }
}

/// <summary>What a due-work run did.</summary>
public sealed record DueWorkResult
{
    /// <summary>The instant it ran for.</summary>
    public required Instant Now { get; init; }

    /// <summary>Customers processed.</summary>
    public int Customers { get; init; }

    /// <summary>Entries written.</summary>
    public int Transfers { get; init; }

    /// <summary>Points expired.</summary>
    public long PointsExpired { get; init; }

    /// <summary>Points activated.</summary>
    public long PointsActivated { get; init; }

    /// <summary>Points released from lapsed reservations.</summary>
    public long PointsReleased { get; init; }

    /// <summary>Signals raised.</summary>
    public IReadOnlyList<LedgerSignal> Signals { get; init; } = [];

    /// <summary>Whether more customers are due (call again).</summary>
    public bool More { get; init; }
}

/// <summary>One line of a statement: an entry seen from the customer, with its reason.</summary>
public sealed record StatementLine
{
    /// <summary>The entry.</summary>
    public required LedgerTransfer Transfer { get; init; }

    /// <summary>Effect on the customer's available balance.</summary>
    public long AvailableDelta { get; init; }

    /// <summary>Effect on the pending balance.</summary>
    public long PendingDelta { get; init; }

    /// <summary>Effect on the reserved balance.</summary>
    public long ReservedDelta { get; init; }

    /// <summary>The reason in words.</summary>
    public required string Description { get; init; }
}

/// <summary>A customer's tier and what it takes to move.</summary>
public sealed record TierProgress
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The status.</summary>
    public required TierStatus Status { get; init; }

    /// <summary>Qualifying value in the current window.</summary>
    public decimal Qualifying { get; init; }

    /// <summary>The next tier up (null at the top).</summary>
    public string? NextTier { get; init; }

    /// <summary>What is still needed to reach the next tier.</summary>
    public decimal ToReachNext { get; init; }

    /// <summary>What is still needed by the review to keep the current tier.</summary>
    public decimal ToKeepCurrent { get; init; }

    /// <summary>The history, oldest first.</summary>
    public IReadOnlyList<TierChange> History { get; init; } = [];
}

/// <summary>Outstanding points of one expiry month.</summary>
/// <param name="Month">The month (<c>yyyy-MM</c>, or <c>never</c>, or <c>pending</c>).</param>
/// <param name="Points">Points outstanding.</param>
/// <param name="Value">Their value in the base currency.</param>
public sealed record LiabilityBucket(string Month, long Points, decimal Value);

/// <summary>A program's outstanding points in one currency.</summary>
public sealed record LedgerLiability
{
    /// <summary>The currency.</summary>
    public required string Ledger { get; init; }

    /// <summary>Points issued net of clawbacks and reversals (credits from issuance, adjustments, refunds).</summary>
    public long Issued { get; init; }

    /// <summary>Points redeemed (net of refunds).</summary>
    public long Redeemed { get; init; }

    /// <summary>Points expired.</summary>
    public long Expired { get; init; }

    /// <summary>Points clawed back or reversed.</summary>
    public long Reversed { get; init; }

    /// <summary>Net manual adjustments.</summary>
    public long Adjusted { get; init; }

    /// <summary>Net conversions in (positive) or out.</summary>
    public long Converted { get; init; }

    /// <summary>Points customers hold (available + pending + reserved).</summary>
    public long Outstanding { get; init; }

    /// <summary>Available.</summary>
    public long Available { get; init; }

    /// <summary>Pending.</summary>
    public long Pending { get; init; }

    /// <summary>Reserved.</summary>
    public long Reserved { get; init; }

    /// <summary>Value of one point in the base currency.</summary>
    public decimal ValuePerPoint { get; init; }

    /// <summary>Value of the outstanding points.</summary>
    public decimal Value { get; init; }

    /// <summary>Outstanding points by expiry month.</summary>
    public IReadOnlyList<LiabilityBucket> ByExpiryMonth { get; init; } = [];

    /// <summary>Redeemed ÷ issued.</summary>
    public double RedemptionRate { get; init; }

    /// <summary>Mean days from a lot's creation to the redemptions that used it (weighted by points).</summary>
    public double AverageDaysToRedeem { get; init; }

    /// <summary>Observed breakage: the share of points whose fate is known that expired instead of being redeemed,
    /// expired ÷ (expired + redeemed); 0 before anything was redeemed or expired.</summary>
    public double BreakageRate { get; init; }

    /// <summary>Points of the outstanding available and pending balance expected never to be redeemed
    /// (<see cref="BreakageRate"/> × (available + pending), rounded; reserved points are expected to be redeemed).</summary>
    public long ExpectedBreakage { get; init; }

    /// <summary>The liability net of expected breakage, (outstanding − expected breakage) × value per point: the
    /// figure a finance team books under IFRS 15 / ASC 606 before its own adjustments.</summary>
    public decimal ValueNetOfBreakage { get; init; }
}

/// <summary>What a reconciliation proved.</summary>
public sealed record ReconciliationReport
{
    /// <summary>Entries folded.</summary>
    public long Transfers { get; init; }

    /// <summary>Customers checked.</summary>
    public int Customers { get; init; }

    /// <summary>Whether every ledger sums to zero over all its accounts and every hot balance and lot equals the fold
    /// of the journal.</summary>
    public bool Balanced => Problems.Count == 0;

    /// <summary>Sum over all accounts, by currency (always zero when balanced).</summary>
    public IReadOnlyDictionary<string, long> SumByLedger { get; init; } = new Dictionary<string, long>();

    /// <summary>Differences found.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}

/// <summary>What an order would earn (dry run) or earned, rule by rule.</summary>
public sealed record EarningEvaluation
{
    /// <summary>The eligible value in the base currency (after exclusions, discounts and points paid).</summary>
    public decimal EligibleValue { get; init; }

    /// <summary>What each rule contributes.</summary>
    public IReadOnlyList<EarningComponent> Components { get; init; } = [];

    /// <summary>Points by line id (bonuses spread by value), used for clawbacks on returns by line.</summary>
    public IReadOnlyDictionary<string, long> PointsByLine { get; init; } = new Dictionary<string, long>();

    /// <summary>Total points.</summary>
    public long Total => Components.Sum(c => c.Points);

    /// <summary>Points removed by caps.</summary>
    public long Capped { get; init; }

    /// <summary>Rules skipped because a higher-priority rule stopped evaluation.</summary>
    public IReadOnlyList<string> Stopped { get; init; } = [];
}

/// <summary>One rule's contribution to an order's points.</summary>
public sealed record EarningComponent
{
    /// <summary>The rule id (<c>tier:{id}</c> for tier benefits).</summary>
    public required string Rule { get; init; }

    /// <summary>The rule version.</summary>
    public int RuleVersion { get; init; }

    /// <summary>The currency.</summary>
    public required string Ledger { get; init; }

    /// <summary>Points.</summary>
    public required long Points { get; init; }

    /// <summary>How it was computed, for people.</summary>
    public required string Explanation { get; init; }
}
