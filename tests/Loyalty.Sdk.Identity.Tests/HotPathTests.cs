using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Programs;

namespace Loyalty.Sdk.Identity.Tests;

/// <summary>The resolution hot path: identifiers as keys, normalization of values that are already normal.</summary>
public sealed class HotPathTests
{
    private static readonly IdentityPolicy Policy = DefaultPrograms.Retail().Identity;

    [Fact]
    public void An_identifier_changed_by_with_does_not_keep_the_cached_hash_of_the_original()
    {
        var a = new Identifier(IdentifierType.Email, "a@example.com");
        var index = new Dictionary<Identifier, int> { [a] = 1 };
        var b = a with { Value = "b@example.com" };
        index[b] = 2;

        Assert.Equal(new Identifier(IdentifierType.Email, "b@example.com").GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b);
        Assert.Equal(2, index[new Identifier(IdentifierType.Email, "b@example.com")]);
        Assert.Equal(1, index[new Identifier(IdentifierType.Email, "a@example.com")]);
        Assert.NotEqual(new Identifier(IdentifierType.Phone, "a@example.com"), a);
    }

    [Theory]
    [InlineData("email", "ann.lee@example.com")]
    [InlineData("loyalty_card", "LC0000123456")]
    [InlineData("device_id", "dev-9f2")]
    public void Normalizing_a_normalized_value_returns_the_same_identifier_and_allocates_nothing(string type, string value)
    {
        var id = new Identifier(new IdentifierType(type), value);
        var typePolicy = Policy.For(id.Type);
        Assert.Same(id, IdentifierNormalizer.Normalize(id, "FR", typePolicy).Identifier);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            _ = IdentifierNormalizer.Normalize(id, "FR", typePolicy);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(" Ann.Lee@Example.com ", "ann.lee@example.com")]
    [InlineData("ANN@EXAMPLE.COM", "ann@example.com")]
    public void Values_that_need_it_are_still_normalized(string raw, string expected) =>
        Assert.Equal(new Identifier(IdentifierType.Email, expected), IdentifierNormalizer.Normalize(new Identifier(IdentifierType.Email, raw), "FR", Policy.For(IdentifierType.Email)).Identifier);

    [Theory]
    [InlineData("test@example.com")]
    [InlineData("noreply@acme.example")]
    [InlineData("unknown")]
    public void Blocked_values_are_still_blocked(string raw) =>
        Assert.True(IdentifierNormalizer.Normalize(new Identifier(IdentifierType.Email, raw), "FR", Policy.For(IdentifierType.Email)).Blocked);
}
