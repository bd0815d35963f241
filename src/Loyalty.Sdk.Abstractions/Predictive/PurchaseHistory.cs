using NodaTime;

namespace Loyalty.Sdk.Predictive;

/// <summary>
/// What the predictive models need of one customer's purchases, maintained in O(1) per order: first and last purchase
/// day (in the customer's time zone), the number of distinct purchase days, and spend. Same-day orders count as one
/// purchase, as in the BG/NBD literature.
/// </summary>
public sealed record PurchaseHistory
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>Day of the first purchase.</summary>
    public required LocalDate FirstPurchase { get; init; }

    /// <summary>Day of the latest purchase.</summary>
    public required LocalDate LastPurchase { get; init; }

    /// <summary>Distinct purchase days (at least 1).</summary>
    public required int PurchaseDays { get; init; }

    /// <summary>Spend on the first purchase day (left out of the repeat-spend mean).</summary>
    public required decimal FirstDaySpend { get; init; }

    /// <summary>Total spend, in the program's base currency.</summary>
    public required decimal TotalSpend { get; init; }

    /// <summary>Orders that arrived dated before <see cref="LastPurchase"/> and could not be counted exactly.</summary>
    public int LateOrders { get; init; }

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; init; }
}

/// <summary>A fitted model kept for scoring: BG/NBD for purchases and, when there were repeat buyers, Gamma-Gamma for
/// spend, with the CLV distribution needed to turn a CLV into a percentile.</summary>
public sealed record PredictiveModelSnapshot
{
    /// <summary>When the fit ran (engine clock).</summary>
    public required Instant FittedAt { get; init; }

    /// <summary>The evaluation date of the summaries it was fitted on.</summary>
    public required LocalDate AsOf { get; init; }

    /// <summary>Customers fitted.</summary>
    public required int Customers { get; init; }

    /// <summary>BG/NBD r.</summary>
    public required double R { get; init; }

    /// <summary>BG/NBD α.</summary>
    public required double Alpha { get; init; }

    /// <summary>BG/NBD a.</summary>
    public required double A { get; init; }

    /// <summary>BG/NBD b.</summary>
    public required double B { get; init; }

    /// <summary>BG/NBD log-likelihood.</summary>
    public required double LogLikelihood { get; init; }

    /// <summary>Gamma-Gamma p, when fitted.</summary>
    public double? P { get; init; }

    /// <summary>Gamma-Gamma q, when fitted.</summary>
    public double? Q { get; init; }

    /// <summary>Gamma-Gamma v, when fitted.</summary>
    public double? V { get; init; }

    /// <summary>CLV at the 0th, 1st, …, 100th percentile of the fitted customers (101 values, ascending).</summary>
    public IReadOnlyList<double> ClvPercentiles { get; init; } = [];
}

/// <summary>Storage of the predictive capability.</summary>
public interface IPredictiveRepository
{
    /// <summary>A customer's purchase history.</summary>
    ValueTask<PurchaseHistory?> GetAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Saves a history with optimistic concurrency (<paramref name="expectedVersion"/> is the version read, 0 for new).</summary>
    ValueTask SaveAsync(PurchaseHistory history, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Removes the history of a customer absorbed by a merge.</summary>
    ValueTask DeleteAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Histories ordered by customer id, paged (for fitting).</summary>
    ValueTask<IReadOnlyList<PurchaseHistory>> ListAsync(int skip, int take, CancellationToken cancellationToken = default);

    /// <summary>The latest fitted model of the tenant.</summary>
    ValueTask<PredictiveModelSnapshot?> GetModelAsync(CancellationToken cancellationToken = default);

    /// <summary>Replaces the tenant's fitted model.</summary>
    ValueTask SaveModelAsync(PredictiveModelSnapshot model, CancellationToken cancellationToken = default);
}
