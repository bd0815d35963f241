using NodaTime;

namespace Loyalty.Sdk.Predictive;

/// <summary>Builds RFM summaries from raw transactions.</summary>
/// <remarks>
/// Rules (the ones behind the published CDNOW summaries): purchases on the same day merge into one purchase (values add
/// up); only purchases on or before the calibration end date count; x is the number of distinct purchase days minus one;
/// t_x is the time from the first to the last purchase day; T is the time from the first purchase day to the calibration
/// end date; the monetary value is the mean value of the repeat purchase days (the first purchase day is left out).
/// Customers whose first purchase is after the calibration end are left out.
/// </remarks>
public static class SummaryBuilder
{
    /// <summary>Builds calibration summaries.</summary>
    /// <param name="transactions">The transactions, in any order.</param>
    /// <param name="calibrationEnd">The last day of the calibration period (inclusive).</param>
    /// <param name="unit">The time unit for recency and T.</param>
    /// <returns>One summary per customer, in order of first appearance in <paramref name="transactions"/>.</returns>
    public static IReadOnlyList<CustomerSummary> Build(IEnumerable<Transaction> transactions, LocalDate calibrationEnd, TimeUnit unit)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        ArgumentNullException.ThrowIfNull(unit);
        var state = Accumulate(transactions, calibrationEnd, calibrationEnd);
        var result = new List<CustomerSummary>(state.Order.Count);
        foreach (var id in state.Order)
        {
            var entry = state.Customers[id];
            if (!entry.Calibration.IsEmpty)
            {
                result.Add(entry.Calibration.ToSummary(id, calibrationEnd, unit));
            }
        }

        return result;
    }

    /// <summary>Builds calibration summaries together with the holdout-period behaviour of each customer.</summary>
    /// <param name="transactions">The transactions, in any order.</param>
    /// <param name="calibrationEnd">The last day of the calibration period (inclusive).</param>
    /// <param name="holdoutEnd">The last day of the holdout period (inclusive); the holdout starts the day after <paramref name="calibrationEnd"/>.</param>
    /// <param name="unit">The time unit.</param>
    /// <returns>One entry per customer whose first purchase is in the calibration period.</returns>
    public static IReadOnlyList<CalibrationHoldoutSummary> BuildWithHoldout(
        IEnumerable<Transaction> transactions,
        LocalDate calibrationEnd,
        LocalDate holdoutEnd,
        TimeUnit unit)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        ArgumentNullException.ThrowIfNull(unit);
        if (holdoutEnd <= calibrationEnd)
        {
            throw new ArgumentOutOfRangeException(nameof(holdoutEnd), holdoutEnd, "The holdout end must be after the calibration end.");
        }

        var state = Accumulate(transactions, calibrationEnd, holdoutEnd);
        var duration = unit.Between(calibrationEnd, holdoutEnd);
        var result = new List<CalibrationHoldoutSummary>(state.Order.Count);
        foreach (var id in state.Order)
        {
            var entry = state.Customers[id];
            if (entry.Calibration.IsEmpty)
            {
                continue;
            }

            var mean = entry.HoldoutDays == 0 ? 0 : (double)(entry.HoldoutSpend / entry.HoldoutDays);
            result.Add(new CalibrationHoldoutSummary(
                entry.Calibration.ToSummary(id, calibrationEnd, unit),
                entry.Calibration.FirstPurchase,
                entry.HoldoutDays,
                mean,
                duration));
        }

        return result;
    }

    private static AccumulationState Accumulate(IEnumerable<Transaction> transactions, LocalDate calibrationEnd, LocalDate lastDate)
    {
        var list = new List<Transaction>();
        var order = new List<string>();
        var customers = new Dictionary<string, CustomerEntry>(StringComparer.Ordinal);
        foreach (var transaction in transactions)
        {
            if (transaction.CustomerId is null)
            {
                throw new ArgumentException("A transaction has no customer id.", nameof(transactions));
            }

            if (!customers.ContainsKey(transaction.CustomerId))
            {
                customers.Add(transaction.CustomerId, new CustomerEntry());
                order.Add(transaction.CustomerId);
            }

            if (transaction.Date <= lastDate)
            {
                list.Add(transaction);
            }
        }

        // A stable sort by date keeps the O(1) accumulator valid whatever the input order.
        var sorted = list.Select((t, i) => (t, i)).OrderBy(p => p.t.Date).ThenBy(p => p.i);
        foreach (var (t, _) in sorted)
        {
            var entry = customers[t.CustomerId];
            if (t.Date <= calibrationEnd)
            {
                entry.Calibration = entry.Calibration.Add(t.Date, t.Amount);
            }
            else if (!entry.Calibration.IsEmpty)
            {
                if (t.Date != entry.LastHoldoutDay)
                {
                    entry.HoldoutDays++;
                    entry.LastHoldoutDay = t.Date;
                }

                entry.HoldoutSpend += t.Amount;
            }
        }

        return new AccumulationState(order, customers);
    }

    private sealed record AccumulationState(List<string> Order, Dictionary<string, CustomerEntry> Customers);

    private sealed class CustomerEntry
    {
        public CustomerSummaryAccumulator Calibration { get; set; }

        public int HoldoutDays { get; set; }

        public LocalDate LastHoldoutDay { get; set; }

        public decimal HoldoutSpend { get; set; }
    }
}
