using System.Globalization;

namespace Loyalty.Sdk.Predictive.Internal;

internal static class Guard
{
    public static double Positive(double value, string name) =>
        double.IsFinite(value) && value > 0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be a positive finite number."));

    public static double NonNegative(double value, string name) =>
        double.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be a non-negative finite number."));

    public static void Summary(double frequency, double recency, double t)
    {
        if (!CustomerSummary.IsValid(frequency, recency, t, 0, out var problem))
        {
            throw new ArgumentException(problem);
        }
    }
}
