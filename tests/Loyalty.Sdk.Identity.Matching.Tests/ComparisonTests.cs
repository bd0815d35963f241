using Loyalty.Sdk.Identity.Matching.Comparison;

namespace Loyalty.Sdk.Identity.Matching.Tests;

public sealed class ComparisonTests
{
    private static int DateLevel(string? a, string? b)
    {
        var schema = RecordSchema.Create(("dob", FieldKind.BirthDate));
        var set = new RecordSet(schema, [PersonRecord.Create("a", a), PersonRecord.Create("b", b)]);
        var prepared = FieldNormalizer.Prepare(set, null, null, CancellationToken.None);
        return FieldComparer.Create(schema, prepared, ComparisonSettings.Default)[0].Compare(0, 1);
    }

    [Theory]
    [InlineData("19560409", "19560409", 0)]
    [InlineData("1956-04-09", "19560409", 0)]
    [InlineData("09/04/1956", "19560409", 0)]
    [InlineData("19560409", "19560904", 1)]
    [InlineData("19560409", "19560408", 2)]
    [InlineData("19560409", "19560490", 2)]
    [InlineData("19560409", "19561109", 3)]
    [InlineData("19560409", "19871109", 4)]
    [InlineData("19560409", null, -1)]
    [InlineData("", "19560409", -1)]
    public void Date_levels(string? a, string? b, int expected)
    {
        Assert.Equal(expected, DateLevel(a, b));
        Assert.Equal(expected, DateLevel(b, a));
    }

    [Fact]
    public void Name_levels_detect_swapped_given_name_and_surname()
    {
        var schema = RecordSchema.Create(("given", FieldKind.GivenName), ("surname", FieldKind.Surname));
        var set = new RecordSet(schema, [
            PersonRecord.Create("a", "John", "Smith"),
            PersonRecord.Create("b", "smith", "john"),
            PersonRecord.Create("c", "Jon", "Smyth"),
        ]);
        var prepared = FieldNormalizer.Prepare(set, null, null, CancellationToken.None);
        var comparers = FieldComparer.Create(schema, prepared, ComparisonSettings.Default);
        Assert.Equal("swapped with other name field", comparers[0].Levels[comparers[0].Compare(0, 1)]);
        Assert.Equal("swapped with other name field", comparers[1].Levels[comparers[1].Compare(0, 1)]);
        Assert.StartsWith("jaro-winkler", comparers[0].Levels[comparers[0].Compare(0, 2)], StringComparison.Ordinal);
        Assert.Equal("else", comparers[0].Levels[^1]);
    }

    [Fact]
    public void Numbers_codes_and_phones_have_small_difference_levels()
    {
        var schema = RecordSchema.Create(
            ("no", FieldKind.StreetNumber), ("pc", FieldKind.Postcode), ("phone", FieldKind.Phone), ("ssn", FieldKind.NationalId));
        var set = new RecordSet(schema, [
            PersonRecord.Create("a", "9", "0800", "+61 412 345 678", "123-45-6789"),
            PersonRecord.Create("b", "11", "0801", "0412345678", "123456798"),
        ]);
        var prepared = FieldNormalizer.Prepare(set, null, "AU", CancellationToken.None);
        var comparers = FieldComparer.Create(schema, prepared, ComparisonSettings.Default);
        Assert.Equal("0800", prepared.Fields[1].Text[0]); // leading zero kept
        Assert.Equal("within 2", comparers[0].Levels[comparers[0].Compare(0, 1)]);
        Assert.Equal("one character edit", comparers[1].Levels[comparers[1].Compare(0, 1)]);
        Assert.Equal(0, comparers[2].Compare(0, 1)); // same E.164 number
        Assert.Equal("one character edit", comparers[3].Levels[comparers[3].Compare(0, 1)]);
    }
}
