using System.Globalization;
using NodaTime;

namespace Loyalty.Sdk.Predictive;

/// <summary>Mean holdout purchases of the customers with one calibration frequency (or more, for the last bucket).</summary>
/// <param name="Label">"0", "1", ... or "N+" for the last bucket.</param>
/// <param name="MinFrequency">The smallest calibration frequency in the bucket.</param>
/// <param name="Customers">The number of customers in the bucket.</param>
/// <param name="ActualMean">The mean number of purchase days in the holdout period.</param>
/// <param name="PredictedMean">The mean conditional expectation for the holdout period.</param>
public sealed record FrequencyBucketComparison(string Label, int MinFrequency, int Customers, double ActualMean, double PredictedMean);

/// <summary>Cumulative repeat purchases of the cohort up to the end of one period.</summary>
/// <param name="Period">The 1-based period index (week 1, 2, ... for weeks).</param>
/// <param name="End">The last day of the period.</param>
/// <param name="Actual">Actual cumulative repeat purchase days.</param>
/// <param name="Predicted">The model's cumulative expected repeat purchases, Σ over customers of E[X(age at period end)].</param>
public readonly record struct CumulativeComparison(int Period, LocalDate End, double Actual, double Predicted);

/// <summary>A calibration/holdout check of a BG/NBD model.</summary>
/// <param name="FrequencyBuckets">Predicted versus actual holdout purchases per calibration frequency.</param>
/// <param name="Cumulative">Cumulative repeat purchases per period from the cohort start to the holdout end.</param>
/// <param name="BucketMeanAbsoluteError">Mean over buckets of |actual mean - predicted mean|.</param>
/// <param name="CumulativeMeanAbsoluteError">Mean over periods of |actual - predicted| cumulative repeat purchases.</param>
/// <param name="CumulativeMeanAbsolutePercentageError">Mean over periods (with actual &gt; 0) of |actual - predicted| / actual, in percent.</param>
/// <param name="FinalPercentageError">(predicted - actual) / actual at the last period, in percent (negative = under-forecast).</param>
public sealed record HoldoutEvaluation(
    IReadOnlyList<FrequencyBucketComparison> FrequencyBuckets,
    IReadOnlyList<CumulativeComparison> Cumulative,
    double BucketMeanAbsoluteError,
    double CumulativeMeanAbsoluteError,
    double CumulativeMeanAbsolutePercentageError,
    double FinalPercentageError);

/// <summary>Compares a fitted model's forecasts with what happened in a holdout period.</summary>
public static class HoldoutEvaluator
{
    /// <summary>
    /// Evaluates <paramref name="model"/> (fitted on summaries at <paramref name="calibrationEnd"/>) against the transactions
    /// up to <paramref name="holdoutEnd"/>. Periods for the cumulative curve start at the cohort's first purchase date and
    /// last one time unit each (period k covers days [(k-1)·len, k·len) from the start).
    /// </summary>
    /// <param name="model">The fitted BG/NBD model (in <paramref name="unit"/>).</param>
    /// <param name="transactions">All transactions (calibration and holdout).</param>
    /// <param name="calibrationEnd">The last day of the calibration period.</param>
    /// <param name="holdoutEnd">The last day of the holdout period.</param>
    /// <param name="unit">The time unit of the model.</param>
    /// <param name="maxFrequencyBucket">The last bucket collects calibration frequencies ≥ this value (default 7).</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The comparison.</returns>
    public static HoldoutEvaluation Evaluate(
        BgNbdModel model,
        IEnumerable<Transaction> transactions,
        LocalDate calibrationEnd,
        LocalDate holdoutEnd,
        TimeUnit unit,
        int maxFrequencyBucket = 7,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(transactions);
        ArgumentNullException.ThrowIfNull(unit);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrequencyBucket, 1);
        var list = transactions as IReadOnlyCollection<Transaction> ?? transactions.ToList();
        var summaries = SummaryBuilder.BuildWithHoldout(list, calibrationEnd, holdoutEnd, unit);
        if (summaries.Count == 0)
        {
            throw new ArgumentException("No customer made a first purchase in the calibration period.", nameof(transactions));
        }

        var buckets = BuildBuckets(model, summaries, maxFrequencyBucket, cancellationToken);
        var cumulative = BuildCumulative(model, list, summaries, holdoutEnd, unit, cancellationToken);
        var bucketMae = buckets.Average(b => Math.Abs(b.ActualMean - b.PredictedMean));
        var mae = cumulative.Average(c => Math.Abs(c.Actual - c.Predicted));
        var withActual = cumulative.Where(c => c.Actual > 0).ToList();
        var mape = withActual.Count == 0 ? double.NaN : 100 * withActual.Average(c => Math.Abs(c.Actual - c.Predicted) / c.Actual);
        var last = cumulative[^1];
        var final = last.Actual > 0 ? 100 * (last.Predicted - last.Actual) / last.Actual : double.NaN;
        return new HoldoutEvaluation(buckets, cumulative, bucketMae, mae, mape, final);
    }

    private static List<FrequencyBucketComparison> BuildBuckets(
        BgNbdModel model,
        IReadOnlyList<CalibrationHoldoutSummary> summaries,
        int maxBucket,
        CancellationToken cancellationToken)
    {
        var count = new int[maxBucket + 1];
        var actual = new double[maxBucket + 1];
        var predicted = new double[maxBucket + 1];
        foreach (var s in summaries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var c = s.Calibration;
            var bucket = (int)Math.Min(maxBucket, c.Frequency);
            count[bucket]++;
            actual[bucket] += s.HoldoutFrequency;
            predicted[bucket] += model.ConditionalExpectedPurchases(s.HoldoutDuration, c.Frequency, c.Recency, c.T);
        }

        var result = new List<FrequencyBucketComparison>();
        for (var k = 0; k <= maxBucket; k++)
        {
            if (count[k] == 0)
            {
                continue;
            }

            var label = k == maxBucket ? string.Create(CultureInfo.InvariantCulture, $"{k}+") : k.ToString(CultureInfo.InvariantCulture);
            result.Add(new FrequencyBucketComparison(label, k, count[k], actual[k] / count[k], predicted[k] / count[k]));
        }

        return result;
    }

    private static List<CumulativeComparison> BuildCumulative(
        BgNbdModel model,
        IReadOnlyCollection<Transaction> transactions,
        IReadOnlyList<CalibrationHoldoutSummary> summaries,
        LocalDate holdoutEnd,
        TimeUnit unit,
        CancellationToken cancellationToken)
    {
        var cohort = summaries.ToDictionary(s => s.Calibration.Id, s => s.FirstPurchase, StringComparer.Ordinal);
        var start = summaries.Min(s => s.FirstPurchase);
        var totalDays = Period.DaysBetween(start, holdoutEnd) + 1;
        var periods = Math.Max(1, (int)Math.Ceiling((totalDays / unit.Days) - 1e-9));

        // Actual: repeat purchase days (distinct days after the first) counted on the day they happen.
        var repeatsPerDay = new double[totalDays];
        foreach (var group in transactions.Where(t => cohort.ContainsKey(t.CustomerId) && t.Date <= holdoutEnd).GroupBy(t => t.CustomerId, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var first = cohort[group.Key];
            foreach (var purchaseDay in group.Select(t => t.Date).Distinct())
            {
                if (purchaseDay > first)
                {
                    repeatsPerDay[Period.DaysBetween(start, purchaseDay)]++;
                }
            }
        }

        // Predicted: customers grouped by first-purchase day.
        var byFirstDay = summaries.GroupBy(s => Period.DaysBetween(start, s.FirstPurchase)).Select(g => (Day: g.Key, Count: g.Count())).ToArray();
        var result = new List<CumulativeComparison>(periods);
        var actual = 0.0;
        var day = 0;
        for (var k = 1; k <= periods; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var cutoff = Math.Min(k * unit.Days, totalDays);
            while (day < totalDays && day < cutoff - 1e-9)
            {
                actual += repeatsPerDay[day];
                day++;
            }

            var predicted = 0.0;
            foreach (var (firstDay, count) in byFirstDay)
            {
                var age = (cutoff - firstDay) / unit.Days;
                if (age > 0)
                {
                    predicted += count * model.ExpectedPurchases(age);
                }
            }

            var end = start.PlusDays((int)Math.Ceiling(cutoff - 1e-9) - 1);
            result.Add(new CumulativeComparison(k, end, actual, predicted));
        }

        return result;
    }
}
