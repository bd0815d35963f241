using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Validation;
using NodaTime;
using static Loyalty.Sdk.Tests.Ev;

namespace Loyalty.Sdk.Tests;

public sealed class ValidationTests
{
    private const string Id = "evt-bad";

    /// <summary>Invalid events (built in C#), each refused with exactly one error at a known path.</summary>
    private static readonly Dictionary<string, (Func<LoyaltyEvent> Event, string Path, string Code)> Cases = new()
    {
        ["missing id"] = (() => Order(Id, "ord-1") with { Id = default }, "$.id", "required"),
        ["missing tenant"] = (() => Order(Id, "ord-1") with { Tenant = default }, "$.tenant", "required"),
        ["future beyond skew"] = (() => Order(Id, "ord-1", at: Fixed.Now + Duration.FromMinutes(5) + Duration.FromSeconds(1)), "$.occurredAt", "in_future"),
        ["negative quantity"] = (() => Order(Id, "ord-1") with { Lines = [Line("l1", -1, 50m)], Total = 0m }, "$.lines[0].quantity", "negative"),
        ["zero quantity"] = (() => Order(Id, "ord-1") with { Lines = [Line("l1", 0, 50m)], Total = 0m }, "$.lines[0].quantity", "out_of_range"),
        ["negative quantity second line"] = (() => Order(Id, "ord-1") with { Lines = [Line("l1", 1, 5m), Line("l2", -3, 5m)], Total = 0m }, "$.lines[1].quantity", "negative"),
        ["negative unit price"] = (() => Order(Id, "ord-1") with { Lines = [Line("l1", 1, -5m)], Total = 0m }, "$.lines[0].unitPrice", "negative"),
        ["no lines"] = (() => Order(Id, "ord-1") with { Lines = [], Total = 0m }, "$.lines", "required"),
        ["duplicate line id"] = (() => Order(Id, "ord-1", lines: [Line("l1", 1, 5m), Line("l1", 1, 5m)]), "$.lines[1].lineId", "duplicate"),
        ["missing order id"] = (() => Order(Id, " "), "$.orderId", "required"),
        ["currency not accepted"] = (() => Order(Id, "ord-1", currency: new Currency("JPY")), "$.currency", "currency_not_accepted"),
        ["missing currency"] = (() => Order(Id, "ord-1") with { Currency = default }, "$.currency", "invalid_currency"),
        ["total mismatch"] = (() => Order(Id, "ord-1") with { Total = 99m }, "$.total", "total_mismatch"),
        ["unknown identifier type"] = (() => Order(Id, "ord-1", ids: [Ada, new Identifier(new IdentifierType("club_card"), "C-1")]), "$.identifiers[1].type", "unknown_identifier_type"),
        ["empty identifiers"] = (() => Order(Id, "ord-1", ids: []), "$.identifiers", "required"),
        ["empty identifier value"] = (() => Order(Id, "ord-1", ids: [Email("  ")]), "$.identifiers[0].value", "required"),
        ["invalid email"] = (() => Order(Id, "ord-1", ids: [Ada, Email("not-an-email")]), "$.identifiers[1].value", "invalid_identifier"),
        ["invalid email two ats"] = (() => Order(Id, "ord-1", ids: [Email("a@b@example.com")]), "$.identifiers[0].value", "invalid_identifier"),
        ["invalid phone"] = (() => Order(Id, "ord-1", ids: [Phone("12"), Ada]), "$.identifiers[0].value", "invalid_identifier"),
        ["invalid phone letters"] = (() => Order(Id, "ord-1", ids: [Ada, Phone("call me maybe")]), "$.identifiers[1].value", "invalid_identifier"),
        ["only placeholder identifiers"] = (() => Order(Id, "ord-1", ids: [Email("unknown"), Phone("0000")]), "$.identifiers", "no_usable_identifier"),
        ["unknown order on return"] = (() => Return(Id, "ord-missing", "ret-1"), "$.orderId", "unknown_order"),
        ["unknown order on cancel"] = (() => Cancel(Id, "ord-missing"), "$.orderId", "unknown_order"),
        ["return with zero quantity"] = (() => Return(Id, "ord-1", "ret-1", lines: [Qty("l1", 0)]), "$.lines[0].quantity", "out_of_range"),
        ["unknown custom event"] = (() => Custom(Id, "teleported", "{}"), "$.name", "unknown_custom_event"),
        ["undeclared custom property"] = (() => Custom(Id, "store_checkin", """{"store_id":"S1","colour":"red"}"""), "$.properties.colour", "unknown_property"),
        ["wrongly typed custom property"] = (() => Custom(Id, "store_checkin", """{"store_id":"S1","minutes":"ten"}"""), "$.properties.minutes", "wrong_type"),
        ["wrongly typed boolean property"] = (() => Custom(Id, "wishlist_added", """{"sku":"S1","on_sale":"yes"}"""), "$.properties.on_sale", "wrong_type"),
        ["missing required custom property"] = (() => Custom(Id, "store_checkin", """{"minutes":12}"""), "$.properties.store_id", "required"),
        ["invalid time zone in profile"] = (() => ProfileUpdate(Id, new ProfileData { TimeZone = "Mars/Olympus_Mons" }), "$.profile.timeZone", "invalid_time_zone"),
        ["invalid time zone at sign-up"] = (() => SignUp(Id, profile: new ProfileData { GivenName = "Ada", TimeZone = "Europe/Atlantis" }), "$.profile.timeZone", "invalid_time_zone"),
        ["birth date in future"] = (() => ProfileUpdate(Id, new ProfileData { BirthDate = new LocalDate(2030, 1, 1) }), "$.profile.birthDate", "in_future"),
        ["lower-case country"] = (() => ProfileUpdate(Id, new ProfileData { Address = new PostalAddress { Country = "fr" } }), "$.profile.address.country", "invalid_country"),
        ["rating above range"] = (() => Review(Id, 6), "$.rating", "out_of_range"),
        ["rating below range"] = (() => Review(Id, 0), "$.rating", "out_of_range"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task An_invalid_event_is_refused_with_its_path_and_code_and_nothing_is_applied(string name)
    {
        var (make, path, code) = Cases[name];
        var h = new Harness();

        var ex = await h.RejectAsync(make());

        var error = Assert.Single(ex.Errors);
        Assert.Equal(path, error.Path);
        Assert.Equal(code, error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Equal(StoreCounts.Empty, h.Counts());
        Assert.Null(await h.ResolveAsync(Ada));
        Assert.Null(await h.ProfileAsync(IdentityStage.NewCustomerId(Fixed.Tenant, new EventId(Id))));

        // The refused id was not recorded: the corrected event, with the same id, creates the customer afresh.
        var fixedEvent = Order(Id, "ord-1");
        var result = await h.IngestAsync(fixedEvent);
        Assert.Equal(IngestOutcome.Applied, result.Outcome);
        Assert.True(result.NewCustomer);
        Assert.Equal(IdentityStage.NewCustomerId(Fixed.Tenant, fixedEvent.Id), result.Customer);
        var profile = await h.ProfileAsync(result.Customer!.Value);
        Assert.Equal(1, profile!.Traits.Orders);
        Assert.Equal(100m, profile.Traits.GrossSpend);
    }

    [Fact]
    public async Task Every_problem_of_an_event_is_listed()
    {
        var h = new Harness();
        var e = Order(Id, "", ids: [new Identifier(new IdentifierType("club_card"), "C-1")], currency: new Currency("JPY")) with
        {
            Lines = [Line("l1", 0, -1m)],
            Discount = -1m,
            Total = 0m,
            OccurredAt = Fixed.Now + Duration.FromHours(1),
        };

        var ex = await h.RejectAsync(e);

        Assert.Equal(
            [
                ("$.currency", "currency_not_accepted"),
                ("$.discount", "negative"),
                ("$.identifiers[0].type", "unknown_identifier_type"),
                ("$.lines[0].quantity", "out_of_range"),
                ("$.lines[0].unitPrice", "negative"),
                ("$.occurredAt", "in_future"),
                ("$.orderId", "required"),
            ],
            ex.Errors.Select(x => (x.Path, x.Code)).Order());
        Assert.Equal(StoreCounts.Empty, h.Counts());
    }

    [Fact]
    public async Task An_event_dated_exactly_at_the_allowed_skew_is_accepted_and_the_skew_follows_the_clock()
    {
        var h = new Harness();
        var atLimit = Order("evt-1", "ord-1", at: Fixed.Now + Duration.FromMinutes(5));
        var beyond = Order("evt-2", "ord-2", at: Fixed.Now + Duration.FromMinutes(10));

        Assert.Equal(IngestOutcome.Applied, (await h.IngestAsync(atLimit)).Outcome);
        var ex = await h.RejectAsync(beyond);
        Assert.Equal("$.occurredAt", Assert.Single(ex.Errors).Path);

        h.Clock.Advance(Duration.FromMinutes(5));
        Assert.Equal(IngestOutcome.Applied, (await h.IngestAsync(beyond)).Outcome);
    }

    [Fact]
    public async Task The_allowed_future_skew_is_configurable()
    {
        var h = new Harness(configure: o => o.MaxFutureSkew = Duration.Zero);

        var ex = await h.RejectAsync(Order("evt-1", "ord-1", at: Fixed.Now + Duration.FromSeconds(1)));

        Assert.Equal(("$.occurredAt", "in_future"), (ex.Errors[0].Path, ex.Errors[0].Code));
        Assert.Equal(IngestOutcome.Applied, (await h.IngestAsync(Order("evt-2", "ord-1", at: Fixed.Now))).Outcome);
    }

    [Fact]
    public async Task A_return_exceeding_the_purchased_quantity_is_refused_and_changes_nothing()
    {
        var h = new Harness();
        var placed = await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m), Line("l2", 1, 30m)]));
        var customer = placed.Customer!.Value;
        var profileBefore = await h.ProfileAsync(customer);
        var countsBefore = h.Counts();

        var ex = await h.RejectAsync(Return("evt-2", "ord-1", "ret-1", lines: [Qty("l2", 1), Qty("l1", 3)]));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$.lines[1].quantity", error.Path);
        Assert.Equal("exceeds_remaining", error.Code);
        Assert.Equal(profileBefore, await h.ProfileAsync(customer));
        var order = await h.OrderAsync("ord-1");
        Assert.Empty(order!.ReturnedQuantities);
        Assert.Empty(order.AppliedReturns);
        Assert.Equal(countsBefore, h.Counts());

        // The same return id with a quantity that fits is then accepted.
        Assert.Equal(IngestOutcome.Applied, (await h.IngestAsync(Return("evt-2", "ord-1", "ret-1", lines: [Qty("l1", 2)]))).Outcome);
    }

    [Fact]
    public async Task Returns_are_checked_against_what_earlier_returns_left()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 3, 10m)]));
        await h.IngestAsync(Return("evt-2", "ord-1", "ret-1", lines: [Qty("l1", 2)]));

        var ex = await h.RejectAsync(Return("evt-3", "ord-1", "ret-2", lines: [Qty("l1", 2)]));

        Assert.Equal(("$.lines[0].quantity", "exceeds_remaining"), (ex.Errors[0].Path, ex.Errors[0].Code));
        Assert.Equal(2, (await h.OrderAsync("ord-1"))!.ReturnedQuantities["l1"]);
    }

    [Fact]
    public async Task The_same_line_listed_twice_in_one_return_cannot_exceed_the_quantity()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 1, 10m)]));

        var ex = await h.RejectAsync(Return("evt-2", "ord-1", "ret-1", lines: [Qty("l1", 1), Qty("l1", 1)]));

        Assert.Equal(("$.lines[1].quantity", "exceeds_remaining"), (Assert.Single(ex.Errors).Path, ex.Errors[0].Code));
    }

    [Fact]
    public async Task A_return_of_an_unknown_line_is_refused()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1"));

        var ex = await h.RejectAsync(Return("evt-2", "ord-1", "ret-1", lines: [Qty("l9", 1)]));

        Assert.Equal(("$.lines[0].lineId", "unknown_line"), (Assert.Single(ex.Errors).Path, ex.Errors[0].Code));
    }

    [Fact]
    public async Task A_refused_event_for_an_existing_customer_leaves_the_customer_unchanged()
    {
        var h = new Harness();
        var first = await h.IngestAsync(Order("evt-1", "ord-1"));
        var customer = first.Customer!.Value;
        var profileBefore = await h.ProfileAsync(customer);
        var identityBefore = await h.IdentityAsync(customer);
        var countsBefore = h.Counts();

        // The identity stage links the new e-mail before the profile stage finds the order unknown.
        await h.RejectAsync(Return("evt-2", "ord-404", "ret-1", ids: [Ada, Email("ada.work@example.com")]));

        Assert.Equal(profileBefore, await h.ProfileAsync(customer));
        Deep.Equal(identityBefore, await h.IdentityAsync(customer));
        Assert.Null(await h.ResolveAsync(Email("ada.work@example.com")));
        Assert.Equal(countsBefore, h.Counts());
    }

    // ---- Batches ----

    [Fact]
    public async Task A_batch_with_one_invalid_event_applies_nothing_and_prefixes_the_path_with_its_index()
    {
        var h = new Harness();
        var bad = Order("evt-3", "ord-3") with { Lines = [Line("l1", -2, 10m)], Total = 0m };

        var ex = await h.RejectBatchAsync(
            Order("evt-1", "ord-1"),
            SignUp("evt-2", [Email("grace@example.com")]),
            bad,
            Order("evt-4", "ord-4"));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$[2].lines[0].quantity", error.Path);
        Assert.Equal("negative", error.Code);
        Assert.Equal(StoreCounts.Empty, h.Counts());
        Assert.Null(await h.ResolveAsync(Ada));
        Assert.Null(await h.ResolveAsync(Email("grace@example.com")));
    }

    [Fact]
    public async Task A_batch_lists_the_errors_of_every_invalid_event()
    {
        var h = new Harness();

        var ex = await h.RejectBatchAsync(Review("evt-1", 9), Order("evt-2", "ord-2"), Order("evt-3", "ord-3", ids: []));

        Assert.Equal([("$[0].rating", "out_of_range"), ("$[2].identifiers", "required")], ex.Errors.Select(e => (e.Path, e.Code)));
        Assert.Equal(StoreCounts.Empty, h.Counts());
    }

    [Fact]
    public async Task A_batch_whose_identity_stage_fails_on_a_later_event_applies_nothing()
    {
        var h = new Harness();

        var ex = await h.RejectBatchAsync(Order("evt-1", "ord-1"), Visit("evt-2", [Email("grace@example.com"), Email("grace@@example")]));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$[1].identifiers[1].value", error.Path);
        Assert.Equal("invalid_identifier", error.Code);
        Assert.Equal(StoreCounts.Empty, h.Counts());
    }

    [Fact]
    public async Task A_batch_whose_profile_stage_fails_applies_nothing_even_for_existing_customers()
    {
        var h = new Harness();
        var first = await h.IngestAsync(Order("evt-0", "ord-0"));
        var profileBefore = await h.ProfileAsync(first.Customer!.Value);
        var countsBefore = h.Counts();

        var ex = await h.RejectBatchAsync(
            Order("evt-1", "ord-1"),
            Return("evt-2", "ord-1", "ret-1", lines: [Qty("l1", 1)]),
            Return("evt-3", "ord-9", "ret-2"));

        Assert.Equal(("$[2].orderId", "unknown_order"), (Assert.Single(ex.Errors).Path, ex.Errors[0].Code));
        Assert.Equal(profileBefore, await h.ProfileAsync(first.Customer!.Value));
        Assert.Null(await h.OrderAsync("ord-1"));
        Assert.Equal(countsBefore, h.Counts());
    }

    [Fact]
    public async Task A_batch_spanning_two_tenants_applies_nothing_in_either_when_one_event_is_invalid()
    {
        var h = new Harness();

        await h.RejectBatchAsync(Visit("evt-1", tenant: Fixed.OtherTenant), Visit("evt-2"), Review("evt-3", 42));

        Assert.Equal(StoreCounts.Empty, h.Counts(Fixed.Tenant));
        Assert.Equal(StoreCounts.Empty, h.Counts(Fixed.OtherTenant));
    }

    [Fact]
    public async Task A_batch_larger_than_the_limit_is_refused()
    {
        var h = new Harness(configure: o => o.MaxBatchSize = 2);

        var ex = await h.RejectBatchAsync(Visit("evt-1"), Visit("evt-2"), Visit("evt-3"));

        Assert.Equal(("$", "batch_too_large"), (Assert.Single(ex.Errors).Path, ex.Errors[0].Code));
        Assert.Equal(StoreCounts.Empty, h.Counts());
    }

    // ---- JSON ----

    private const string ValidJson = """
        {"kind":"order_placed","id":"evt-json","tenant":"acme","occurredAt":"2025-03-14T08:00:00Z",
         "identifiers":[{"type":"email","value":"ada@example.com"}],"channel":"web","orderId":"ord-1","currency":"EUR",
         "lines":[{"lineId":"l1","sku":"sku-1","quantity":2,"unitPrice":50}],"total":100}
        """;

    /// <summary>Changes to <see cref="ValidJson"/> that the reader refuses, with the path and code expected.</summary>
    private static readonly Dictionary<string, (string Find, string Replace, string Path, string Code)> JsonCases = new()
    {
        ["unknown kind"] = ("\"kind\":\"order_placed\"", "\"kind\":\"order_teleported\"", "$.kind", "unknown_kind"),
        ["kind not a string"] = ("\"kind\":\"order_placed\"", "\"kind\":7", "$.kind", "unknown_kind"),
        ["missing kind"] = ("\"kind\":\"order_placed\",", "", "$.kind", "required"),
        ["missing id"] = ("\"id\":\"evt-json\",", "", "$.id", "required"),
        ["null id"] = ("\"id\":\"evt-json\"", "\"id\":null", "$.id", "required"),
        ["invalid id"] = ("\"id\":\"evt-json\"", "\"id\":\"evt json!\"", "$.id", "invalid_value"),
        ["missing tenant"] = ("\"tenant\":\"acme\",", "", "$.tenant", "required"),
        ["bad timestamp"] = ("\"2025-03-14T08:00:00Z\"", "\"yesterday at noon\"", "$.occurredAt", "invalid_value"),
        ["timestamp without zone"] = ("\"2025-03-14T08:00:00Z\"", "\"2025-03-14T08:00:00\"", "$.occurredAt", "invalid_value"),
        ["invalid currency"] = ("\"currency\":\"EUR\"", "\"currency\":\"XXX\"", "$.currency", "invalid_value"),
        ["lower-case currency"] = ("\"currency\":\"EUR\"", "\"currency\":\"eur\"", "$.currency", "invalid_value"),
        ["missing line sku"] = ("\"sku\":\"sku-1\",", "", "$.lines[0].sku", "required"),
        ["unknown member"] = ("\"total\":100", "\"total\":100,\"coupon\":\"X\"", "$.coupon", "invalid_value"),
        ["unknown nested member"] = ("\"unitPrice\":50", "\"unitPrice\":50,\"colour\":\"red\"", "$.lines[0].colour", "invalid_value"),
        ["identifier type not a valid name"] = ("\"type\":\"email\"", "\"type\":\"E-Mail\"", "$.identifiers[0].type", "invalid_value"),
        ["unknown channel"] = ("\"channel\":\"web\"", "\"channel\":\"carrier_pigeon\"", "$.channel", "invalid_value"),
        ["numeric channel"] = ("\"channel\":\"web\"", "\"channel\":1", "$.channel", "invalid_value"),
    };

    public static TheoryData<string> JsonCaseNames => new(JsonCases.Keys);

    [Fact]
    public async Task The_valid_json_sample_is_accepted()
    {
        var h = new Harness();

        var result = await h.IngestAsync(EventReader.Parse(ValidJson));

        Assert.Equal(IngestOutcome.Applied, result.Outcome);
        Assert.Equal(100m, (await h.ProfileAsync(result.Customer!.Value))!.Traits.GrossSpend);
    }

    [Theory]
    [MemberData(nameof(JsonCaseNames))]
    public async Task Malformed_json_is_refused_with_the_path_and_code_of_the_field(string name)
    {
        var (find, replace, path, code) = JsonCases[name];
        Assert.Contains(find, ValidJson, StringComparison.Ordinal);
        var json = ValidJson.Replace(find, replace, StringComparison.Ordinal);
        var h = new Harness();

        var ex = await Assert.ThrowsAsync<EventValidationException>(async () => await h.IngestAsync(EventReader.Parse(json)));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(path, error.Path);
        Assert.Equal(code, error.Code);
        Assert.Equal(StoreCounts.Empty, h.Counts());
        var (parsed, errors) = EventReader.TryParse(json, line: 12);
        Assert.Null(parsed);
        Assert.Equal(12, Assert.Single(errors).Line);
    }

    [Fact]
    public async Task A_negative_quantity_read_from_json_is_refused_by_the_engine()
    {
        var h = new Harness();
        var e = EventReader.Parse(ValidJson.Replace("\"quantity\":2", "\"quantity\":-2", StringComparison.Ordinal).Replace("\"total\":100", "\"total\":0", StringComparison.Ordinal));

        var ex = await h.RejectAsync(e);

        Assert.Equal(("$.lines[0].quantity", "negative"), (Assert.Single(ex.Errors).Path, ex.Errors[0].Code));
        Assert.Equal(StoreCounts.Empty, h.Counts());
    }

    [Fact]
    public void A_json_syntax_error_reports_its_line_and_column()
    {
        const string json = "{\n  \"kind\": \"order_placed\",\n  \"id\": ,\n  \"tenant\": \"acme\"\n}";

        var ex = Assert.Throws<EventValidationException>(() => EventReader.Parse(json));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$", error.Path);
        Assert.Equal("syntax", error.Code);
        Assert.Equal(3, error.Line);
        Assert.Equal(9, error.Column);
        Assert.StartsWith("3:9: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_document_is_a_syntax_error_on_its_last_line()
    {
        var ex = Assert.Throws<EventValidationException>(() => EventReader.Parse("{\"kind\":\"interaction\",\n\"id\":\"e1\""));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("syntax", error.Code);
        Assert.Equal(2, error.Line);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("\"order_placed\"")]
    public void A_json_value_that_is_not_an_object_is_refused(string json)
    {
        var ex = Assert.Throws<EventValidationException>(() => EventReader.Parse(json));

        Assert.Equal(("$", "not_an_object"), (Assert.Single(ex.Errors).Path, ex.Errors[0].Code));
    }

    [Fact]
    public void A_missing_kind_also_reports_the_missing_common_fields()
    {
        var ex = Assert.Throws<EventValidationException>(() => EventReader.Parse("""{"id":"e1"}"""));

        Assert.Equal([("$.kind", "required"), ("$.occurredAt", "required"), ("$.tenant", "required")], ex.Errors.Select(e => (e.Path, e.Code)).Order());
    }
}
