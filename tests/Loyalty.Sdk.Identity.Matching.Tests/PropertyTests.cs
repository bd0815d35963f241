using CsCheck;
using Loyalty.Sdk.Identity.Matching.Comparison;
using Loyalty.Sdk.Identity.Matching.Model;
using Loyalty.Sdk.Identity.Matching.Synthetic;

namespace Loyalty.Sdk.Identity.Matching.Tests;

public sealed class PropertyTests
{
    private static readonly Lazy<FellegiSunterModel> TrainedModel = new(() =>
        new IdentityMatcher().Deduplicate(SyntheticPersonGenerator.Generate(new SyntheticDataOptions { RecordCount = 2000, Seed = 9 }).Records).Model);

    private static Gen<string?> Pick(params string?[] options) => Gen.Int[0, options.Length - 1].Select(i => options[i]);

    private static readonly Gen<string?> Word = Gen.Int[0, 2].SelectMany(k => k switch
    {
        0 => Pick(null, "", " "),
        1 => Gen.String[Gen.Char["abcdeghijlmnorstuy -"], 0, 9].Select(s => (string?)s),
        _ => Pick("john", "jon", "smith", "smyth", "mary", "st kilda"),
    });

    private static readonly Gen<string?> Digits = Gen.Int[0, 2].SelectMany(k => k switch
    {
        0 => Pick(null, ""),
        1 => Gen.String[Gen.Char["0123456789"], 1, 9].Select(s => (string?)s),
        _ => Pick("19560409", "19560904", "19561109", "0412345678", "1956-04-09"),
    });

    private static readonly Gen<string?[]> Values = Gen.Int[0, 3].SelectMany(k => k == 0 ? Word : Digits).Array[11];

    private static IdentityMatcher.Engine Engine(params string?[][] values)
    {
        var schema = SyntheticPersonGenerator.RecordSchema;
        var set = new RecordSet(schema, values.Select((v, i) => new PersonRecord($"r{i}", [.. v])));
        var engine = new IdentityMatcher.Engine(MatcherSettings.Default, schema, FieldNormalizer.Prepare(set, null, null, CancellationToken.None));
        engine.UseModel(TrainedModel.Value);
        return engine;
    }

    [Fact]
    public void Match_weight_is_symmetric()
    {
        Gen.Select(Values, Values).Sample((a, b) =>
        {
            var engine = Engine(a, b);
            var ab = engine.Explain("r0", "r1");
            var ba = engine.Explain("r1", "r0");
            Assert.Equal(ab.MatchWeight, ba.MatchWeight, 12);
            Assert.Equal(ab.Fields.Select(f => f.LevelIndex), ba.Fields.Select(f => f.LevelIndex));
        }, iter: 2000);
    }

    [Fact]
    public void Identical_records_get_the_top_level_on_every_non_null_field()
    {
        Values.Sample(a =>
        {
            var engine = Engine(a, (string?[])a.Clone());
            var explanation = engine.Explain("r0", "r1");
            Assert.All(explanation.Fields, f => Assert.Equal(f.LeftValue is null ? -1 : 0, f.LevelIndex));
        }, iter: 2000);
    }
}
