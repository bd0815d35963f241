using System.Text.Json;
using CsCheck;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Serialization;
using NodaTime;
using Xunit.Sdk;

namespace Loyalty.Sdk.Tests;

public sealed class SerializationTests
{
    private static readonly Instant At = Instant.FromUtc(2025, 2, 3, 4, 5, 6) + Duration.FromTicks(1234567);

    private static readonly Identifier[] SomeIds =
    [
        new(IdentifierType.Email, "ada@example.com"),
        new(IdentifierType.Phone, "+33612345678"),
        new(TestPrograms.MembershipNumber, "M-0001"),
    ];

    /// <summary>One event of every kind with every field set.</summary>
    private static readonly Dictionary<string, LoyaltyEvent> Samples = new LoyaltyEvent[]
    {
        new OrderPlaced
        {
            Id = new EventId("evt-order"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.Pos,
            OrderId = "ord-1", Currency = Currency.Usd, StoreId = "store-7", PointsRedeemed = 250,
            Lines =
            [
                new OrderLine { LineId = "l1", Sku = "sku-1", Category = "shoes", Quantity = 2, UnitPrice = 49.95m, LineKind = OrderLineKind.Product },
                new OrderLine { LineId = "l2", Sku = "gift", Quantity = 1, UnitPrice = 25m, LineKind = OrderLineKind.GiftCard },
            ],
            Discount = 5.5m, Shipping = 4.99m, Tax = 12.34m, Total = 136.73m,
        },
        new OrderCompleted { Id = new EventId("evt-completed"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.Web, OrderId = "ord-1" },
        new OrderReturned
        {
            Id = new EventId("evt-returned"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.CallCenter,
            OrderId = "ord-1", ReturnId = "ret-1", Lines = [new OrderLineQuantity { LineId = "l1", Quantity = 1 }], RefundAmount = 49.95m,
        },
        new OrderCancelled
        {
            Id = new EventId("evt-cancelled"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.App,
            OrderId = "ord-1", Lines = [new OrderLineQuantity { LineId = "l2", Quantity = 1 }],
        },
        new SignedUp
        {
            Id = new EventId("evt-signed-up"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.App,
            Profile = new ProfileData
            {
                GivenName = "Ada", FamilyName = "Lovelace \"Byron\"", BirthDate = new LocalDate(1990, 12, 10), TimeZone = "Europe/Paris", Locale = "fr-FR",
                Address = new PostalAddress { Line1 = "12 rue de Rivoli", Line2 = "Bât. B", City = "Paris", PostalCode = "01000", Region = "IDF", Country = "FR" },
            },
        },
        new ProfileUpdated
        {
            Id = new EventId("evt-profile"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.Web,
            Profile = new ProfileData { Locale = "en-GB" },
        },
        new ConsentChanged
        {
            Id = new EventId("evt-consent"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.Sms,
            ContactChannel = ContactChannel.WhatsApp, Purpose = ConsentPurpose.ThirdPartySharing, Status = ConsentStatus.Withdrawn,
            Source = "sms_keyword", WordingVersion = "2025-01",
        },
        new Interaction
        {
            Id = new EventId("evt-interaction"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.Email,
            InteractionKind = InteractionKind.MessageClicked, MessageId = "msg-9",
        },
        new CartAbandoned
        {
            Id = new EventId("evt-cart"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.Web,
            CartId = "cart-1", Currency = new Currency("JPY"), Value = 12000m, Skus = ["sku-1", "sku-2"],
        },
        new SupportTicket
        {
            Id = new EventId("evt-ticket"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.CallCenter,
            TicketId = "t-1", Status = TicketStatus.Closed, Satisfaction = 4,
        },
        new ReviewSubmitted
        {
            Id = new EventId("evt-review"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.Web, Sku = "sku-1", Rating = 5,
        },
        new CustomEvent
        {
            Id = new EventId("evt-custom"), Tenant = Fixed.Tenant, OccurredAt = At, Identifiers = SomeIds, Channel = Channel.WhatsApp,
            Name = "wishlist_added",
            Properties = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{"sku":"sku-1","price":19.9,"on_sale":true}""")!,
        },
    }.ToDictionary(e => e.Kind);

    public static TheoryData<string> Kinds => new(EventKinds.All);

    [Fact]
    public void The_samples_cover_every_event_kind()
    {
        Assert.Equal(EventKinds.All.Order(), Samples.Keys.Order());
        Assert.Equal(12, EventKinds.All.Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Serializing_then_parsing_gives_an_equal_event(string kind)
    {
        var e = Samples[kind];

        var json = LoyaltyJson.SerializeEvent(e);
        var parsed = EventReader.Parse(json);

        Assert.DoesNotContain('\n', json);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(kind, document.RootElement.GetProperty("kind").GetString());
        Assert.Equal(1, document.RootElement.EnumerateObject().Count(p => p.Name == "kind"));
        Assert.IsType(e.GetType(), parsed);
        Assert.Equal(kind, parsed.Kind);
        Deep.Equal(e, parsed);
        Assert.Equal(json, LoyaltyJson.SerializeEvent(parsed));
    }

    [Fact]
    public void Every_sample_is_a_valid_event_for_the_retail_program()
    {
        foreach (var (kind, e) in Samples)
        {
            var errors = Validation.EventValidator.Validate(e, TestPrograms.Retail(), Fixed.Now, Duration.FromMinutes(5));
            Assert.True(errors.Count == 0, $"{kind}: {string.Join("; ", errors)}");
        }
    }

    [Fact]
    public void The_wire_format_uses_camel_case_snake_case_enums_and_iso_instants()
    {
        var json = LoyaltyJson.SerializeEvent(Samples[EventKinds.ConsentChanged]);

        Assert.Contains("\"contactChannel\":\"whats_app\"", json, StringComparison.Ordinal);
        Assert.Contains("\"purpose\":\"third_party_sharing\"", json, StringComparison.Ordinal);
        Assert.Contains("\"occurredAt\":\"2025-02-03T04:05:06.1234567Z\"", json, StringComparison.Ordinal);
        Assert.Contains("\"identifiers\":[{\"type\":\"email\",\"value\":\"ada@example.com\"}", json, StringComparison.Ordinal);
        Assert.DoesNotContain("Kind", json, StringComparison.Ordinal);
    }

    private static readonly Gen<string> IdText = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@"], 1, 40];

    private static readonly Gen<string> FreeText = Gen.String[Gen.Char["abcXYZ019 -_\"\\/<>&'é€ß\u00e7\u4e2d"], 1, 30];

    private static readonly Gen<decimal> Amount =
        from mantissa in Gen.Long[0, 100_000_000_000]
        from scale in Gen.Int[0, 4]
        select new decimal(mantissa) / (scale switch { 0 => 1m, 1 => 10m, 2 => 100m, 3 => 1000m, _ => 10000m });

    private static readonly Gen<Instant> AnyInstant = Gen.Long[0, 4_102_444_800L * NodaConstants.TicksPerSecond].Select(Instant.FromUnixTimeTicks);

    private static readonly Gen<Identifier> AnyIdentifier =
        from type in Gen.OneOf<IdentifierType>([.. IdentifierType.BuiltIn, TestPrograms.MembershipNumber])
        from value in FreeText
        select new Identifier(type, value);

    private static readonly Gen<OrderLine> AnyLine =
        from lineId in IdText
        from sku in FreeText
        from hasCategory in Gen.Bool
        from category in FreeText
        from quantity in Gen.Int[-5, 1000]
        from price in Amount
        from kind in Gen.Enum<OrderLineKind>()
        select new OrderLine { LineId = lineId, Sku = sku, Category = hasCategory ? category : null, Quantity = quantity, UnitPrice = price, LineKind = kind };

    private static readonly Gen<OrderPlaced> AnyOrder =
        from id in IdText
        from tenant in IdText
        from at in AnyInstant
        from ids in AnyIdentifier.Array[0, 4]
        from channel in Gen.Enum<Channel>()
        from orderId in FreeText
        from currency in Gen.OneOf<Currency>(Currency.Eur, Currency.Usd, new Currency("JPY"), new Currency("KWD"))
        from lines in AnyLine.Array[0, 5]
        from money in Gen.Select(Amount, Amount, Amount, Amount)
        from points in Gen.Long[0, 1_000_000]
        from hasStore in Gen.Bool
        from store in IdText
        select new OrderPlaced
        {
            Id = new EventId(id), Tenant = new TenantId(tenant), OccurredAt = at, Identifiers = ids, Channel = channel, OrderId = orderId, Currency = currency,
            Lines = lines, Discount = money.Item1, Shipping = money.Item2, Tax = money.Item3, Total = money.Item4, PointsRedeemed = points,
            StoreId = hasStore ? store : null,
        };

    [Fact]
    public void Any_order_placed_survives_a_round_trip()
    {
        AnyOrder.Sample(
            e =>
            {
                var json = LoyaltyJson.SerializeEvent(e);
                var parsed = EventReader.Parse(json);
                Deep.Equal(e, parsed);
                Assert.Equal(json, LoyaltyJson.SerializeEvent(parsed));
            },
            iter: 300);
    }

    [Fact]
    public void Any_order_placed_survives_an_ndjson_round_trip()
    {
        AnyOrder.Array[1, 6].Sample(
            events =>
            {
                var text = string.Join("\n", events.Select(LoyaltyJson.SerializeEvent));
                var records = EventReader.ReadNdjsonAsync(new StringReader(text)).ToBlockingEnumerable().ToList();
                Assert.Equal(Enumerable.Range(1, events.Length).Select(i => (long)i), records.Select(r => r.Line));
                for (var i = 0; i < events.Length; i++)
                {
                    Assert.True(records[i].IsValid, string.Join("; ", records[i].Errors));
                    Deep.Equal(events[i], records[i].Event);
                }
            },
            iter: 100);
    }

    [Fact]
    public void The_structural_comparison_used_by_these_tests_detects_differences()
    {
        var order = (OrderPlaced)Samples[EventKinds.OrderPlaced];
        var custom = (CustomEvent)Samples[EventKinds.Custom];

        Deep.Equal(order, order with { Lines = order.Lines.ToList(), Identifiers = order.Identifiers.ToArray() });
        Assert.Throws<FailException>(() => Deep.Equal(order, order with { Lines = [order.Lines[0], order.Lines[1] with { UnitPrice = 25.01m }] }));
        Assert.Throws<FailException>(() => Deep.Equal(order, order with { Identifiers = order.Identifiers.Take(2).ToArray() }));
        Assert.Throws<FailException>(() => Deep.Equal(order, order with { OccurredAt = At + Duration.FromTicks(1) }));
        Assert.Throws<FailException>(() => Deep.Equal(custom, custom with
        {
            Properties = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{"sku":"sku-1","price":19.9,"on_sale":false}""")!,
        }));
        Assert.ThrowsAny<XunitException>(() => Deep.Equal(custom, custom with
        {
            Properties = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{"sku":"sku-1","price":19.9}""")!,
        }));
    }

    // ---- NDJSON ----

    private static async Task<List<NdjsonRecord>> ReadAllAsync(string text)
    {
        var records = new List<NdjsonRecord>();
        await foreach (var record in EventReader.ReadNdjsonAsync(new StringReader(text)))
        {
            records.Add(record);
        }

        return records;
    }

    private static string Line(string kind) => LoyaltyJson.SerializeEvent(Samples[kind]);

    [Fact]
    public async Task A_malformed_line_is_reported_with_its_line_number_and_the_other_lines_parse()
    {
        var text = string.Join(
            "\n",
            Line(EventKinds.OrderPlaced),
            Line(EventKinds.SignedUp),
            """{"kind":"interaction", oops""",
            Line(EventKinds.ReviewSubmitted),
            Line(EventKinds.Custom));

        var records = await ReadAllAsync(text);

        Assert.Equal([1L, 2L, 3L, 4L, 5L], records.Select(r => r.Line));
        Assert.Equal([true, true, false, true, true], records.Select(r => r.IsValid));
        var bad = records[2];
        Assert.Null(bad.Event);
        var error = Assert.Single(bad.Errors);
        Assert.Equal(("$", "syntax"), (error.Path, error.Code));
        Assert.Equal(3, error.Line);
        Assert.Equal(24, error.Column);
        Assert.All(records.Where(r => r.IsValid), r => Assert.Empty(r.Errors));
        Assert.Equal(["order_placed", "signed_up", "review_submitted", "custom"], records.Where(r => r.IsValid).Select(r => r.Event!.Kind));
    }

    [Fact]
    public async Task A_line_with_an_invalid_field_reports_the_field_path_and_the_line()
    {
        var badLine = Line(EventKinds.OrderPlaced).Replace("\"currency\":\"USD\"", "\"currency\":\"XXX\"", StringComparison.Ordinal);
        Assert.NotEqual(Line(EventKinds.OrderPlaced), badLine);
        var text = string.Join("\n", Line(EventKinds.Interaction), Line(EventKinds.Interaction), badLine, """{"kind":"teleport","id":"x"}""");

        var records = await ReadAllAsync(text);

        Assert.Equal(4, records.Count);
        var error = Assert.Single(records[2].Errors);
        Assert.Equal(("$.currency", 3L), (error.Path, error.Line));
        var unknown = Assert.Single(records[3].Errors);
        Assert.Equal(("$.kind", "unknown_kind", 4L), (unknown.Path, unknown.Code, unknown.Line));
    }

    [Fact]
    public async Task Blank_lines_are_skipped_but_counted()
    {
        var text = "\n" + Line(EventKinds.Interaction) + "\r\n   \r\n\t\n" + Line(EventKinds.ReviewSubmitted) + "\n\n";

        var records = await ReadAllAsync(text);

        Assert.Equal([2L, 5L], records.Select(r => r.Line));
        Assert.All(records, r => Assert.True(r.IsValid));
    }

    [Fact]
    public async Task An_empty_stream_has_no_records()
    {
        Assert.Empty(await ReadAllAsync(string.Empty));
        Assert.Empty(await ReadAllAsync("\n \n"));
    }

    [Fact]
    public async Task The_valid_records_of_an_ndjson_file_can_be_ingested_as_one_batch()
    {
        var h = new Harness();
        var text = string.Join(
            "\n",
            Line(EventKinds.OrderPlaced),
            Line(EventKinds.OrderCompleted),
            Line(EventKinds.OrderReturned),
            Line(EventKinds.OrderCancelled),
            Line(EventKinds.SignedUp),
            Line(EventKinds.Custom));

        var events = (await ReadAllAsync(text)).Select(r => r.Event!).ToArray();
        var results = await h.IngestBatchAsync(events);

        Assert.All(results, r => Assert.Equal(IngestOutcome.Applied, r.Outcome));
        Assert.Single(results.Select(r => r.Customer).Distinct());
        var profile = await h.ProfileAsync(results[0].Customer!.Value);
        Assert.Equal((1, 1, 0), (profile!.Traits.Orders, profile.Traits.Returns, profile.Traits.CancelledOrders));
        Assert.Equal("Ada", profile.GivenName);
        Assert.True((await h.OrderAsync("ord-1"))!.Completed);
    }
}
