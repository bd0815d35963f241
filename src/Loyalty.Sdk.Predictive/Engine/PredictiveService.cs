using Loyalty.Sdk.Storage;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Loyalty.Sdk.Predictive.Engine;

/// <summary>A customer's predictive traits, as segment rules and journeys use them.</summary>
/// <param name="Customer">The customer.</param>
/// <param name="ProbabilityAlive">BG/NBD probability that the customer is still active.</param>
/// <param name="ExpectedPurchases">Expected purchases over the purchase horizon (90 days by default).</param>
/// <param name="ExpectedSpend">Expected average spend per purchase (Gamma-Gamma), when fitted.</param>
/// <param name="Clv">Discounted lifetime value over the CLV horizon (12 months by default), when spend was fitted.</param>
/// <param name="ClvPercentile">Where the CLV falls among the fitted customers, 0 to 100.</param>
/// <param name="Summary">The summary the scores were computed from.</param>
public sealed record PredictiveTraits(CustomerId Customer, double ProbabilityAlive, double ExpectedPurchases, double? ExpectedSpend, double? Clv, double? ClvPercentile, CustomerSummary Summary);

/// <summary>A customer summary at an evaluation date, with the customer it belongs to.</summary>
/// <param name="Customer">The customer.</param>
/// <param name="Summary">Frequency, recency and age in the configured time unit.</param>
/// <param name="PurchaseDays">Distinct purchase days so far.</param>
public sealed record CustomerSummaryAt(CustomerId Customer, CustomerSummary Summary, int PurchaseDays);

/// <summary>The predictive capability as the host uses it.</summary>
public interface IPredictiveService
{
    /// <summary>Fits BG/NBD and Gamma-Gamma on every customer's summary at <paramref name="asOf"/> and keeps the
    /// model for scoring. Returns null when there are fewer customers than <see cref="PredictiveOptions.MinimumCustomers"/>.</summary>
    Task<PredictiveModelSnapshot?> RefitAsync(TenantId tenant, LocalDate asOf, CancellationToken cancellationToken = default);

    /// <summary>Refits when the tenant's model is missing or older than <see cref="PredictiveOptions.RefitInterval"/>.
    /// Drive it with the clock (a hosted service, or the host's scheduler).</summary>
    Task<PredictiveModelSnapshot?> RunDueWorkAsync(TenantId tenant, Instant now, CancellationToken cancellationToken = default);

    /// <summary>Scores a customer with the tenant's latest model; null without a model or purchases.</summary>
    Task<PredictiveTraits?> ScoreAsync(TenantId tenant, CustomerId customer, LocalDate asOf, CancellationToken cancellationToken = default);

    /// <summary>Every customer's summary at <paramref name="asOf"/> (customers whose last purchase is later are left out).</summary>
    Task<IReadOnlyList<CustomerSummaryAt>> GetSummariesAsync(TenantId tenant, LocalDate asOf, CancellationToken cancellationToken = default);
}

/// <summary>The default <see cref="IPredictiveService"/>.</summary>
public sealed class PredictiveService(ILoyaltyStore store, IClock clock, IOptions<PredictiveOptions> options) : IPredictiveService
{
    private const int Page = 5_000;
    private readonly PredictiveOptions options = (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <inheritdoc />
    public async Task<IReadOnlyList<CustomerSummaryAt>> GetSummariesAsync(TenantId tenant, LocalDate asOf, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var result = new List<CustomerSummaryAt>();
        for (var skip = 0; ; skip += Page)
        {
            var page = await session.Predictive.ListAsync(skip, Page, cancellationToken).ConfigureAwait(false);
            foreach (var h in page)
            {
                if (h.LastPurchase <= asOf)
                {
                    result.Add(new CustomerSummaryAt(h.Customer, ToSummary(h, asOf), h.PurchaseDays));
                }
            }

            if (page.Count < Page)
            {
                return result;
            }
        }
    }

    /// <inheritdoc />
    public async Task<PredictiveModelSnapshot?> RefitAsync(TenantId tenant, LocalDate asOf, CancellationToken cancellationToken = default)
    {
        var summaries = await GetSummariesAsync(tenant, asOf, cancellationToken).ConfigureAwait(false);
        if (summaries.Count < options.MinimumCustomers)
        {
            return null;
        }

        var data = summaries.Select(s => s.Summary).ToArray();
        var fit = new FitOptions { Penalizer = options.Penalizer, ComputeStandardErrors = false };
        var purchases = BgNbdModel.Fit(data, fit, cancellationToken);
        GammaGammaModel? spend = null;
        if (data.Count(s => s.Frequency > 0 && s.MonetaryValue > 0) >= options.MinimumCustomers)
        {
            spend = GammaGammaModel.Fit(data, fit, cancellationToken: cancellationToken).Model;
        }

        var percentiles = Array.Empty<double>();
        if (spend is not null)
        {
            var scorer = new CustomerScorer(purchases.Model, spend, Scoring());
            var scores = new CustomerScore[data.Length];
            scorer.Score(data, scores);
            var probabilities = Enumerable.Range(0, 101).Select(i => i / 100.0).ToArray();
            percentiles = ClvCalculator.Quantiles(scores.Select(s => s.Clv).ToArray(), probabilities);
        }

        var model = purchases.Model;
        var snapshot = new PredictiveModelSnapshot
        {
            FittedAt = clock.GetCurrentInstant(),
            AsOf = asOf,
            Customers = data.Length,
            R = model.R,
            Alpha = model.Alpha,
            A = model.A,
            B = model.B,
            LogLikelihood = purchases.LogLikelihood,
            P = spend?.P,
            Q = spend?.Q,
            V = spend?.V,
            ClvPercentiles = percentiles,
        };
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        await session.Predictive.SaveModelAsync(snapshot, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return snapshot;
    }

    /// <inheritdoc />
    public async Task<PredictiveModelSnapshot?> RunDueWorkAsync(TenantId tenant, Instant now, CancellationToken cancellationToken = default)
    {
        PredictiveModelSnapshot? current;
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            current = await session.Predictive.GetModelAsync(cancellationToken).ConfigureAwait(false);
        }

        if (current is not null && now - current.FittedAt < options.RefitInterval)
        {
            return current;
        }

        return await RefitAsync(tenant, now.InUtc().Date, cancellationToken).ConfigureAwait(false) ?? current;
    }

    /// <inheritdoc />
    public async Task<PredictiveTraits?> ScoreAsync(TenantId tenant, CustomerId customer, LocalDate asOf, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var model = await session.Predictive.GetModelAsync(cancellationToken).ConfigureAwait(false);
        var history = await session.Predictive.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        if (model is null || history is null || history.LastPurchase > asOf)
        {
            return null;
        }

        return Score(model, history, asOf);
    }

    /// <summary>Scores one history with a fitted model (pure).</summary>
    public PredictiveTraits Score(PredictiveModelSnapshot model, PurchaseHistory history, LocalDate asOf) => PredictiveScoring.Score(options, model, history, asOf);

    private ScoringOptions Scoring() => PredictiveScoring.Scoring(options);

    private CustomerSummary ToSummary(PurchaseHistory h, LocalDate asOf) => PredictiveScoring.ToSummary(options, h, asOf);
}
