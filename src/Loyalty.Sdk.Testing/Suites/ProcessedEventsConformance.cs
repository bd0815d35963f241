using Loyalty.Sdk.Storage;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IProcessedEventRepository"/>: the idempotency record of ingestion.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class ProcessedEventsConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");

    /// <summary>An event id never ingested is not found.</summary>
    [Fact]
    public virtual async Task An_unknown_event_id_is_not_found()
    {
        Assert.Null(await ReadAsync(s => s.Events.FindAsync(new EventId("evt-unknown"))));
    }

    /// <summary>A committed ingestion is found with its customer and instant.</summary>
    [Fact]
    public virtual async Task A_committed_event_is_found_with_its_customer_and_instant()
    {
        await WriteAsync(s => s.Events.AddAsync(Processed("evt-1", Ada, 7)));
        await WriteAsync(s => s.Events.AddAsync(Processed("evt-2", Customer("cus-bob"), 8)));

        Deep.Equal(Processed("evt-1", Ada, 7), await ReadAsync(s => s.Events.FindAsync(new EventId("evt-1"))));
        Deep.Equal(Processed("evt-2", Customer("cus-bob"), 8), await ReadAsync(s => s.Events.FindAsync(new EventId("evt-2"))));
    }

    /// <summary>An ingestion that resolved to no customer keeps a null customer.</summary>
    [Fact]
    public virtual async Task An_event_without_a_customer_round_trips()
    {
        await WriteAsync(s => s.Events.AddAsync(Processed("evt-anonymous", null, 3)));

        var found = await ReadAsync(s => s.Events.FindAsync(new EventId("evt-anonymous")));
        Assert.NotNull(found);
        Assert.Null(found.Customer);
        Assert.Equal(At(3), found.IngestedAt);
    }

    /// <summary>A session finds the ingestion it recorded before committing it.</summary>
    [Fact]
    public virtual async Task A_session_finds_the_event_it_added_before_commit()
    {
        await using var session = await OpenAsync();
        await session.Events.AddAsync(Processed("evt-1", Ada));

        Deep.Equal(Processed("evt-1", Ada), await session.Events.FindAsync(new EventId("evt-1")));
    }

    /// <summary>An ingestion of a session disposed without commit is forgotten.</summary>
    [Fact]
    public virtual async Task An_event_added_without_commit_is_forgotten()
    {
        await using (var session = await OpenAsync())
        {
            await session.Events.AddAsync(Processed("evt-1", Ada));
        }

        Assert.Null(await ReadAsync(s => s.Events.FindAsync(new EventId("evt-1"))));
    }

    /// <summary>Recording an event id that was already recorded is a concurrency conflict (two ingestions of the same
    /// event raced), and the first record stays.</summary>
    [Fact]
    public virtual async Task Adding_an_event_id_already_committed_is_a_concurrency_conflict_and_keeps_the_first()
    {
        await WriteAsync(s => s.Events.AddAsync(Processed("evt-1", Ada, 1)));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Events.AddAsync(Processed("evt-1", Customer("cus-mallory"), 2));
                await session.CommitAsync();
            });
        }

        Deep.Equal(Processed("evt-1", Ada, 1), await ReadAsync(s => s.Events.FindAsync(new EventId("evt-1"))));
    }

    /// <summary>Event ids are exact: ids that differ only by case are different events.</summary>
    [Fact]
    public virtual async Task Event_ids_are_case_sensitive()
    {
        await WriteAsync(s => s.Events.AddAsync(Processed("evt-ABC", Ada)));
        await WriteAsync(s => s.Events.AddAsync(Processed("evt-abc", Customer("cus-bob"))));

        Assert.Equal(Ada, (await ReadAsync(s => s.Events.FindAsync(new EventId("evt-ABC"))))!.Customer);
        Assert.Equal(Customer("cus-bob"), (await ReadAsync(s => s.Events.FindAsync(new EventId("evt-abc"))))!.Customer);
    }
}
