using System.Globalization;
using NodaTime;

namespace Loyalty.Sdk.Predictive;

/// <summary>
/// The explicit unit in which recency, age (T), horizons and model rates are expressed.
/// Every model parameter with a time dimension (for example BG/NBD <c>alpha</c>) is tied to the unit used when fitting.
/// </summary>
/// <param name="Name">A short, lower-case name such as <c>weeks</c>.</param>
/// <param name="Days">The length of one unit in days (fractional lengths are allowed).</param>
public sealed record TimeUnit(string Name, double Days)
{
    /// <summary>One calendar day.</summary>
    public static TimeUnit Day { get; } = new("days", 1);

    /// <summary>Seven days (the unit of the published CDNOW results).</summary>
    public static TimeUnit Week { get; } = new("weeks", 7);

    /// <summary>A 30-day month.</summary>
    public static TimeUnit Month { get; } = new("months", 30);

    /// <summary>A 365-day year.</summary>
    public static TimeUnit Year { get; } = new("years", 365);

    /// <summary>The name of the unit.</summary>
    public string Name { get; init; } = !string.IsNullOrWhiteSpace(Name) ? Name : throw new ArgumentException("A time unit needs a name.", nameof(Name));

    /// <summary>The length of one unit in days.</summary>
    public double Days { get; init; } = double.IsFinite(Days) && Days > 0 ? Days : throw new ArgumentOutOfRangeException(nameof(Days), Days, "The length of a time unit must be a positive number of days.");

    /// <summary>Converts a number of days to this unit.</summary>
    /// <param name="days">A number of days.</param>
    /// <returns><paramref name="days"/> expressed in this unit.</returns>
    public double FromDays(double days) => days / Days;

    /// <summary>The time from <paramref name="start"/> to <paramref name="end"/> in this unit.</summary>
    /// <param name="start">The earlier date.</param>
    /// <param name="end">The later date.</param>
    /// <returns>The number of days between the dates divided by <see cref="Days"/> (negative when <paramref name="end"/> is earlier).</returns>
    public double Between(LocalDate start, LocalDate end) => Period.DaysBetween(start, end) / Days;

    /// <summary>
    /// Converts a per-30-day-month discount rate into the equivalent compound rate per one unit of this time unit:
    /// <c>(1 + monthlyRate)^(Days / 30) - 1</c>.
    /// </summary>
    /// <param name="monthlyRate">The discount rate per 30-day month, for example 0.01.</param>
    /// <returns>The discount rate per unit of this time unit.</returns>
    public double DiscountRateFromMonthly(double monthlyRate)
    {
        if (!double.IsFinite(monthlyRate) || monthlyRate <= -1)
        {
            throw new ArgumentOutOfRangeException(nameof(monthlyRate), monthlyRate, "The discount rate must be finite and greater than -1.");
        }

        return Math.Pow(1 + monthlyRate, Days / 30.0) - 1;
    }

    /// <summary>The number of whole units closest to one 365-day year (52 for weeks, 12 for months, 365 for days).</summary>
    public int UnitsPerYear => Math.Max(1, (int)Math.Round(365.0 / Days, MidpointRounding.AwayFromZero));

    /// <summary>
    /// Parses <c>days</c>, <c>weeks</c>, <c>months</c> (30 days) or <c>years</c> (365 days); singular forms and the
    /// abbreviations <c>d</c>, <c>w</c>, <c>m</c>, <c>y</c> are accepted, case-insensitively.
    /// </summary>
    /// <param name="text">The text to parse.</param>
    /// <returns>The matching unit.</returns>
    /// <exception cref="FormatException">The text is not a known unit.</exception>
    public static TimeUnit Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToUpperInvariant() switch
        {
            "D" or "DAY" or "DAYS" => Day,
            "W" or "WEEK" or "WEEKS" => Week,
            "M" or "MONTH" or "MONTHS" => Month,
            "Y" or "YEAR" or "YEARS" => Year,
            _ => throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"Unknown time unit '{text}'. Use days, weeks, months (30 days) or years (365 days).")),
        };
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
