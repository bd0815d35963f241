using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Storage;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IDecisionRepository"/>: a customer's decisions, oldest first, paged.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class DecisionTrailConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly CustomerId Bob = Customer("cus-bob");

    /// <summary>A customer without decisions has an empty trail.</summary>
    [Fact]
    public virtual async Task A_customer_without_decisions_has_an_empty_trail()
    {
        await WriteAsync(s => s.Decisions.AppendAsync([Decision(Bob, 1)]));

        Assert.Empty(await ReadAsync(s => s.Decisions.ListAsync(Ada, 0, 100)));
    }

    /// <summary>Appended decisions round-trip with their inputs, in append order, each customer's apart.</summary>
    [Fact]
    public virtual async Task Decisions_round_trip_in_append_order_per_customer()
    {
        await WriteAsync(s => s.Decisions.AppendAsync([Decision(Ada, 1), Decision(Bob, 2), Decision(Ada, 3)]));

        Deep.Equal(new[] { Decision(Ada, 1), Decision(Ada, 3) }, await ReadAsync(s => s.Decisions.ListAsync(Ada, 0, 100)));
        Deep.Equal(new[] { Decision(Bob, 2) }, await ReadAsync(s => s.Decisions.ListAsync(Bob, 0, 100)));
    }

    /// <summary>Decisions appended by later sessions come after earlier ones, even when they are dated earlier (the
    /// trail is in append order, not by <see cref="Decision.DecidedAt"/>).</summary>
    [Fact]
    public virtual async Task Later_sessions_append_after_earlier_ones_whatever_the_decision_time()
    {
        await WriteAsync(s => s.Decisions.AppendAsync([Decision(Ada, 10), Decision(Ada, 11)]));
        await WriteAsync(s => s.Decisions.AppendAsync([Decision(Ada, 5)]));
        await WriteAsync(s => s.Decisions.AppendAsync([Decision(Ada, 7), Decision(Ada, 6)]));

        var trail = await ReadAsync(s => s.Decisions.ListAsync(Ada, 0, 100));

        Assert.Equal(["Decision 10 about cus-ada.", "Decision 11 about cus-ada.", "Decision 5 about cus-ada.", "Decision 7 about cus-ada.", "Decision 6 about cus-ada."], trail.Select(d => d.Summary));
    }

    /// <summary>Pages (skip, take) partition the trail: concatenated they give the whole trail once, in order, and a
    /// page past the end is empty.</summary>
    [Fact]
    public virtual async Task Pages_partition_the_trail_in_order()
    {
        for (var batch = 0; batch < 5; batch++)
        {
            var b = batch;
            await WriteAsync(s => s.Decisions.AppendAsync([.. Enumerable.Range(b * 5, 5).Select(n => Decision(Ada, n))]));
        }

        var all = await ReadAsync(s => s.Decisions.ListAsync(Ada, 0, 1000));
        var paged = new List<Decision>();
        for (var skip = 0; skip < 25; skip += 7)
        {
            var from = skip;
            var page = await ReadAsync(s => s.Decisions.ListAsync(Ada, from, 7));
            Assert.Equal(Math.Min(7, 25 - skip), page.Count);
            paged.AddRange(page);
        }

        Assert.Equal(25, all.Count);
        Deep.Equal(all, paged);
        Assert.Equal(Enumerable.Range(0, 25).Select(n => $"Decision {n} about cus-ada."), all.Select(d => d.Summary));
        Assert.Empty(await ReadAsync(s => s.Decisions.ListAsync(Ada, 25, 10)));
    }

    /// <summary>A session lists the decisions it appended after the committed ones, before committing them; a session
    /// disposed without commit leaves the trail unchanged.</summary>
    [Fact]
    public virtual async Task A_session_reads_its_own_appends_and_forgets_them_without_commit()
    {
        await WriteAsync(s => s.Decisions.AppendAsync([Decision(Ada, 1)]));

        await using (var session = await OpenAsync())
        {
            await session.Decisions.AppendAsync([Decision(Ada, 2)]);
            Assert.Equal(["Decision 1 about cus-ada.", "Decision 2 about cus-ada."], (await session.Decisions.ListAsync(Ada, 0, 10)).Select(d => d.Summary));
        }

        Assert.Single(await ReadAsync(s => s.Decisions.ListAsync(Ada, 0, 10)));
    }
}
