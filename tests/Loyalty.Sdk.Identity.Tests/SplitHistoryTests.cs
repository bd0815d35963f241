using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Profiles;
using NodaTime;

namespace Loyalty.Sdk.Identity.Tests;

/// <summary>On a split, interactions, carts, tickets, reviews and profile fields follow the identifiers they came with.</summary>
public sealed class SplitHistoryTests
{
    private static Identifier D(string v) => Harness.Device(v);

    private static async Task CartAsync(Harness h, string cartId, params Identifier[] ids)
    {
        h.Clock.Advance(Duration.FromMinutes(1));
        await h.Engine.IngestAsync(new CartAbandoned
        {
            Id = new EventId("cart-" + cartId), Tenant = Harness.Tenant, OccurredAt = h.Clock.GetCurrentInstant(), Channel = Channel.Web, Identifiers = ids,
            CartId = cartId, Currency = Currency.Eur, Value = 25m,
        });
    }

    private static async Task ReviewAsync(Harness h, string id, params Identifier[] ids)
    {
        h.Clock.Advance(Duration.FromMinutes(1));
        await h.Engine.IngestAsync(new ReviewSubmitted
        {
            Id = new EventId("review-" + id), Tenant = Harness.Tenant, OccurredAt = h.Clock.GetCurrentInstant(), Channel = Channel.Web, Identifiers = ids, Sku = "S", Rating = 4,
        });
    }

    private static async Task UpdateAsync(Harness h, string id, ProfileData data, params Identifier[] ids)
    {
        h.Clock.Advance(Duration.FromMinutes(1));
        await h.Engine.IngestAsync(new ProfileUpdated { Id = new EventId("profile-" + id), Tenant = Harness.Tenant, OccurredAt = h.Clock.GetCurrentInstant(), Channel = Channel.Web, Identifiers = ids, Profile = data });
    }

    private static async Task<CustomerProfile> ProfileAsync(Harness h, CustomerId c) => (await h.Engine.GetCustomerAsync(Harness.Tenant, c))!.Profile!;

    [Fact]
    public async Task Interactions_carts_and_reviews_follow_the_identifiers_they_came_with()
    {
        await using var h = new Harness();
        // A chain a-b, b-c, c-d (three visits), then activity on single devices.
        var c = (await h.IngestAsync(D("a"), D("b"))).Customer!.Value;
        Assert.Equal(c, (await h.IngestAsync(D("b"), D("c"))).Customer);
        Assert.Equal(c, (await h.IngestAsync(D("c"), D("d"))).Customer);
        await h.IngestAsync(D("d"));
        await h.IngestAsync(D("d"));
        var lastOnD = h.Clock.GetCurrentInstant();
        await h.IngestAsync(D("a"));
        var lastOnA = h.Clock.GetCurrentInstant();
        await CartAsync(h, "cart-d", D("d"));
        await CartAsync(h, "cart-a", D("a"));
        await ReviewAsync(h, "r-c", D("c"));
        var before = (await ProfileAsync(h, c)).Traits;
        Assert.Equal((6, 2, 1), (before.Interactions, before.AbandonedCarts, before.Reviews));

        var r = await h.Identity.SplitAsync(Harness.Tenant, c, D("c"), "agent", "shared device");

        // a-b stays; d is tied only through c (its own customer); c alone last.
        var dSide = r.SplitOff[0];
        Assert.Equal(dSide, await h.CustomerOfAsync(D("d")));
        var survivor = (await ProfileAsync(h, c)).Traits;
        var d = await ProfileAsync(h, dSide);
        var cSide = (await ProfileAsync(h, r.Other)).Traits;

        // Survivor: the a-b visit, the b-c visit (b stays) and the visit on a; the cart on a.
        Assert.Equal((3, 1, 0), (survivor.Interactions, survivor.AbandonedCarts, survivor.Reviews));
        Assert.Equal(lastOnA, survivor.LastInteractionAt);

        // d: the c-d visit (c did not stay either) and the two visits on d; the cart on d.
        Assert.Equal((3, 1, 0), (d.Traits.Interactions, d.Traits.AbandonedCarts, d.Traits.Reviews));
        Assert.Equal(lastOnD, d.Traits.LastInteractionAt);
        Assert.True(d.FirstSeen <= lastOnD);

        // c: the review written with it.
        Assert.Equal((0, 0, 1), (cSide.Interactions, cSide.AbandonedCarts, cSide.Reviews));

        // Nothing is lost or counted twice.
        Assert.Equal(before.Interactions, survivor.Interactions + d.Traits.Interactions + cSide.Interactions);
        Assert.Equal(before.AbandonedCarts, survivor.AbandonedCarts + d.Traits.AbandonedCarts + cSide.AbandonedCarts);

        // Asking for the same split again changes nothing.
        await h.Identity.SplitAsync(Harness.Tenant, c, D("c"), "agent", "shared device");
        Assert.Equal(survivor, (await ProfileAsync(h, c)).Traits);
        Assert.Equal(d.Traits, (await ProfileAsync(h, dSide)).Traits);
    }

    [Fact]
    public async Task Profile_fields_set_only_with_identifiers_that_left_go_with_them_and_leave_the_survivor()
    {
        await using var h = new Harness();
        var c = (await h.IngestAsync(Harness.Email("ann@example.com"), D("tablet"))).Customer!.Value;
        await UpdateAsync(h, "1", new ProfileData { FamilyName = "Lee", Locale = "fr-FR" }, Harness.Email("ann@example.com"));
        await UpdateAsync(h, "2", new ProfileData { GivenName = "Bob", Address = new PostalAddress { City = "Lyon", Country = "FR" } }, D("tablet"));
        await UpdateAsync(h, "3", new ProfileData { TimeZone = "Europe/Paris" }, Harness.Email("ann@example.com"), D("tablet"));
        // The locale was set again from the tablet alone: its last source left.
        await UpdateAsync(h, "4", new ProfileData { Locale = "en-GB" }, D("tablet"));
        Assert.Equal("Bob", (await ProfileAsync(h, c)).GivenName);

        var r = await h.Identity.SplitAsync(Harness.Tenant, c, D("tablet"), "agent", "the tablet is Bob's");

        var survivor = await ProfileAsync(h, c);
        var bob = await ProfileAsync(h, r.Other);
        Assert.Equal((null, "Lee", "Europe/Paris", null, null), (survivor.GivenName, survivor.FamilyName, survivor.TimeZone, survivor.Locale, survivor.Address));
        Assert.Equal(("Bob", null, null, "en-GB", "Lyon"), (bob.GivenName, bob.FamilyName, bob.TimeZone, bob.Locale, bob.Address?.City));
        Assert.Equal([D("tablet")], bob.Attribution!.FieldSources["givenName"]);
        Assert.False(survivor.Attribution!.FieldSources.ContainsKey("givenName"));

        // The split-off customer keeps them; a later update from the tablet lands on it.
        await UpdateAsync(h, "5", new ProfileData { GivenName = "Robert" }, D("tablet"));
        Assert.Equal("Robert", (await ProfileAsync(h, r.Other)).GivenName);
        Assert.Null((await ProfileAsync(h, c)).GivenName);
    }

    [Fact]
    public async Task Unmerge_gives_back_the_fields_and_activity_the_absorbed_customer_brought()
    {
        await using var h = new Harness();
        var survivor = (await h.IngestAsync(Harness.Email("ann@example.com"))).Customer!.Value;
        var absorbed = (await h.IngestAsync(Harness.Card("LC1"))).Customer!.Value;
        await UpdateAsync(h, "1", new ProfileData { GivenName = "Bob" }, Harness.Card("LC1"));
        await UpdateAsync(h, "2", new ProfileData { FamilyName = "Lee" }, Harness.Email("ann@example.com"));
        Assert.Equal([absorbed], (await h.IngestAsync(Harness.Email("ann@example.com"), Harness.Card("LC1"))).Merged);
        var merged = await ProfileAsync(h, survivor);
        Assert.Equal(("Bob", "Lee", 3), (merged.GivenName, merged.FamilyName, merged.Traits.Interactions));

        await h.Identity.UnmergeAsync(Harness.Tenant, survivor, absorbed, "agent", "two people");

        var s = await ProfileAsync(h, survivor);
        var a = await ProfileAsync(h, absorbed);
        Assert.Equal((null, "Lee"), (s.GivenName, s.FamilyName));
        Assert.Equal("Bob", a.GivenName);
        // The absorbed customer's visit goes back; the visit that carried both stays (activity after the merge stays).
        Assert.Equal((2, 1), (s.Traits.Interactions, a.Traits.Interactions));
        Assert.DoesNotContain(s.Attribution!.Activity, t => t.Identifiers.SequenceEqual([Harness.Card("LC1")]));
    }

    [Fact]
    public void Attribution_compares_by_content()
    {
        var at = Instant.FromUtc(2026, 1, 1, 0, 0);
        ProfileAttribution Make() => new()
        {
            FieldSources = new Dictionary<string, IReadOnlyList<Identifier>> { ["givenName"] = [D("x")] },
            Activity = [new ActivityTally { Identifiers = [D("x"), D("y")], Interactions = 2, FirstAt = at, LastAt = at }],
        };

        Assert.Equal(Make(), Make());
        Assert.NotEqual(Make(), Make() with { Activity = [] });
        Assert.NotEqual(Make(), Make() with { FieldSources = new Dictionary<string, IReadOnlyList<Identifier>> { ["givenName"] = [D("z")] } });
        var profile = new CustomerProfile { Customer = new CustomerId("c"), FirstSeen = at, LastSeen = at, Attribution = Make() };
        Assert.Equal(profile, profile with { Attribution = Make() });
    }
}
