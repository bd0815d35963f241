using System.Text.Json.Nodes;
using Loyalty.Sdk.Predictive;
using Loyalty.Sdk.Predictive.Engine;
using NodaTime;

namespace Loyalty.Sdk.Simulation;

/// <summary>
/// Holds what the predictive report needs from the moment the calibration period ends: every customer's summary then
/// and the model fitted on it. Create it before streaming and call <see cref="OnNewDayAsync"/> from the runner.
/// </summary>
public sealed class PredictiveCheckpoint(IPredictiveService service, TenantId tenant, LocalDate calibrationEnd)
{
    /// <summary>The last day of the calibration period.</summary>
    public LocalDate CalibrationEnd { get; } = calibrationEnd;

    /// <summary>Summaries at the calibration end, once reached.</summary>
    public IReadOnlyList<CustomerSummaryAt>? Calibration { get; private set; }

    /// <summary>The model fitted at the calibration end, once reached.</summary>
    public PredictiveModelSnapshot? CalibrationModel { get; private set; }

    /// <summary>Runs the predictive due work (scheduled refits) and captures the calibration snapshot on the first day
    /// after <see cref="CalibrationEnd"/>.</summary>
    public async Task OnNewDayAsync(Instant startOfDay, CancellationToken cancellationToken)
    {
        if (Calibration is null && startOfDay.InUtc().Date > CalibrationEnd)
        {
            Calibration = await service.GetSummariesAsync(tenant, CalibrationEnd, cancellationToken).ConfigureAwait(false);
            CalibrationModel = await service.RefitAsync(tenant, CalibrationEnd, cancellationToken).ConfigureAwait(false);
        }

        await service.RunDueWorkAsync(tenant, startOfDay, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>What the report needs to fill its predictive section.</summary>
/// <param name="Service">The engine's predictive service.</param>
/// <param name="Checkpoint">The calibration checkpoint captured while streaming.</param>
/// <param name="End">The last day of the history.</param>
public sealed record PredictiveReportInputs(IPredictiveService Service, PredictiveCheckpoint Checkpoint, LocalDate End);

/// <summary>Builds the <c>predictive</c> section of the report: fitted parameters, how well P(alive) separates the true
/// churners (AUC), and predicted versus actual purchases in the holdout period.</summary>
internal static class PredictiveSection
{
    public static async Task<JsonObject> BuildAsync(
        IPredictiveService service, PredictiveCheckpoint checkpoint, TenantId tenant, LocalDate end, IReadOnlyDictionary<CustomerId, int>? personOfCustomer, GeneratedShop? truth, CancellationToken cancellationToken)
    {
        var final = await service.RefitAsync(tenant, end, cancellationToken).ConfigureAwait(false);
        if (final is null)
        {
            return ReportBuilder.NotYet("Too few customers with purchases to fit a model.");
        }

        var summaries = await service.GetSummariesAsync(tenant, end, cancellationToken).ConfigureAwait(false);
        var section = new JsonObject
        {
            ["available"] = true,
            ["fittedAt"] = end.ToString("uuuu-MM-dd", null),
            ["customers"] = final.Customers,
            ["bgnbd"] = new JsonObject { ["r"] = R(final.R), ["alpha"] = R(final.Alpha), ["a"] = R(final.A), ["b"] = R(final.B), ["logLikelihood"] = R(final.LogLikelihood) },
            ["gammaGamma"] = final.P is null ? null : new JsonObject { ["p"] = R(final.P.Value), ["q"] = R(final.Q!.Value), ["v"] = R(final.V!.Value) },
            ["clvPercentiles"] = final.ClvPercentiles.Count == 101
                ? new JsonObject { ["p10"] = R(final.ClvPercentiles[10]), ["p50"] = R(final.ClvPercentiles[50]), ["p90"] = R(final.ClvPercentiles[90]), ["p99"] = R(final.ClvPercentiles[99]) }
                : null,
        };

        // P(alive) at the end against the generator's truth. Positives stopped buying at least 90 days before the end;
        // negatives never stopped; people who stopped in the last 90 days are left out (no model can tell yet).
        var model = new BgNbdModel(final.R, final.Alpha, final.A, final.B);
        if (truth is not null && personOfCustomer is not null)
        {
            var endInstant = end.PlusDays(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
            var settled = endInstant - Duration.FromDays(90);
            var scored = summaries
                .Where(s => personOfCustomer.ContainsKey(s.Customer))
                .Select(s => (PAlive: model.ProbabilityAlive(s.Summary.Frequency, s.Summary.Recency, s.Summary.T), ChurnedAt: truth.People[personOfCustomer[s.Customer]].ChurnedAt, Repeat: s.Summary.Frequency > 0))
                .Where(x => x.ChurnedAt is null || x.ChurnedAt <= settled)
                .Select(x => (x.PAlive, Churned: x.ChurnedAt is not null, x.Repeat))
                .ToList();
            section["churnAuc"] = R(Auc(scored.Select(x => (1 - x.PAlive, x.Churned)).ToList()));

            // BG/NBD holds every customer without a repeat purchase alive (P(alive) = 1), so the separation is
            // measured among repeat buyers too.
            section["churnAucRepeatBuyers"] = R(Auc(scored.Where(x => x.Repeat).Select(x => (1 - x.PAlive, x.Churned)).ToList()));
            section["churnersScored"] = scored.Count(x => x.Churned);
            section["activeScored"] = scored.Count(x => !x.Churned);
            section["meanPAliveChurned"] = R(scored.Where(x => x.Churned).Select(x => x.PAlive).DefaultIfEmpty(0).Average());
            section["meanPAliveActive"] = R(scored.Where(x => !x.Churned).Select(x => x.PAlive).DefaultIfEmpty(0).Average());
        }

        // Holdout: predictions made with the calibration model against the purchases that really followed.
        if (checkpoint.Calibration is { } calibration && checkpoint.CalibrationModel is { } calModel)
        {
            var calBgNbd = new BgNbdModel(calModel.R, calModel.Alpha, calModel.A, calModel.B);
            var finalDays = summaries.ToDictionary(s => s.Customer, s => s.PurchaseDays);
            var weeks = TimeUnit.Week.Between(checkpoint.CalibrationEnd, end);
            var rows = calibration
                .Where(c => finalDays.ContainsKey(c.Customer))
                .Select(c => (c.Summary.Frequency, Actual: (double)(finalDays[c.Customer] - c.PurchaseDays), Predicted: calBgNbd.ConditionalExpectedPurchases(weeks, c.Summary.Frequency, c.Summary.Recency, c.Summary.T)))
                .ToList();
            var buckets = new JsonArray();
            for (var f = 0; f <= 6; f++)
            {
                var inBucket = rows.Where(r => f < 6 ? r.Frequency == f : r.Frequency >= 6).ToList();
                if (inBucket.Count == 0)
                {
                    continue;
                }

                buckets.Add(new JsonObject
                {
                    ["frequency"] = f < 6 ? f.ToString(System.Globalization.CultureInfo.InvariantCulture) : "6+",
                    ["customers"] = inBucket.Count,
                    ["actualMean"] = R(inBucket.Average(r => r.Actual)),
                    ["predictedMean"] = R(inBucket.Average(r => r.Predicted)),
                });
            }

            var actual = rows.Sum(r => r.Actual);
            var predicted = rows.Sum(r => r.Predicted);
            section["holdout"] = new JsonObject
            {
                ["calibrationEnd"] = checkpoint.CalibrationEnd.ToString("uuuu-MM-dd", null),
                ["weeks"] = R(weeks),
                ["customers"] = rows.Count,
                ["actualPurchases"] = actual,
                ["predictedPurchases"] = R(predicted),
                ["errorPercent"] = R(actual == 0 ? 0 : 100 * (predicted - actual) / actual),
                ["meanAbsoluteError"] = R(rows.Count == 0 ? 0 : rows.Average(r => Math.Abs(r.Predicted - r.Actual))),
                ["byFrequency"] = buckets,
            };
        }

        return section;
    }

    // Area under the ROC curve by the rank-sum statistic (ties share their average rank).
    internal static double Auc(IReadOnlyList<(double Score, bool Positive)> items)
    {
        var positives = items.Count(i => i.Positive);
        var negatives = items.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return 0.5;
        }

        var sorted = items.OrderBy(i => i.Score).ToArray();
        double rankSum = 0;
        for (var i = 0; i < sorted.Length;)
        {
            var j = i;
            while (j < sorted.Length && sorted[j].Score == sorted[i].Score)
            {
                j++;
            }

            var rank = (i + j + 1) / 2.0;
            rankSum += sorted[i..j].Count(x => x.Positive) * rank;
            i = j;
        }

        return (rankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }

    // A diverged fit (a, b → ∞) can make BG/NBD's conditional expectation NaN; JSON has no NaN, so it is written as null.
    private static double? R(double value) => double.IsFinite(value) ? Math.Round(value, 4, MidpointRounding.AwayFromZero) : null;
}
