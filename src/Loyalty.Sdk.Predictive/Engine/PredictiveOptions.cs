using NodaTime;

namespace Loyalty.Sdk.Predictive.Engine;

/// <summary>Options of the predictive capability inside the engine.</summary>
public sealed class PredictiveOptions
{
    /// <summary>Time unit of the fitted models (weeks by default, as in the literature).</summary>
    public TimeUnit TimeUnit { get; set; } = TimeUnit.Week;

    /// <summary>How old a fit may get before <see cref="IPredictiveService.RunDueWorkAsync"/> refits. Default 7 days.</summary>
    public Duration RefitInterval { get; set; } = Duration.FromDays(7);

    /// <summary>Horizon of the "expected purchases" score, in days. Default 90.</summary>
    public int PurchaseHorizonDays { get; set; } = 90;

    /// <summary>Horizon of the CLV score, in months of 30 days. Default 12.</summary>
    public int ClvMonths { get; set; } = 12;

    /// <summary>Discount rate per month for CLV. Default 1%.</summary>
    public double MonthlyDiscountRate { get; set; } = 0.01;

    /// <summary>Fewer customers than this and no model is fitted (the estimates would mean nothing). Default 50.</summary>
    public int MinimumCustomers { get; set; } = 50;

    /// <summary>L2 penalizer of the fits (see docs/predictive.md). Default 0.</summary>
    public double Penalizer { get; set; }
}
