namespace Loyalty.Sdk.Predictive.Tests;

public sealed class ScorerTests
{
    private static readonly BgNbdModel Purchases = new(0.243, 4.414, 0.793, 2.426);
    private static readonly GammaGammaModel Spend = new(6.25, 3.74, 15.44);

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    [InlineData(0.1)]
    public void Fast_scores_match_the_reference_computation(double discount)
    {
        var options = new ScoringOptions { TimeUnit = TimeUnit.Week, PurchaseHorizon = 13, ClvPeriods = 52, DiscountRate = discount };
        var scorer = new CustomerScorer(Purchases, Spend, options);
        var customers = PredictiveSimulation.SimulateBgNbd(Purchases, Spend, 400, 0, 104, seed: 42, timeResolution: 1.0 / 7);
        var scores = new CustomerScore[customers.Length];
        scorer.Score(customers, scores);
        for (var i = 0; i < customers.Length; i++)
        {
            var c = customers[i];
            var s = scores[i];
            AssertClose(Purchases.ProbabilityAlive(c.Frequency, c.Recency, c.T), s.ProbabilityAlive);
            AssertClose(Purchases.ConditionalExpectedPurchases(13, c.Frequency, c.Recency, c.T), s.ExpectedPurchases);
            AssertClose(Spend.ConditionalExpectedAverageSpend(c.Frequency, c.MonetaryValue), s.ExpectedSpend);
            AssertClose(ClvCalculator.CustomerLifetimeValue(Purchases, Spend, c, 52, discount), s.Clv);
            Assert.Equal(s, scorer.Score(c));
        }
    }

    [Fact]
    public void Parallel_scoring_equals_sequential_scoring()
    {
        var scorer = new CustomerScorer(Purchases, Spend, ScoringOptions.ForUnit(TimeUnit.Week));
        var customers = PredictiveSimulation.SimulateBgNbd(Purchases, Spend, 150_000, 0, 104, seed: 1, timeResolution: 1.0 / 7);
        var sequential = new CustomerScore[customers.Length];
        var parallel = new CustomerScore[customers.Length];
        scorer.Score(customers, sequential);
        scorer.ScoreParallel(customers, parallel);
        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void Scoring_without_a_spend_model_gives_NaN_spend_and_clv()
    {
        var scorer = new CustomerScorer(Purchases, null);
        var score = scorer.Score(new CustomerSummary("1", 2, 30.43, 38.86, 22.35));
        Assert.True(double.IsNaN(score.ExpectedSpend));
        Assert.True(double.IsNaN(score.Clv));
        Assert.True(score.ExpectedPurchases > 0);
    }

    [Fact]
    public void Continuous_ages_beyond_the_cache_are_still_scored_correctly()
    {
        var scorer = new CustomerScorer(Purchases, Spend, new ScoringOptions { ClvPeriods = 12, PurchaseHorizon = 4 });
        var customers = PredictiveSimulation.SimulateBgNbd(Purchases, Spend, 20_000, 0, 104, seed: 9);
        var scores = new CustomerScore[customers.Length];
        scorer.Score(customers, scores);
        for (var i = customers.Length - 50; i < customers.Length; i++)
        {
            AssertClose(ClvCalculator.CustomerLifetimeValue(Purchases, Spend, customers[i], 12, 0.01), scores[i].Clv);
        }
    }

    [Fact]
    public void Invalid_customers_are_rejected()
    {
        var scorer = new CustomerScorer(Purchases, Spend);
        var results = new CustomerScore[1];
        Assert.Throws<ArgumentException>(() => scorer.Score([new CustomerSummary("x", 1, 10, 5)], results));
        Assert.Throws<ArgumentException>(() => scorer.Score([new CustomerSummary("x", -1, 0, 5)], results));
        Assert.Throws<ArgumentException>(() => scorer.Score(new CustomerSummary[2], results));
    }

    [Fact]
    public void Options_for_a_unit_use_a_year_and_one_percent_per_month()
    {
        var weekly = ScoringOptions.ForUnit(TimeUnit.Week);
        Assert.Equal(52, weekly.ClvPeriods);
        Assert.Equal(90.0 / 7, weekly.PurchaseHorizon, 1e-12);
        Assert.Equal(Math.Pow(1.01, 7.0 / 30) - 1, weekly.DiscountRate, 1e-15);
        Assert.Equal(12, ScoringOptions.ForUnit(TimeUnit.Month).ClvPeriods);
        Assert.Equal(0.01, ScoringOptions.ForUnit(TimeUnit.Month).DiscountRate, 1e-15);
        Assert.Equal(365, ScoringOptions.ForUnit(TimeUnit.Day).ClvPeriods);
    }

    [Fact]
    public void Clv_quantiles_interpolate()
    {
        var q = ClvCalculator.Quantiles([1, 2, 3, 4, 5], [0, 0.5, 0.9, 1]);
        Assert.Equal([1, 3, 4.6, 5], q.Select(v => Math.Round(v, 10)));
    }

    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");
}
