using System.Globalization;
using NodaTime;

namespace Loyalty.Sdk.Predictive;

/// <summary>
/// Incrementally maintains what a customer's RFM summary needs, one order event at a time, in O(1) time and space.
/// The value is immutable: <see cref="Add"/> returns the updated state, which can be persisted through its properties
/// and rebuilt with the public constructor.
/// </summary>
/// <remarks>
/// Orders must arrive in non-decreasing date order. Orders on the same date as the latest one merge into one purchase
/// day (their values add up), exactly as <see cref="SummaryBuilder"/> does.
/// </remarks>
public readonly record struct CustomerSummaryAccumulator
{
    /// <summary>Rebuilds an accumulator from persisted state.</summary>
    /// <param name="firstPurchase">The date of the first purchase.</param>
    /// <param name="lastPurchase">The date of the latest purchase.</param>
    /// <param name="purchaseDays">The number of distinct purchase days (at least 1).</param>
    /// <param name="firstDaySpend">The total spent on the first purchase day.</param>
    /// <param name="totalSpend">The total spent over all purchase days.</param>
    public CustomerSummaryAccumulator(LocalDate firstPurchase, LocalDate lastPurchase, int purchaseDays, decimal firstDaySpend, decimal totalSpend)
    {
        if (purchaseDays < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(purchaseDays), purchaseDays, "A non-empty accumulator has at least one purchase day.");
        }

        if (lastPurchase < firstPurchase)
        {
            throw new ArgumentException("The last purchase cannot precede the first one.", nameof(lastPurchase));
        }

        if (purchaseDays == 1 && lastPurchase != firstPurchase)
        {
            throw new ArgumentException("With a single purchase day the first and last purchase dates must be equal.", nameof(purchaseDays));
        }

        FirstPurchase = firstPurchase;
        LastPurchase = lastPurchase;
        PurchaseDays = purchaseDays;
        FirstDaySpend = firstDaySpend;
        TotalSpend = totalSpend;
    }

    /// <summary>The date of the first purchase (meaningless while <see cref="IsEmpty"/>).</summary>
    public LocalDate FirstPurchase { get; }

    /// <summary>The date of the latest purchase (meaningless while <see cref="IsEmpty"/>).</summary>
    public LocalDate LastPurchase { get; }

    /// <summary>The number of distinct purchase days seen so far.</summary>
    public int PurchaseDays { get; }

    /// <summary>The total spent on the first purchase day.</summary>
    public decimal FirstDaySpend { get; }

    /// <summary>The total spent over all purchase days.</summary>
    public decimal TotalSpend { get; }

    /// <summary>True until the first order is added.</summary>
    public bool IsEmpty => PurchaseDays == 0;

    /// <summary>x: the number of repeat purchase days so far.</summary>
    public int Frequency => Math.Max(0, PurchaseDays - 1);

    /// <summary>Adds one order and returns the updated accumulator.</summary>
    /// <param name="date">The order date; must not precede <see cref="LastPurchase"/>.</param>
    /// <param name="amount">The order value.</param>
    /// <returns>The accumulator including the order.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The order is older than the latest one already added.</exception>
    public CustomerSummaryAccumulator Add(LocalDate date, decimal amount)
    {
        if (IsEmpty)
        {
            return new CustomerSummaryAccumulator(date, date, 1, amount, amount);
        }

        if (date < LastPurchase)
        {
            throw new ArgumentOutOfRangeException(
                nameof(date),
                date,
                string.Create(CultureInfo.InvariantCulture, $"Orders must be added in date order; {date:uuuu-MM-dd} precedes the latest order {LastPurchase:uuuu-MM-dd}."));
        }

        if (date == LastPurchase)
        {
            var firstDay = PurchaseDays == 1 ? FirstDaySpend + amount : FirstDaySpend;
            return new CustomerSummaryAccumulator(FirstPurchase, LastPurchase, PurchaseDays, firstDay, TotalSpend + amount);
        }

        return new CustomerSummaryAccumulator(FirstPurchase, date, PurchaseDays + 1, FirstDaySpend, TotalSpend + amount);
    }

    /// <summary>Produces (x, t_x, T, mean repeat spend) at <paramref name="evaluationDate"/>.</summary>
    /// <param name="id">The customer identifier to put in the summary.</param>
    /// <param name="evaluationDate">The end of the observation period; must not precede the latest order.</param>
    /// <param name="unit">The time unit of recency and T.</param>
    /// <returns>The customer's summary.</returns>
    /// <exception cref="InvalidOperationException">No order has been added.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The evaluation date precedes the latest order.</exception>
    public CustomerSummary ToSummary(string id, LocalDate evaluationDate, TimeUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        if (IsEmpty)
        {
            throw new InvalidOperationException("The customer has no purchases yet.");
        }

        if (evaluationDate < LastPurchase)
        {
            throw new ArgumentOutOfRangeException(nameof(evaluationDate), evaluationDate, "The evaluation date precedes the latest order.");
        }

        var x = PurchaseDays - 1;
        var recency = x == 0 ? 0 : unit.Between(FirstPurchase, LastPurchase);
        var age = unit.Between(FirstPurchase, evaluationDate);
        var monetary = x == 0 ? 0 : (double)((TotalSpend - FirstDaySpend) / x);
        return new CustomerSummary(id, x, recency, age, monetary);
    }
}
