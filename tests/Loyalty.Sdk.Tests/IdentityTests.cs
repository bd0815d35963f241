using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using NodaTime;
using static Loyalty.Sdk.Tests.Ev;

namespace Loyalty.Sdk.Tests;

public sealed class IdentityTests
{
    private static readonly Identifier FrenchMobile = Phone("+33612345678");

    [Fact]
    public async Task A_new_customer_id_is_derived_from_the_tenant_and_the_creating_event()
    {
        var e = Order("evt-42", "ord-1");

        var first = await new Harness().IngestAsync(e);
        var replayed = await new Harness().IngestAsync(e);
        var otherEvent = await new Harness().IngestAsync(Order("evt-43", "ord-1"));
        var otherTenant = await new Harness().IngestAsync(e with { Tenant = Fixed.OtherTenant });

        Assert.Equal(first.Customer, replayed.Customer);
        Assert.Equal(IdentityStage.NewCustomerId(Fixed.Tenant, e.Id), first.Customer);
        Assert.Matches("^cus_[0-9a-f]{20}$", first.Customer!.Value.Value);
        Assert.NotEqual(first.Customer, otherEvent.Customer);
        Assert.NotEqual(first.Customer, otherTenant.Customer);
    }

    [Fact]
    public async Task Creating_a_customer_records_the_links_and_a_decision()
    {
        var h = new Harness();

        var result = await h.IngestAsync(SignUp("evt-1", [Ada, FrenchMobile], at: Fixed.DaysAgo(2)));

        Assert.True(result.NewCustomer);
        var created = Assert.Single(result.Decisions);
        Assert.Equal((Capabilities.Identity, "customer_created", IdentityStage.NewCustomerRule), (created.Capability, created.Action, created.Rule));
        Assert.Equal(result.Customer, created.Customer);
        Assert.Equal(new EventId("evt-1"), created.CausedBy);
        Assert.Equal(Fixed.Now, created.DecidedAt);
        Assert.Equal(1, created.RuleVersion);
        var identity = await h.IdentityAsync(result.Customer!.Value);
        Assert.Equal(Fixed.DaysAgo(2), identity!.FirstSeen);
        Assert.Equal(1, identity.Version);
        Assert.Null(identity.MergedInto);
        Assert.Equal([Ada, FrenchMobile], identity.Links.Select(l => l.Identifier));
        Assert.All(identity.Links, l => Assert.Equal((new EventId("evt-1"), Fixed.Now, IdentityStage.NewCustomerRule), (l.Source, l.LinkedAt, l.Rule)));
        Assert.Equal(result.Decisions, await h.TrailAsync(result.Customer!.Value));
    }

    [Fact]
    public async Task An_anonymous_device_later_seen_with_an_email_links_the_email_to_the_same_customer()
    {
        var h = new Harness();
        var device = Device("dev-7f3a");
        var anonymous = await h.IngestAsync(Visit("evt-1", [device], at: Fixed.DaysAgo(3)));
        h.Clock.Advance(Duration.FromMinutes(10));

        var signUp = await h.IngestAsync(SignUp("evt-2", [device, Ada]));
        var byEmailOnly = await h.IngestAsync(Order("evt-3", "ord-1", ids: [Ada]));

        Assert.True(anonymous.NewCustomer);
        Assert.False(signUp.NewCustomer);
        Assert.Equal(anonymous.Customer, signUp.Customer);
        Assert.Equal(anonymous.Customer, byEmailOnly.Customer);
        Assert.Equal(anonymous.Customer, await h.ResolveAsync(Ada));
        var linked = Assert.Single(signUp.Decisions);
        Assert.Equal(("identifier_linked", IdentityStage.CoOccurrenceRule), (linked.Action, linked.Rule));
        Assert.Equal(Ada.ToString(), linked.Inputs["identifier"]);
        var identity = await h.IdentityAsync(anonymous.Customer!.Value);
        var link = Assert.Single(identity!.Links, l => l.Identifier == Ada);
        Assert.Equal((new EventId("evt-2"), Fixed.Now + Duration.FromMinutes(10), IdentityStage.CoOccurrenceRule), (link.Source, link.LinkedAt, link.Rule));
        Assert.Equal(Fixed.DaysAgo(3), identity.FirstSeen);
        var profile = await h.ProfileAsync(anonymous.Customer!.Value);
        Assert.Equal(Fixed.HoursAgo(1), profile!.SignedUpAt);
        Assert.Equal(1, profile.Traits.Orders);
        Assert.Equal(1, profile.Traits.Interactions);
    }

    [Fact]
    public async Task An_event_carrying_identifiers_of_two_customers_merges_them_into_the_earliest_first_seen()
    {
        var h = new Harness();

        // Created first, but first seen later...
        var byEmail = await h.IngestAsync(Order("evt-1", "ord-1", ids: [Ada], lines: [Line("l1", 1, 100m)], at: Fixed.HoursAgo(2)));

        // ...than this customer, created second from an older event.
        var byPhone = await h.IngestAsync(Order("evt-2", "ord-2", ids: [FrenchMobile], lines: [Line("l1", 1, 50m)], at: Fixed.DaysAgo(30)));
        await h.IngestAsync(Visit("evt-3", [FrenchMobile], at: Fixed.DaysAgo(29)));
        var survivor = byPhone.Customer!.Value;
        var absorbed = byEmail.Customer!.Value;
        h.Clock.Advance(Duration.FromMinutes(1));

        var merge = await h.IngestAsync(Order("evt-4", "ord-3", ids: [Ada, FrenchMobile], lines: [Line("l1", 1, 30m)]));

        Assert.Equal(survivor, merge.Customer);
        Assert.Equal([absorbed], merge.Merged);
        Assert.False(merge.NewCustomer);
        var decision = Assert.Single(merge.Decisions, d => d.Action == "merged");
        Assert.Equal((Capabilities.Identity, IdentityStage.MergeRule), (decision.Capability, decision.Rule));
        Assert.Equal(survivor, decision.Customer);
        Assert.Equal(absorbed.Value, decision.Inputs["absorbed"]);
        Assert.Equal(Fixed.Now + Duration.FromMinutes(1), decision.DecidedAt);
        Assert.Contains(await h.TrailAsync(survivor), d => d.Rule == IdentityStage.MergeRule && d.CausedBy == new EventId("evt-4"));

        // The absorbed id and both identifiers lead to the survivor.
        var viaAbsorbed = await h.Engine.GetCustomerAsync(Fixed.Tenant, absorbed);
        Assert.Equal(survivor, viaAbsorbed!.Identity.Customer);
        Assert.Equal(survivor, viaAbsorbed.Profile!.Customer);
        Assert.Equal(survivor, await h.ResolveAsync(Ada));
        Assert.Equal(survivor, await h.ResolveAsync(FrenchMobile));
        Assert.Equal(survivor, await h.ResolveAsync(Email("ADA@example.com")));

        var survivorIdentity = await h.IdentityAsync(survivor);
        Assert.Equal(Fixed.DaysAgo(30), survivorIdentity!.FirstSeen);
        Assert.Equal([FrenchMobile, Ada], survivorIdentity.Links.Select(l => l.Identifier));
        var record = Assert.Single(survivorIdentity.Merges);
        Assert.Equal(
            new MergeRecord(absorbed, survivor, new EventId("evt-4"), Fixed.Now + Duration.FromMinutes(1), IdentityStage.MergeRule),
            record with { AbsorbedLinks = [], AbsorbedFirstSeen = null, AbsorbedProfile = null, AbsorbedMerges = [] });

        // The record keeps what an unmerge needs: the absorbed customer's identifiers and profile as they were.
        Assert.Equal([Ada], record.AbsorbedLinks.Select(l => l.Identifier));
        Assert.Equal(absorbed, record.AbsorbedProfile!.Customer);
        var absorbedIdentity = await h.IdentityAsync(absorbed);
        Assert.Equal(survivor, absorbedIdentity!.MergedInto);
        Assert.Empty(absorbedIdentity.Links);

        // Traits are summed: 100 + 50 from before the merge, 30 from the merging order.
        Assert.Null(await h.ProfileAsync(absorbed));
        var profile = await h.ProfileAsync(survivor);
        Assert.Equal(3, profile!.Traits.Orders);
        Assert.Equal(180m, profile.Traits.GrossSpend);
        Assert.Equal(1, profile.Traits.Interactions);
        Assert.Equal(Fixed.DaysAgo(30), profile.FirstSeen);
        Assert.Equal(Fixed.HoursAgo(1), profile.LastSeen);
        Assert.Equal(Fixed.DaysAgo(30), profile.Traits.FirstOrderAt);
        Assert.Equal(Fixed.HoursAgo(1), profile.Traits.LastOrderAt);
        Assert.Equal(1, h.Counts().Profiles);
    }

    [Fact]
    public async Task Merging_keeps_profile_fields_of_the_survivor_and_fills_gaps_from_the_absorbed()
    {
        var h = new Harness();
        var older = await h.IngestAsync(SignUp("evt-1", [FrenchMobile], new ProfileData { GivenName = "Ada" }, at: Fixed.DaysAgo(9)));
        var newer = await h.IngestAsync(SignUp("evt-2", [Ada], new ProfileData { GivenName = "Augusta", FamilyName = "Lovelace", Locale = "en-GB" }, at: Fixed.DaysAgo(1)));

        var merge = await h.IngestAsync(Visit("evt-3", [Ada, FrenchMobile]));

        Assert.Equal(older.Customer, merge.Customer);
        var profile = await h.ProfileAsync(older.Customer!.Value);
        Assert.Equal(("Ada", "Lovelace", "en-GB"), (profile!.GivenName, profile.FamilyName, profile.Locale));
        Assert.Equal(Fixed.DaysAgo(9), profile.SignedUpAt);
        Assert.NotEqual(older.Customer, newer.Customer);
    }

    [Fact]
    public async Task One_event_can_merge_three_customers_into_one()
    {
        var h = new Harness();
        var a = await h.IngestAsync(Visit("evt-1", [Ada], at: Fixed.DaysAgo(5)));
        var b = await h.IngestAsync(Visit("evt-2", [FrenchMobile], at: Fixed.DaysAgo(7)));
        var c = await h.IngestAsync(Visit("evt-3", [Device("dev-1")], at: Fixed.DaysAgo(6)));

        var merge = await h.IngestAsync(Visit("evt-4", [Device("dev-1"), Ada, FrenchMobile]));

        Assert.Equal(b.Customer, merge.Customer);
        Assert.Equal([c.Customer!.Value, a.Customer!.Value], merge.Merged);
        Assert.Equal(2, merge.Decisions.Count(d => d.Action == "merged"));
        Assert.Equal(4, (await h.ProfileAsync(b.Customer!.Value))!.Traits.Interactions);
        Assert.Equal(b.Customer, (await h.Engine.GetCustomerAsync(Fixed.Tenant, a.Customer!.Value))!.Identity.Customer);
        Assert.Equal(b.Customer, (await h.Engine.GetCustomerAsync(Fixed.Tenant, c.Customer!.Value))!.Identity.Customer);
    }

    [Fact]
    public async Task A_customer_absorbed_earlier_is_followed_to_its_survivor_by_later_merges()
    {
        var h = new Harness();
        await h.IngestAsync(Visit("evt-1", [Ada], at: Fixed.DaysAgo(3)));
        var b = await h.IngestAsync(Visit("evt-2", [FrenchMobile], at: Fixed.DaysAgo(4)));
        await h.IngestAsync(Visit("evt-3", [Ada, FrenchMobile]));
        var c = await h.IngestAsync(Visit("evt-4", [Device("dev-1")], at: Fixed.DaysAgo(10)));

        // Ada's identifier now belongs to b; the merge with c must move b (and with it a) under c.
        var merge = await h.IngestAsync(Visit("evt-5", [Ada, Device("dev-1")]));

        Assert.Equal(c.Customer, merge.Customer);
        Assert.Equal([b.Customer!.Value], merge.Merged);
        Assert.Equal(c.Customer, await h.ResolveAsync(FrenchMobile));
        Assert.Equal(c.Customer, await h.ResolveAsync(Ada));
        Assert.Equal(5, (await h.ProfileAsync(c.Customer!.Value))!.Traits.Interactions);
    }

    [Fact]
    public async Task An_older_event_of_a_known_customer_moves_its_first_seen_back_so_merges_pick_the_right_survivor()
    {
        var h = new Harness();
        var a = await h.IngestAsync(Visit("evt-1", [Ada], at: Fixed.HoursAgo(1)));
        await h.IngestAsync(Visit("evt-2", [Ada], at: Fixed.DaysAgo(60))); // history imported late, nothing new to link
        var b = await h.IngestAsync(Visit("evt-3", [FrenchMobile], at: Fixed.DaysAgo(10)));

        Assert.Equal(Fixed.DaysAgo(60), (await h.ProfileAsync(a.Customer!.Value))!.FirstSeen);
        Assert.Equal(Fixed.DaysAgo(60), (await h.IdentityAsync(a.Customer!.Value))!.FirstSeen);

        var merge = await h.IngestAsync(Visit("evt-4", [Ada, FrenchMobile]));

        Assert.Equal(a.Customer, merge.Customer);
        Assert.Equal([b.Customer!.Value], merge.Merged);
    }

    [Theory]
    [InlineData("  Ada.Lovelace@Example.COM ")]
    [InlineData("ADA.LOVELACE@EXAMPLE.COM")]
    [InlineData("Ada.Lovelace@example.com  ")]
    public async Task Emails_are_trimmed_and_lower_cased(string raw)
    {
        var h = new Harness();
        var first = await h.IngestAsync(Visit("evt-1", [Email(raw)]));

        var second = await h.IngestAsync(Visit("evt-2", [Email("ada.lovelace@EXAMPLE.com")]));

        Assert.Equal("ada.lovelace@example.com", Assert.Single((await h.IdentityAsync(first.Customer!.Value))!.Links).Identifier.Value);
        Assert.Equal(first.Customer, second.Customer);
        Assert.False(second.NewCustomer);
        Assert.Empty(second.Decisions);
        Assert.Equal(first.Customer, await h.ResolveAsync(Email(" Ada.Lovelace@example.com")));
    }

    [Theory]
    [InlineData("06 12 34 56 78")]
    [InlineData("06.12.34.56.78")]
    [InlineData("+33 6 12 34 56 78")]
    [InlineData("0033612345678")]
    [InlineData("+33612345678")]
    public async Task Phones_are_normalized_to_E164_with_the_programs_default_region(string raw)
    {
        var h = new Harness();
        Assert.Equal("FR", h.Options.DefaultProgram!.DefaultRegion);
        var first = await h.IngestAsync(Visit("evt-1", [Phone(raw)]));

        var second = await h.IngestAsync(Visit("evt-2", [Phone("+33 (0)6 12 34 56 78")]));

        Assert.Equal("+33612345678", Assert.Single((await h.IdentityAsync(first.Customer!.Value))!.Links).Identifier.Value);
        Assert.Equal(first.Customer, second.Customer);
        Assert.Equal(first.Customer, await h.ResolveAsync(Phone("06 12 34 56 78")));
    }

    [Fact]
    public void Normalization_of_phones_depends_on_the_region()
    {
        Assert.Equal("+33612345678", IdentifierNormalizer.Normalize(Phone("0612345678"), "FR").Identifier!.Value);
        Assert.Equal("+16502530000", IdentifierNormalizer.Normalize(Phone("650-253-0000"), "US").Identifier!.Value);
        Assert.NotNull(IdentifierNormalizer.Normalize(Phone("0612345678"), "US").Error);
    }

    [Theory]
    [InlineData("email", "unknown")]
    [InlineData("email", "NULL")]
    [InlineData("email", " n/a ")]
    [InlineData("email", "noemail@noemail.com")]
    [InlineData("phone", "0000")]
    [InlineData("phone", "00 00 00 00 00")]
    [InlineData("phone", "-1")]
    [InlineData("loyalty_card", "000-000")]
    [InlineData("device_id", "undefined")]
    public async Task Placeholder_values_are_ignored_with_an_identifier_blocked_decision(string type, string value)
    {
        var h = new Harness();
        var placeholder = new Identifier(new IdentifierType(type), value);
        var first = await h.IngestAsync(Visit("evt-1", [placeholder, Ada]));

        // Another person sending the same placeholder must not be merged with the first.
        var other = await h.IngestAsync(Visit("evt-2", [Email("grace@example.com"), placeholder]));

        Assert.True(other.NewCustomer);
        Assert.NotEqual(first.Customer, other.Customer);
        Assert.Empty(other.Merged);
        var blocked = Assert.Single(first.Decisions, d => d.Action == "identifier_blocked");
        Assert.Equal((Capabilities.Identity, "identity.blocked_value"), (blocked.Capability, blocked.Rule));
        Assert.Equal(placeholder.ToString(), blocked.Inputs["identifier"]);
        Assert.Contains(other.Decisions, d => d.Action == "identifier_blocked");
        Assert.Equal([Ada], (await h.IdentityAsync(first.Customer!.Value))!.Links.Select(l => l.Identifier));
        Assert.Null(await h.ResolveAsync(placeholder));
        Assert.Contains(await h.TrailAsync(first.Customer!.Value), d => d.Action == "identifier_blocked");
    }

    [Fact]
    public async Task Several_placeholders_are_each_reported()
    {
        var h = new Harness();

        var result = await h.IngestAsync(Visit("evt-1", [Email("unknown"), Phone("0000"), Ada]));

        Assert.Equal(["customer_created", "identifier_blocked", "identifier_blocked"], result.Decisions.Select(d => d.Action));
        Assert.Equal(["email:unknown", "phone:0000"], result.Decisions.Skip(1).Select(d => d.Inputs["identifier"]));
    }

    [Fact]
    public async Task The_same_identifier_twice_on_one_event_is_linked_once()
    {
        var h = new Harness();

        var result = await h.IngestAsync(Visit("evt-1", [Ada, Email("ADA@example.com")]));

        Assert.Single((await h.IdentityAsync(result.Customer!.Value))!.Links);
    }

    [Fact]
    public async Task Resolving_an_unknown_or_placeholder_identifier_gives_nothing()
    {
        var h = new Harness();
        await h.IngestAsync(Visit("evt-1"));

        Assert.Null(await h.ResolveAsync(Email("nobody@example.com")));
        Assert.Null(await h.ResolveAsync(Email("unknown")));
        Assert.Null(await h.Engine.GetCustomerAsync(Fixed.Tenant, new CustomerId("cus_nope")));
    }
}
