using Loyalty.Sdk.Storage;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IProfileRepository"/>: profiles and computed traits with optimistic versions.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class ProfilesConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");

    /// <summary>An unknown customer has no profile.</summary>
    [Fact]
    public virtual async Task An_unknown_customer_has_no_profile()
    {
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Customer("cus-bob")), 0));

        Assert.Null(await ReadAsync(s => s.Profiles.GetAsync(Ada)));
    }

    /// <summary>A new profile is stored at version 1 with every field and trait.</summary>
    [Fact]
    public virtual async Task A_new_profile_round_trips_at_version_1()
    {
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada), 0));

        Deep.Equal(Profile(Ada) with { Version = 1 }, await ReadAsync(s => s.Profiles.GetAsync(Ada)));
    }

    /// <summary>A save with expected version v stores version v + 1 and the new values.</summary>
    [Fact]
    public virtual async Task A_save_with_expected_version_v_stores_version_v_plus_1()
    {
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada), 0));
        for (var v = 1; v <= 3; v++)
        {
            var version = v;
            await WriteAsync(async s =>
            {
                var read = (await s.Profiles.GetAsync(Ada))!;
                Assert.Equal(version, read.Version);
                await s.Profiles.SaveAsync(read with { Traits = read.Traits with { Orders = read.Traits.Orders + 1 }, Address = null }, read.Version);
            });
        }

        var stored = await ReadAsync(s => s.Profiles.GetAsync(Ada));
        Assert.Equal((4L, 6), (stored!.Version, stored.Traits.Orders));
        Assert.Null(stored.Address);
    }

    /// <summary>Saving twice in one session (version 0, then the version the first save gave) stores the last value at
    /// the last expected version + 1.</summary>
    [Fact]
    public virtual async Task Saving_twice_in_one_session_stores_the_last_value_at_the_last_expected_version_plus_1()
    {
        await WriteAsync(async s =>
        {
            await s.Profiles.SaveAsync(Profile(Ada, "Ada"), 0);
            await s.Profiles.SaveAsync(Profile(Ada, "Augusta") with { Version = 1 }, 1);
        });

        var stored = await ReadAsync(s => s.Profiles.GetAsync(Ada));
        Assert.Equal(("Augusta", 2L), (stored!.GivenName, stored.Version));
    }

    /// <summary>A session reads the profile it saved, and no longer reads the one it deleted, before committing.</summary>
    [Fact]
    public virtual async Task A_session_reads_its_own_saves_and_deletes()
    {
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Customer("cus-bob")), 0));

        await using var session = await OpenAsync();
        await session.Profiles.SaveAsync(Profile(Ada, "Pending"), 0);
        await session.Profiles.DeleteAsync(Customer("cus-bob"));

        Assert.Equal(("Pending", 1L), ((await session.Profiles.GetAsync(Ada))!.GivenName, (await session.Profiles.GetAsync(Ada))!.Version));
        Assert.Null(await session.Profiles.GetAsync(Customer("cus-bob")));
    }

    /// <summary>A deleted profile is gone after commit; deleting an unknown profile is harmless; a deleted profile
    /// can be created again with expected version 0.</summary>
    [Fact]
    public virtual async Task A_deleted_profile_is_gone_and_can_be_created_again_from_version_0()
    {
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada), 0));
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada) with { Version = 1 }, 1));

        await WriteAsync(async s =>
        {
            await s.Profiles.DeleteAsync(Ada);
            await s.Profiles.DeleteAsync(Customer("cus-never"));
        });
        Assert.Null(await ReadAsync(s => s.Profiles.GetAsync(Ada)));

        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada, "Again"), 0));
        var again = await ReadAsync(s => s.Profiles.GetAsync(Ada));
        Assert.Equal(("Again", 1L), (again!.GivenName, again.Version));
    }

    /// <summary>A save with a stale expected version fails with a concurrency conflict and changes nothing.</summary>
    [Fact]
    public virtual async Task A_stale_save_is_a_concurrency_conflict_and_changes_nothing()
    {
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada, "Ada"), 0));
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada, "Augusta"), 1));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Profiles.SaveAsync(Profile(Ada, "Mallory"), 1);
                await session.CommitAsync();
            });
        }

        var stored = await ReadAsync(s => s.Profiles.GetAsync(Ada));
        Assert.Equal(("Augusta", 2L), (stored!.GivenName, stored.Version));
    }

    /// <summary>Creating a profile that another session created first (both expected version 0) is a conflict.</summary>
    [Fact]
    public virtual async Task Creating_a_profile_that_exists_is_a_concurrency_conflict()
    {
        await WriteAsync(s => s.Profiles.SaveAsync(Profile(Ada, "First"), 0));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Profiles.SaveAsync(Profile(Ada, "Second"), 0);
                await session.CommitAsync();
            });
        }

        Assert.Equal("First", (await ReadAsync(s => s.Profiles.GetAsync(Ada)))!.GivenName);
    }
}
