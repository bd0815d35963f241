using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Storage;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IIdentityRepository"/>: identifiers to customers, identity records with
/// provenance and merges, optimistic versions.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class IdentityGraphConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly CustomerId Bob = Customer("cus-bob");

    /// <summary>Unknown identifiers and customers are not found.</summary>
    [Fact]
    public virtual async Task Unknown_identifiers_and_customers_are_not_found()
    {
        await WriteAsync(s => s.Identity.SaveAsync(IdentityOf(Ada, Email("ada@conformance.example")), 0));

        Assert.Null(await ReadAsync(s => s.Identity.FindByIdentifierAsync(Email("nobody@conformance.example"))));
        Assert.Null(await ReadAsync(s => s.Identity.GetAsync(Bob)));
    }

    /// <summary>A new identity (expected version 0) is stored at version 1 and every identifier of it resolves to it.</summary>
    [Fact]
    public virtual async Task A_new_identity_is_stored_at_version_1_and_indexes_every_identifier()
    {
        var identity = IdentityOf(Ada, Email("ada@conformance.example"), Phone("+33612345678"), Device("dev-1"));

        await WriteAsync(s => s.Identity.SaveAsync(identity, 0));

        Deep.Equal(identity with { Version = 1 }, await ReadAsync(s => s.Identity.GetAsync(Ada)));
        foreach (var link in identity.Links)
        {
            Assert.Equal(Ada, await ReadAsync(s => s.Identity.FindByIdentifierAsync(link.Identifier)));
        }
    }

    /// <summary>Every part of an identity round-trips: links with provenance, merges (with the absorbed customer's
    /// links, merges and profile), splits and protection.</summary>
    [Fact]
    public virtual async Task Every_part_of_an_identity_round_trips()
    {
        var identity = RichIdentity(Ada, Bob);

        await WriteAsync(s => s.Identity.SaveAsync(identity, 0));

        Deep.Equal(identity with { Version = 1 }, await ReadAsync(s => s.Identity.GetAsync(Ada)));
    }

    /// <summary>A save with expected version v stores version v + 1.</summary>
    [Fact]
    public virtual async Task A_save_with_expected_version_v_stores_version_v_plus_1()
    {
        await WriteAsync(s => s.Identity.SaveAsync(IdentityOf(Ada, Email("ada@conformance.example")), 0));
        var read = (await ReadAsync(s => s.Identity.GetAsync(Ada)))!;
        var changed = read with { Links = [.. read.Links, Link(Phone("+33612345678"), "evt-2", 9, "identity.co_occurrence")] };

        await WriteAsync(s => s.Identity.SaveAsync(changed, read.Version));
        await WriteAsync(async s => await s.Identity.SaveAsync((await s.Identity.GetAsync(Ada))! with { Protection = new ProtectionRecord("staff", "why", At(10)) }, 2));

        var stored = await ReadAsync(s => s.Identity.GetAsync(Ada));
        Assert.Equal(3, stored!.Version);
        Assert.Equal(2, stored.Links.Count);
        Assert.NotNull(stored.Protection);
        Assert.Equal(Ada, await ReadAsync(s => s.Identity.FindByIdentifierAsync(Phone("+33612345678"))));
    }

    /// <summary>A session sees the identities and identifier index entries it saved before committing them.</summary>
    [Fact]
    public virtual async Task A_session_reads_its_own_identity_writes()
    {
        await using var session = await OpenAsync();
        await session.Identity.SaveAsync(IdentityOf(Ada, Email("ada@conformance.example")), 0);

        Assert.Equal(1, (await session.Identity.GetAsync(Ada))!.Version);
        Assert.Equal(Ada, await session.Identity.FindByIdentifierAsync(Email("ada@conformance.example")));
    }

    /// <summary>An identifier saved under another customer (as a merge does) resolves to its latest holder.</summary>
    [Fact]
    public virtual async Task An_identifier_saved_under_another_customer_resolves_to_its_latest_holder()
    {
        var shared = Device("dev-shared");
        await WriteAsync(s => s.Identity.SaveAsync(IdentityOf(Bob, shared), 0));
        await WriteAsync(async s =>
        {
            await s.Identity.SaveAsync(IdentityOf(Ada, Email("ada@conformance.example"), shared), 0);
            await s.Identity.SaveAsync(IdentityOf(Bob) with { MergedInto = Ada }, 1);
        });

        Assert.Equal(Ada, await ReadAsync(s => s.Identity.FindByIdentifierAsync(shared)));
        Assert.Equal(Ada, (await ReadAsync(s => s.Identity.GetAsync(Bob)))!.MergedInto);
    }

    /// <summary>The lookup does not follow merges: an identifier indexed to an absorbed customer returns that customer,
    /// and the absorbed customer's record is still returned.</summary>
    [Fact]
    public virtual async Task Lookups_do_not_follow_merges()
    {
        await WriteAsync(async s =>
        {
            await s.Identity.SaveAsync(IdentityOf(Ada, Email("ada@conformance.example")), 0);
            await s.Identity.SaveAsync(IdentityOf(Bob, Email("bob@conformance.example")) with { MergedInto = Ada }, 0);
        });

        Assert.Equal(Bob, await ReadAsync(s => s.Identity.FindByIdentifierAsync(Email("bob@conformance.example"))));
        Assert.Equal(Ada, (await ReadAsync(s => s.Identity.GetAsync(Bob)))!.MergedInto);
    }

    /// <summary>Identifiers arrive normalized, so lookups are exact: the type counts and values are case-sensitive
    /// (a device id or a card number may differ only by case).</summary>
    [Fact]
    public virtual async Task Identifier_lookups_are_exact_on_type_and_case_sensitive_value()
    {
        await WriteAsync(async s =>
        {
            await s.Identity.SaveAsync(IdentityOf(Ada, Device("dev-AbC")), 0);
            await s.Identity.SaveAsync(IdentityOf(Bob, Device("dev-abc")), 0);
        });

        Assert.Equal(Ada, await ReadAsync(s => s.Identity.FindByIdentifierAsync(Device("dev-AbC"))));
        Assert.Equal(Bob, await ReadAsync(s => s.Identity.FindByIdentifierAsync(Device("dev-abc"))));
        Assert.Null(await ReadAsync(s => s.Identity.FindByIdentifierAsync(new Identifier(IdentifierType.LoyaltyCard, "dev-abc"))));
    }

    /// <summary>A save with a stale expected version fails with a concurrency conflict and changes nothing.</summary>
    [Fact]
    public virtual async Task A_stale_save_is_a_concurrency_conflict_and_changes_nothing()
    {
        await WriteAsync(s => s.Identity.SaveAsync(IdentityOf(Ada, Email("ada@conformance.example")), 0));
        await WriteAsync(s => s.Identity.SaveAsync(IdentityOf(Ada, Email("ada@conformance.example")) with { FirstSeen = At(-1) }, 1));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Identity.SaveAsync(IdentityOf(Ada, Email("ada@conformance.example"), Email("mallory@conformance.example")), 1);
                await session.CommitAsync();
            });
        }

        var stored = await ReadAsync(s => s.Identity.GetAsync(Ada));
        Assert.Equal((2L, At(-1)), (stored!.Version, stored.FirstSeen));
        Assert.Null(await ReadAsync(s => s.Identity.FindByIdentifierAsync(Email("mallory@conformance.example"))));
    }
}
