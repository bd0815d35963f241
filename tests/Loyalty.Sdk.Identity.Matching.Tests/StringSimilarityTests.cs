using Loyalty.Sdk.Identity.Matching.Text;

namespace Loyalty.Sdk.Identity.Matching.Tests;

public sealed class StringSimilarityTests
{
    [Theory]
    [InlineData("martha", "marhta", 0.9611)]
    [InlineData("dwayne", "duane", 0.84)]
    [InlineData("dixon", "dicksonx", 0.8133)]
    [InlineData("jellyfish", "smellyfish", 0.8963)]
    [InlineData("abc", "abc", 1.0)]
    [InlineData("abc", "xyz", 0.0)]
    [InlineData("", "", 1.0)]
    [InlineData("a", "", 0.0)]
    public void Jaro_winkler_known_values(string a, string b, double expected)
    {
        Assert.Equal(expected, StringSimilarity.JaroWinkler(a, b), 3);
        Assert.Equal(expected, StringSimilarity.JaroWinkler(b, a), 3);
    }

    [Theory]
    [InlineData("martha", "marhta", 0.9444)]
    [InlineData("dwayne", "duane", 0.8222)]
    [InlineData("dixon", "dicksonx", 0.7667)]
    public void Jaro_known_values(string a, string b, double expected)
        => Assert.Equal(expected, StringSimilarity.Jaro(a, b), 3);

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("abcd", "acbd", 1)]
    [InlineData("ca", "abc", 3)]
    [InlineData("", "abc", 3)]
    [InlineData("same", "same", 0)]
    [InlineData("19560409", "19560490", 1)]
    public void Damerau_levenshtein_known_values(string a, string b, int expected)
    {
        Assert.Equal(expected, StringSimilarity.DamerauLevenshtein(a, b));
        Assert.Equal(expected, StringSimilarity.DamerauLevenshtein(b, a));
    }

    [Fact]
    public void Damerau_levenshtein_stops_early_above_the_cap()
        => Assert.Equal(2, StringSimilarity.DamerauLevenshtein("abcdef", "uvwxyz", 1));

    [Theory]
    [InlineData("Robert", "R163")]
    [InlineData("Rupert", "R163")]
    [InlineData("Ashcraft", "A261")]
    [InlineData("Tymczak", "T522")]
    [InlineData("Pfister", "P236")]
    [InlineData("Lee", "L000")]
    [InlineData("123", "")]
    public void Soundex_known_values(string value, string expected)
        => Assert.Equal(expected, StringSimilarity.Soundex(value));
}
