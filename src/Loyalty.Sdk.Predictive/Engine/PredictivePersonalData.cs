using System.Text.Json.Nodes;
using Loyalty.Sdk.Consent;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Text;

namespace Loyalty.Sdk.Predictive.Engine;

/// <summary>
/// The predictive capability's part of a GDPR export and erasure. The export holds the purchase history of the customer
/// and of every id merged into it, and the customer's scores when a model has been fitted; the erasure deletes the
/// histories (the fitted model keeps only population parameters).
/// </summary>
public sealed class PredictivePersonalData(IOptions<PredictiveOptions> options) : IPersonalDataContributor
{
    private readonly PredictiveOptions options = (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <inheritdoc />
    public string Section => "predictive";

    /// <inheritdoc />
    public async ValueTask<JsonNode?> ExportAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var repo = context.Session.Predictive;
        var histories = new List<PurchaseHistory>();
        foreach (var id in context.AllIds)
        {
            if (await repo.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } h)
            {
                histories.Add(h);
            }
        }

        if (histories.Count == 0)
        {
            return null;
        }

        var model = await repo.GetModelAsync(cancellationToken).ConfigureAwait(false);
        JsonNode? scores = null;
        if (model is not null && histories.FirstOrDefault(h => h.Customer == context.Customer) is { } main)
        {
            var today = context.At.InUtc().Date;
            var asOf = main.LastPurchase > today ? main.LastPurchase : today;
            var s = PredictiveScoring.Score(options, model, main, asOf);
            scores = new JsonObject
            {
                ["asOf"] = Day(asOf),
                ["modelFittedAt"] = model.FittedAt.ToString(),
                ["pAlive"] = s.ProbabilityAlive,
                ["expectedPurchases"] = s.ExpectedPurchases,
                ["expectedSpend"] = s.ExpectedSpend,
                ["clv"] = s.Clv,
                ["clvPercentile"] = s.ClvPercentile,
            };
        }

        return new JsonObject
        {
            ["purchaseHistories"] = new JsonArray([.. histories.Select(h => (JsonNode)new JsonObject
            {
                ["customer"] = h.Customer.Value,
                ["firstPurchase"] = Day(h.FirstPurchase),
                ["lastPurchase"] = Day(h.LastPurchase),
                ["purchaseDays"] = h.PurchaseDays,
                ["firstDaySpend"] = h.FirstDaySpend,
                ["totalSpend"] = h.TotalSpend,
                ["lateOrders"] = h.LateOrders,
            })]),
            ["scores"] = scores,
        };
    }

    /// <inheritdoc />
    public async ValueTask EraseAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var id in context.AllIds)
        {
            await context.Session.Predictive.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Day(LocalDate day) => LocalDatePattern.Iso.Format(day);
}
