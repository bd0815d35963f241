using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Segments;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Loyalty.Sdk.Predictive.Engine;

/// <summary>
/// The predictive scores as traits of the rule language, so segments, earning conditions and journeys can use them:
/// <c>p_alive</c>, <c>expected_purchases_90d</c>, <c>expected_spend</c>, <c>clv_12m</c> and <c>clv_percentile</c>
/// (null until the tenant has a fitted model and the customer a purchase). Scores are computed with the latest fitted
/// model each time a customer's segments are evaluated — on any of their events (scores move with time, so every event
/// kind re-evaluates rules that use them) and on segment due work — as of that day in the customer's time zone.
/// </summary>
public sealed class PredictiveTraitProvider(IOptions<PredictiveOptions> options) : ICustomerTraitProvider
{
    private readonly PredictiveOptions options = (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <inheritdoc />
    public IReadOnlyList<RuleTraitDefinition> Traits { get; } =
    [
        new("p_alive", RuleType.Number, "BG/NBD probability that the customer is still an active buyer, 0 to 1."),
        new("expected_purchases_90d", RuleType.Number, "Expected purchases over the purchase horizon (90 days by default)."),
        new("expected_spend", RuleType.Number, "Expected spend per future purchase (Gamma-Gamma), in the base currency."),
        new("clv_12m", RuleType.Number, "Discounted customer lifetime value over the CLV horizon (12 months by default), in the base currency."),
        new("clv_percentile", RuleType.Number, "Where the customer's CLV falls among the tenant's customers, 0 to 100."),
    ];

    /// <inheritdoc />
    public async ValueTask PrepareAsync(CustomerTraitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Session is not { } session)
        {
            return;
        }

        var model = await session.Predictive.GetModelAsync(cancellationToken).ConfigureAwait(false);
        var history = model is null ? null : await session.Predictive.GetAsync(context.Customer, cancellationToken).ConfigureAwait(false);
        var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(context.Profile?.TimeZone ?? context.Program.DefaultTimeZone) ?? DateTimeZone.Utc;
        var today = context.Now.InZone(zone).Date;
        context.Prepared[this] = model is null || history is null || history.LastPurchase > today
            ? null
            : PredictiveScoring.Score(options, model, history, today);
    }

    /// <inheritdoc />
    public void Fill(CustomerTraitContext context, RuleSubject subject, RuleSlot slot)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(slot);
        var traits = context.Prepared.TryGetValue(this, out var prepared) ? prepared as PredictiveTraits : null;
        subject.SetNumber(slot.Index, slot.Trait switch
        {
            "p_alive" => traits?.ProbabilityAlive,
            "expected_purchases_90d" => traits?.ExpectedPurchases,
            "expected_spend" => traits?.ExpectedSpend,
            "clv_12m" => traits?.Clv,
            "clv_percentile" => traits?.ClvPercentile,
            _ => null,
        });
    }
}
