using NodaTime;

namespace Loyalty.Sdk.Predictive.Engine;

/// <summary>Scoring of one purchase history with a fitted model (pure, shared by the service and the trait provider).</summary>
internal static class PredictiveScoring
{
    public static PredictiveTraits Score(PredictiveOptions options, PredictiveModelSnapshot model, PurchaseHistory history, LocalDate asOf)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(history);
        var summary = ToSummary(options, history, asOf);
        var purchases = new BgNbdModel(model.R, model.Alpha, model.A, model.B);
        var spend = model.P is { } p && model.Q is { } q && model.V is { } v ? new GammaGammaModel(p, q, v) : null;
        var score = new CustomerScorer(purchases, spend, Scoring(options)).Score(summary);
        double? clv = double.IsNaN(score.Clv) ? null : score.Clv;
        double? percentile = null;
        if (clv is not null && model.ClvPercentiles.Count == 101)
        {
            var rank = 0;
            while (rank < 100 && model.ClvPercentiles[rank + 1] <= clv.Value)
            {
                rank++;
            }

            percentile = rank;
        }

        return new PredictiveTraits(history.Customer, score.ProbabilityAlive, score.ExpectedPurchases, double.IsNaN(score.ExpectedSpend) ? null : score.ExpectedSpend, clv, percentile, summary);
    }

    public static ScoringOptions Scoring(PredictiveOptions options) => ScoringOptions.ForUnit(options.TimeUnit, options.PurchaseHorizonDays) with
    {
        ClvPeriods = Math.Max(1, (int)Math.Round(options.ClvMonths * 30 / options.TimeUnit.Days)),
        DiscountRate = options.TimeUnit.DiscountRateFromMonthly(options.MonthlyDiscountRate),
    };

    public static CustomerSummary ToSummary(PredictiveOptions options, PurchaseHistory h, LocalDate asOf) =>
        new CustomerSummaryAccumulator(h.FirstPurchase, h.LastPurchase, h.PurchaseDays, h.FirstDaySpend, h.TotalSpend).ToSummary(h.Customer.Value, asOf, options.TimeUnit);
}
