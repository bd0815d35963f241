using NodaTime;

namespace Loyalty.Sdk.Segments;

/// <summary>Options of the segmentation capability.</summary>
public sealed class SegmentOptions
{
    /// <summary>Days after the first order (or first sight) during which a customer is <c>new</c>. Default 30.</summary>
    public int NewDays { get; set; } = 30;

    /// <summary>Days without an order after which a customer is at least <c>at_risk</c>; the threshold grows to 2.5×
    /// their own purchase interval for slow buyers (up to <see cref="LapsedDays"/>). Default 60.</summary>
    public int AtRiskDays { get; set; } = 60;

    /// <summary>Days without an order after which a customer is <c>lapsed</c>. Default 180.</summary>
    public int LapsedDays { get; set; } = 180;

    /// <summary>Days a customer who came back after <see cref="AtRiskDays"/> stays <c>reactivated</c>. Default 30.</summary>
    public int ReactivatedDays { get; set; } = 30;

    /// <summary>Recency thresholds in days for RFM R scores 5, 4, 3, 2 (older is 1). Default 30, 60, 120, 240.</summary>
    public IReadOnlyList<int> RecencyThresholds { get; set; } = [30, 60, 120, 240];

    /// <summary>Order-count thresholds for RFM F scores 2, 3, 4, 5. Default 2, 3, 5, 8.</summary>
    public IReadOnlyList<int> FrequencyThresholds { get; set; } = [2, 3, 5, 8];

    /// <summary>Spend thresholds (base currency) for RFM M scores 2, 3, 4, 5. Default 100, 250, 500, 1000.</summary>
    public IReadOnlyList<decimal> MonetaryThresholds { get; set; } = [100m, 250m, 500m, 1000m];

    /// <summary>Net-spend thresholds (base currency) of the built-in <c>tier</c> trait: silver, gold, platinum. A ledger
    /// capability that registers its own <c>tier</c> trait replaces it. Default 250, 750, 2000.</summary>
    public IReadOnlyList<decimal> TierThresholds { get; set; } = [250m, 750m, 2000m];

    /// <summary>The shortest wait before a customer is re-evaluated by due work. Default 1 minute.</summary>
    public Duration MinimumRecheck { get; set; } = Duration.FromMinutes(1);

    /// <summary>Customers handled per due-work pass. Default 50,000.</summary>
    public int DueWorkBatchSize { get; set; } = 50_000;

    /// <summary>How long due work holds the customers it claimed before another worker may take them. Workers in
    /// several processes claim disjoint customers; a crashed worker's claims lapse after this. Default 5 minutes.</summary>
    public Duration DueWorkLease { get; set; } = Duration.FromMinutes(5);

    /// <summary>Worker threads of a batch recompute (0: one per core). Default 0.</summary>
    public int Parallelism { get; set; }

    /// <summary>Segments added in code, in addition to the program's (a segment of the same id replaces the program's).</summary>
    public IList<SegmentDefinition> Segments { get; } = [];
}
