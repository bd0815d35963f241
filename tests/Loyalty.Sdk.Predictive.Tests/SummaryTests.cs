using NodaTime;

namespace Loyalty.Sdk.Predictive.Tests;

public sealed class SummaryTests
{
    private static readonly LocalDate Start = new(2024, 1, 1);

    [Fact]
    public void Same_day_purchases_merge_and_values_add_up()
    {
        var transactions = new[]
        {
            new Transaction("a", Start, 10m),
            new Transaction("a", Start, 5m),
            new Transaction("a", Start.PlusDays(7), 20m),
            new Transaction("a", Start.PlusDays(7), 10m),
            new Transaction("a", Start.PlusDays(14), 60m),
            new Transaction("a", Start.PlusDays(30), 1000m), // after the calibration end
            new Transaction("b", Start.PlusDays(3), 8m),
        };
        var summaries = SummaryBuilder.Build(transactions, Start.PlusDays(21), TimeUnit.Week);
        Assert.Equal(new CustomerSummary("a", 2, 2, 3, 45), summaries[0]);
        Assert.Equal(new CustomerSummary("b", 0, 0, 18.0 / 7, 0), summaries[1]);
    }

    [Fact]
    public void Input_order_does_not_matter()
    {
        var transactions = new[]
        {
            new Transaction("a", Start.PlusDays(14), 60m),
            new Transaction("a", Start, 10m),
            new Transaction("a", Start.PlusDays(7), 20m),
        };
        var summary = SummaryBuilder.Build(transactions, Start.PlusDays(21), TimeUnit.Day).Single();
        Assert.Equal(new CustomerSummary("a", 2, 14, 21, 40), summary);
    }

    [Fact]
    public void Holdout_summaries_count_holdout_purchase_days()
    {
        var transactions = new[]
        {
            new Transaction("a", Start, 10m),
            new Transaction("a", Start.PlusDays(40), 20m),
            new Transaction("a", Start.PlusDays(40), 20m),
            new Transaction("a", Start.PlusDays(50), 10m),
            new Transaction("late", Start.PlusDays(45), 10m),
        };
        var result = SummaryBuilder.BuildWithHoldout(transactions, Start.PlusDays(29), Start.PlusDays(59), TimeUnit.Month).Single();
        Assert.Equal(2, result.HoldoutFrequency);
        Assert.Equal(25, result.HoldoutMonetaryValue);
        Assert.Equal(1, result.HoldoutDuration, 1e-12);
        Assert.Equal(0, result.Calibration.Frequency);
    }

    [Fact]
    public void Accumulator_is_O1_immutable_and_rejects_out_of_order_events()
    {
        var empty = default(CustomerSummaryAccumulator);
        Assert.True(empty.IsEmpty);
        var one = empty.Add(Start, 10m);
        var two = one.Add(Start, 5m).Add(Start.PlusDays(7), 30m);
        Assert.Equal(1, one.PurchaseDays);
        Assert.Equal(15m, two.FirstDaySpend);
        Assert.Equal(new CustomerSummary("c", 1, 1, 2, 30), two.ToSummary("c", Start.PlusDays(14), TimeUnit.Week));
        Assert.Throws<ArgumentOutOfRangeException>(() => two.Add(Start.PlusDays(1), 1m));
        Assert.Throws<ArgumentOutOfRangeException>(() => two.ToSummary("c", Start.PlusDays(6), TimeUnit.Week));
        Assert.Throws<InvalidOperationException>(() => empty.ToSummary("c", Start, TimeUnit.Week));

        var restored = new CustomerSummaryAccumulator(two.FirstPurchase, two.LastPurchase, two.PurchaseDays, two.FirstDaySpend, two.TotalSpend);
        Assert.Equal(two, restored);
    }

    [Fact]
    public void Time_units_parse_and_convert()
    {
        Assert.Equal(TimeUnit.Week, TimeUnit.Parse("weeks"));
        Assert.Equal(TimeUnit.Month, TimeUnit.Parse("M"));
        Assert.Equal(TimeUnit.Day, TimeUnit.Parse("day"));
        Assert.Throws<FormatException>(() => TimeUnit.Parse("fortnights"));
        Assert.Equal(2, TimeUnit.Week.Between(Start, Start.PlusDays(14)));
        Assert.Equal(0.01, TimeUnit.Month.DiscountRateFromMonthly(0.01), 1e-15);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeUnit("bad", 0));
    }
}
