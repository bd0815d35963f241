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

    [Theory]
    [InlineData("ann@")]
    [InlineData("@example.com")]
    [InlineData("ann@example")]
    [InlineData("ann@@example.com")]
    [InlineData("ann@ex@ample.com")]
    [InlineData("a.nn@example")]
    [InlineData("ann lee@example.com")]
    [InlineData("ann\u00a0lee@example.com")]
    [InlineData("ANN@EXAMPLE")]
    public void Malformed_addresses_are_rejected_with_a_reason(string raw)
    {
        var n = IdentifierNormalizer.Normalize(new Identifier(IdentifierType.Email, raw), "FR", Policy.For(IdentifierType.Email));
        Assert.Null(n.Identifier);
        Assert.Contains("is not an e-mail address", n.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u00c9LODIE@EXAMPLE.FR", "\u00e9lodie@example.fr")]
    [InlineData("\u00e9lodie@example.fr", "\u00e9lodie@example.fr")]
    public void Non_ascii_addresses_are_lower_cased(string raw, string expected) =>
        Assert.Equal(expected, IdentifierNormalizer.Normalize(new Identifier(IdentifierType.Email, raw), "FR", Policy.For(IdentifierType.Email)).Identifier?.Value);

    [Fact]
    public void The_identifier_index_agrees_with_a_dictionary_through_adds_replacements_and_removals()
    {
        var random = new Random(11);
        var index = new IdentifierIndex<int>();
        var expected = new Dictionary<Identifier, int>();
        var types = new[] { IdentifierType.Email, IdentifierType.LoyaltyCard, IdentifierType.DeviceId };
        Identifier Any() => new(types[random.Next(types.Length)], "v" + random.Next(3_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (var step = 0; step < 60_000; step++)
        {
            var id = Any();
            switch (random.Next(4))
            {
                case 0:
                    Assert.Equal(expected.Remove(id), index.Remove(id));
                    break;
                default:
                    expected[id] = step;
                    index[id] = step;
                    break;
            }

            var probe = Any();
            Assert.Equal(expected.TryGetValue(probe, out var e), index.TryGetValue(probe, out var a));
            Assert.Equal(e, a);
        }

        Assert.Equal(expected.Count, index.Count);
        Assert.Equal(expected.OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal), index.OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal));
        foreach (var key in expected.Keys.ToArray())
        {
            Assert.True(index.Remove(key));
            Assert.False(index.ContainsKey(key));
        }

        Assert.Equal(0, index.Count);
        Assert.False(index.TryGetValue(new Identifier(IdentifierType.Email, "v1"), out _));
    }

    [Fact]
    public void The_identifier_index_tells_types_apart_and_looks_up_without_allocating()
    {
        var index = new IdentifierIndex<string>(4) { [new Identifier(IdentifierType.Email, "x")] = "email", [new Identifier(IdentifierType.DeviceId, "x")] = "device" };
        var probe = new Identifier(IdentifierType.DeviceId, new string("x".AsSpan()));
        Assert.True(index.TryGetValue(probe, out var v));
        Assert.Equal("device", v);
        Assert.False(index.TryGetValue(new Identifier(IdentifierType.Phone, "x"), out _));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            _ = index.TryGetValue(probe, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        index.TrimExcess();
        Assert.Equal("email", index.TryGetValue(new Identifier(IdentifierType.Email, "x"), out var e) ? e : null);
    }
}
