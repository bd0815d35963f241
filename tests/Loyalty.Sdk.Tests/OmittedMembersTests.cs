using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Validation;
using static Loyalty.Sdk.Tests.Ev;

namespace Loyalty.Sdk.Tests;

/// <summary>
/// Members left out of the JSON must take the defaults their C# declarations give them (empty lists, "UTC", version 1…).
/// The source-generated System.Text.Json metadata sets every init-only member, so an omitted one would otherwise come
/// back null or 0 (dotnet/runtime#84484).
/// </summary>
public sealed class OmittedMembersTests
{
    private const string Header = """
        "tenant":"acme","occurredAt":"2025-03-14T08:00:00Z","identifiers":[{"type":"email","value":"ada@example.com"}]
        """;

    [Fact]
    public void A_minimal_program_gets_the_documented_defaults()
    {
        var program = ProgramLoader.Parse("""{ "id": "tiny", "name": "Tiny", "baseCurrency": "EUR" }""");

        Assert.Equal(1, program.Version);
        Assert.Equal("UTC", program.DefaultTimeZone);
        Assert.Equal("US", program.DefaultRegion);
        Assert.NotNull(program.ExchangeRates);
        Assert.Empty(program.ExchangeRates);
        Assert.NotNull(program.CustomIdentifierTypes);
        Assert.Empty(program.CustomIdentifierTypes);
        Assert.NotNull(program.CustomEvents);
        Assert.Empty(program.CustomEvents);
        Assert.NotNull(program.Journeys);
        Assert.Empty(program.Journeys);
    }

    [Fact]
    public void A_custom_event_definition_without_properties_or_required_lists_is_accepted()
    {
        var (program, errors) = ProgramLoader.TryParse("""
            { "id": "p", "name": "P", "version": 1, "baseCurrency": "EUR", "defaultTimeZone": "UTC", "defaultRegion": "FR",
              "customEvents": [ { "name": "store_checkin" } ] }
            """);

        Assert.Empty(errors);
        var definition = Assert.Single(program!.CustomEvents);
        Assert.Empty(definition.Properties);
        Assert.Empty(definition.Required);
    }

    /// <summary>A program that spells out its scalar settings but leaves every list out.</summary>
    private static Harness WithListlessProgram() => new(ProgramLoader.Parse("""
        { "id": "p", "name": "P", "version": 1, "baseCurrency": "EUR", "defaultTimeZone": "Europe/Paris", "defaultRegion": "FR" }
        """));

    [Fact]
    public async Task With_a_program_without_exchange_rates_an_order_in_another_currency_is_refused_not_crashed()
    {
        var h = WithListlessProgram();

        var ex = await h.RejectAsync(Order("evt-1", "ord-1", currency: Currency.Usd));

        Assert.Equal(("$.currency", "currency_not_accepted"), (Assert.Single(ex.Errors).Path, ex.Errors[0].Code));
    }

    [Fact]
    public async Task With_a_program_without_custom_identifier_types_an_unknown_type_is_refused_not_crashed()
    {
        var h = WithListlessProgram();

        var ex = await h.RejectAsync(Visit("evt-1", [new Identifier(new IdentifierType("club_card"), "C-1")]));

        Assert.Equal(("$.identifiers[0].type", "unknown_identifier_type"), (Assert.Single(ex.Errors).Path, ex.Errors[0].Code));
    }

    [Fact]
    public async Task With_a_program_without_custom_events_a_custom_event_is_refused_not_crashed()
    {
        var h = WithListlessProgram();

        var ex = await h.RejectAsync(Custom("evt-1", "store_checkin", """{"store_id":"S1"}"""));

        Assert.Equal(("$.name", "unknown_custom_event"), (Assert.Single(ex.Errors).Path, ex.Errors[0].Code));
    }

    [Fact]
    public async Task A_whole_return_read_from_json_without_lines_returns_the_whole_order()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m)]));
        var e = (OrderReturned)EventReader.Parse($$"""{"kind":"order_returned","id":"evt-2",{{Header}},"orderId":"ord-1","returnId":"ret-1"}""");

        Assert.NotNull(e.Lines);
        var result = await h.IngestAsync(e);

        Assert.Equal(IngestOutcome.Applied, result.Outcome);
        var traits = (await h.ProfileAsync(result.Customer!.Value))!.Traits;
        Assert.Equal((1, 100m, 0m), (traits.Returns, traits.ReturnedValue, traits.NetSpend));
    }

    [Fact]
    public async Task A_whole_cancellation_read_from_json_without_lines_cancels_the_whole_order()
    {
        var h = new Harness();
        await h.IngestAsync(Order("evt-1", "ord-1", lines: [Line("l1", 2, 50m)]));
        var e = (OrderCancelled)EventReader.Parse($$"""{"kind":"order_cancelled","id":"evt-2",{{Header}},"orderId":"ord-1"}""");

        var result = await h.IngestAsync(e);

        Assert.Equal(1, (await h.ProfileAsync(result.Customer!.Value))!.Traits.CancelledOrders);
    }

    [Theory]
    [InlineData("""{"kind":"cart_abandoned","id":"e1",HEADER,"cartId":"c1","currency":"EUR","value":3}""")]
    [InlineData("""{"kind":"custom","id":"e1",HEADER,"name":"store_checkin"}""")]
    [InlineData("""{"kind":"order_placed","id":"e1","tenant":"acme","occurredAt":"2025-03-14T08:00:00Z","orderId":"o1","currency":"EUR","total":0}""")]
    public void Omitted_lists_of_an_event_are_empty_not_null(string json)
    {
        var e = EventReader.Parse(json.Replace("HEADER", Header, StringComparison.Ordinal));

        Assert.NotNull(e.Identifiers);
        switch (e)
        {
            case CartAbandoned c:
                Assert.NotNull(c.Skus);
                break;
            case CustomEvent c:
                Assert.NotNull(c.Properties);
                break;
            case OrderPlaced o:
                Assert.NotNull(o.Lines);
                Assert.Empty(o.Identifiers);
                break;
            default:
                Assert.Fail($"Unexpected {e.Kind}.");
                break;
        }
    }

    [Fact]
    public void An_order_without_identifiers_or_lines_is_reported_by_the_validator()
    {
        var e = EventReader.Parse("""{"kind":"order_placed","id":"e1","tenant":"acme","occurredAt":"2025-03-14T08:00:00Z","orderId":"o1","currency":"EUR","total":0}""");

        var errors = EventValidator.Validate(e, TestPrograms.Retail(), Fixed.Now, NodaTime.Duration.FromMinutes(5));

        Assert.Equal([("$.identifiers", "required"), ("$.lines", "required")], errors.Select(x => (x.Path, x.Code)).OrderBy(x => x.Path, StringComparer.Ordinal));
    }
}
