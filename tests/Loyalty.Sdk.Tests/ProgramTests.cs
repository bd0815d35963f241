using System.Text.Json;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Validation;
using Snapshooter.Xunit;

namespace Loyalty.Sdk.Tests;

public sealed class ProgramTests
{
    [Fact]
    public void The_retail_program_json_parses_into_the_expected_program()
    {
        var parsed = ProgramLoader.Parse(DefaultPrograms.RetailJson);

        Deep.Equal(TestPrograms.Retail() with { Identity = TestPrograms.RetailIdentity() }, Foundation(parsed));
        Deep.Equal(TestPrograms.Retail() with { Identity = TestPrograms.RetailIdentity() }, Foundation(DefaultPrograms.Retail()));
        Assert.Empty(ProgramValidator.Validate(parsed));
        Assert.True(parsed.IsKnownIdentifierType(TestPrograms.MembershipNumber));
        Assert.True(parsed.IsKnownIdentifierType(IdentifierType.Email));
        Assert.False(parsed.IsKnownIdentifierType(new IdentifierType("club_card")));
    }

    [Fact]
    public void The_test_copy_of_the_retail_program_is_itself_valid()
    {
        Assert.Empty(ProgramValidator.Validate(TestPrograms.Retail()));
    }

    [Fact]
    public void The_serialized_retail_program_matches_its_snapshot()
    {
        Snapshot.Match(ProgramLoader.Serialize(DefaultPrograms.Retail()));
    }

    [Fact]
    public void A_serialized_program_parses_back_to_the_same_program()
    {
        var program = TestPrograms.Retail() with { Version = 3, ExchangeRates = new Dictionary<string, decimal> { ["USD"] = 0.9215m, ["JPY"] = 0.0061m } };

        Deep.Equal(program, ProgramLoader.Parse(ProgramLoader.Serialize(program)));
    }

    [Fact]
    public void Every_problem_of_a_program_is_listed_with_its_path()
    {
        const string json = """
            {
              "id": "bad-program",
              "name": "Bad",
              "version": 1,
              "baseCurrency": "EUR",
              "exchangeRates": { "USD": -0.5, "GBP": 1.1 },
              "defaultTimeZone": "Mars/Olympus_Mons",
              "defaultRegion": "ZZ",
              "customEvents": [
                { "name": "store_checkin", "properties": { "store_id": "string" }, "required": ["store_id", "minutes"] },
                { "name": "store_checkin", "properties": { "minutes": "number" }, "required": [] }
              ]
            }
            """;

        var ex = Assert.Throws<ProgramValidationException>(() => ProgramLoader.Parse(json));

        Assert.Equal(
            [
                ("$.customEvents[0].required[1]", "undeclared"),
                ("$.customEvents[1].name", "duplicate"),
                ("$.defaultRegion", "invalid_region"),
                ("$.defaultTimeZone", "invalid_time_zone"),
                ("$.exchangeRates.USD", "out_of_range"),
            ],
            ex.Errors.Select(e => (e.Path, e.Code)).OrderBy(e => e.Path, StringComparer.Ordinal));
        Assert.StartsWith("5 problems: ", ex.Message, StringComparison.Ordinal);
        var (program, errors) = ProgramLoader.TryParse(json);
        Assert.Null(program);
        Assert.Equal(5, errors.Count);
    }

    [Fact]
    public void Identifier_type_and_currency_problems_are_listed()
    {
        var program = TestPrograms.Retail() with
        {
            Id = "bad id!",
            Name = " ",
            Version = 0,
            ExchangeRates = new Dictionary<string, decimal> { ["EUR"] = 1m, ["EURO"] = 2m },
            CustomIdentifierTypes = [IdentifierType.Email, new IdentifierType("club_card"), new IdentifierType("club_card")],
        };

        var errors = ProgramValidator.Validate(program);

        Assert.Equal(
            [
                ("$.customIdentifierTypes[0]", "built_in"),
                ("$.customIdentifierTypes[2]", "duplicate"),
                ("$.exchangeRates.EUR", "base_currency"),
                ("$.exchangeRates.EURO", "invalid_currency"),
                ("$.id", "invalid_id"),
                ("$.name", "required"),
                ("$.version", "out_of_range"),
            ],
            errors.Select(e => (e.Path, e.Code)).OrderBy(e => e.Path, StringComparer.Ordinal));
    }

    [Fact]
    public void Missing_required_members_are_each_reported_by_path()
    {
        var ex = Assert.Throws<ProgramValidationException>(() => ProgramLoader.Parse("""{ "version": 2 }"""));

        Assert.Equal(
            [("$.baseCurrency", "required"), ("$.id", "required"), ("$.name", "required")],
            ex.Errors.Select(e => (e.Path, e.Code)).OrderBy(e => e.Path, StringComparer.Ordinal));
    }

    [Fact]
    public void A_program_syntax_error_reports_line_and_column()
    {
        const string json = "{\n  \"id\": \"p\",\n  \"name\": \"P\",\n  \"baseCurrency\": EUR\n}";

        var ex = Assert.Throws<ProgramValidationException>(() => ProgramLoader.Parse(json));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(("$", "syntax"), (error.Path, error.Code));
        Assert.Equal(4, error.Line);
        Assert.Equal(19, error.Column);
    }

    [Theory]
    [InlineData("""{"id":"p","name":"P","baseCurrency":"EUR","pointsPerEuro":3}""", "$.pointsPerEuro")]
    [InlineData("""{"id":"p","name":"P","baseCurrency":"EURO"}""", "$.baseCurrency")]
    [InlineData("""{"id":"p","name":"P","baseCurrency":"EUR","customEvents":[{"name":"x","properties":{"a":"decimal"}}]}""", "$.customEvents[0].properties.a")]
    public void Malformed_program_values_are_refused_with_their_path(string json, string path)
    {
        var ex = Assert.Throws<ProgramValidationException>(() => ProgramLoader.Parse(json));

        var error = Assert.Single(ex.Errors);
        Assert.Equal((path, "invalid_value"), (error.Path, error.Code));
    }

    [Fact]
    public void Comments_and_trailing_commas_are_allowed_in_a_program_file()
    {
        const string json = """
            {
              // A small program.
              "id": "tiny",
              "name": "Tiny", /* display name */
              "version": 2,
              "baseCurrency": "CHF",
              "defaultTimeZone": "Europe/Zurich",
              "defaultRegion": "CH",
              "customIdentifierTypes": ["club_card",],
            }
            """;

        var program = ProgramLoader.Parse(json);

        Assert.Equal(("tiny", "Tiny", "CHF", "Europe/Zurich", "CH", 2), (program.Id, program.Name, program.BaseCurrency.Code, program.DefaultTimeZone, program.DefaultRegion, program.Version));
        Assert.Equal([new IdentifierType("club_card")], program.CustomIdentifierTypes);
    }

    [Fact]
    public async Task A_program_file_is_loaded_and_validated()
    {
        var path = Path.Combine(Path.GetTempPath(), $"loyalty-program-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(path, DefaultPrograms.RetailJson);
            Deep.Equal(TestPrograms.Retail() with { Identity = TestPrograms.RetailIdentity() }, Foundation(await ProgramLoader.LoadAsync(path)));

            await File.WriteAllTextAsync(path, DefaultPrograms.RetailJson.Replace("\"FR\"", "\"XX\"", StringComparison.Ordinal));
            var ex = await Assert.ThrowsAsync<ProgramValidationException>(() => ProgramLoader.LoadAsync(path));
            Assert.Equal("$.defaultRegion", Assert.Single(ex.Errors).Path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_serialized_program_reads_back_as_the_same_program()
    {
        var program = DefaultPrograms.Retail();
        var serialized = ProgramLoader.Serialize(program);

        Deep.Equal(program, ProgramLoader.Parse(serialized));
        Assert.Equal(serialized, ProgramLoader.Serialize(ProgramLoader.Parse(serialized)));
    }

    // The part of a program this test class is about; each capability's section is tested with the capability.
    private static LoyaltyProgram Foundation(LoyaltyProgram program) => program with { Ledger = null, Consent = null, Segments = [] };
}
