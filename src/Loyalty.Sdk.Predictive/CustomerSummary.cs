using NodaTime;

namespace Loyalty.Sdk.Predictive;

/// <summary>
/// The recency-frequency-monetary summary of one customer that the buy-till-you-die models consume.
/// All times are in one explicit <see cref="TimeUnit"/>, measured from the customer's first purchase.
/// </summary>
/// <param name="Id">The customer identifier.</param>
/// <param name="Frequency">x: the number of repeat purchases (distinct purchase days after the first one).</param>
/// <param name="Recency">t_x: the time from the first purchase to the last purchase (0 when x = 0).</param>
/// <param name="T">The customer's age: the time from the first purchase to the end of the observation period.</param>
/// <param name="MonetaryValue">zbar: the mean spend over the repeat purchases (0 when x = 0).</param>
public readonly record struct CustomerSummary(string Id, double Frequency, double Recency, double T, double MonetaryValue = 0)
{
    /// <summary>Throws when the summary is not a valid model input.</summary>
    /// <exception cref="ArgumentException">A value is negative, not finite, or recency exceeds T.</exception>
    public void Validate()
    {
        if (!IsValid(Frequency, Recency, T, MonetaryValue, out var problem))
        {
            throw new ArgumentException($"Customer '{Id}': {problem}");
        }
    }

    internal static bool IsValid(double frequency, double recency, double t, double monetary, out string problem)
    {
        if (!double.IsFinite(frequency) || frequency < 0)
        {
            problem = "frequency must be a non-negative number.";
            return false;
        }

        if (!double.IsFinite(recency) || recency < 0)
        {
            problem = "recency must be a non-negative number.";
            return false;
        }

        if (!double.IsFinite(t) || t < 0)
        {
            problem = "T must be a non-negative number.";
            return false;
        }

        if (recency > t * (1 + 1e-12) + 1e-12)
        {
            problem = "recency must not exceed T.";
            return false;
        }

        if (!double.IsFinite(monetary) || monetary < 0)
        {
            problem = "monetary value must be a non-negative number.";
            return false;
        }

        problem = string.Empty;
        return true;
    }
}

/// <summary>One purchase (order) of a customer.</summary>
/// <param name="CustomerId">The customer identifier.</param>
/// <param name="Date">The local date of the purchase.</param>
/// <param name="Amount">The value of the purchase.</param>
public readonly record struct Transaction(string CustomerId, LocalDate Date, decimal Amount);

/// <summary>A calibration-period summary together with what the customer did in the holdout period.</summary>
/// <param name="Calibration">The summary at the calibration end date.</param>
/// <param name="FirstPurchase">The date of the customer's first purchase.</param>
/// <param name="HoldoutFrequency">The number of distinct purchase days in the holdout period.</param>
/// <param name="HoldoutMonetaryValue">The mean spend per purchase day in the holdout period (0 when there was none).</param>
/// <param name="HoldoutDuration">The length of the holdout period in the time unit.</param>
public sealed record CalibrationHoldoutSummary(
    CustomerSummary Calibration,
    LocalDate FirstPurchase,
    double HoldoutFrequency,
    double HoldoutMonetaryValue,
    double HoldoutDuration);
