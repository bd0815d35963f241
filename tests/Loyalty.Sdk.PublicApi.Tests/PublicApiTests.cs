using System.Reflection;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Simulation;
using PublicApiGenerator;

namespace Loyalty.Sdk.PublicApi.Tests;

public sealed class PublicApiTests
{
    public static TheoryData<string> Packages() => new(PackageAssemblies().Keys);

    // Every packable src project. Adding a package means adding it here.
    private static Dictionary<string, Assembly> PackageAssemblies() => new()
    {
        ["Loyalty.Sdk.Abstractions"] = typeof(ILoyaltyEngine).Assembly,
        ["Loyalty.Sdk"] = typeof(LoyaltyEngine).Assembly,
        ["Loyalty.Sdk.Simulation"] = typeof(ShopGenerator).Assembly,
        ["Loyalty.Sdk.Predictive"] = typeof(Loyalty.Sdk.Predictive.BgNbdModel).Assembly,
        ["Loyalty.Sdk.Identity.Matching"] = typeof(Loyalty.Sdk.Identity.Matching.IdentityMatcher).Assembly,
        ["Loyalty.Sdk.Rules"] = typeof(Loyalty.Sdk.Rules.RuleCompiler).Assembly,
        ["Loyalty.Sdk.Sqlite"] = typeof(Loyalty.Sdk.Sqlite.SqliteDocumentBackend).Assembly,
        ["Loyalty.Sdk.PostgreSql"] = typeof(Loyalty.Sdk.PostgreSql.PostgreSqlDocumentBackend).Assembly,
        ["Loyalty.Sdk.Testing"] = typeof(Loyalty.Sdk.Testing.StoreConformanceFixture).Assembly,
    };

    [Theory]
    [MemberData(nameof(Packages))]
    public void Public_api_matches_the_approved_snapshot(string package)
    {
        var api = PackageAssemblies()[package].GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false });
        ApprovedFile.Verify(api, Path.Combine("tests", "Loyalty.Sdk.PublicApi.Tests", "api", package + ".approved.txt"));
    }

    [Fact]
    public void Every_src_package_has_an_api_snapshot_test()
    {
        var src = Path.Combine(ApprovedFile.RepositoryRoot(), "src");
        var packable = Directory.GetDirectories(src)
            .Select(Path.GetFileName)
            .Where(name => name is not null && File.Exists(Path.Combine(src, name, name + ".csproj")))
            .Where(name => !File.ReadAllText(Path.Combine(src, name!, name + ".csproj")).Contains("<OutputType>Exe</OutputType>", StringComparison.Ordinal))
            .ToHashSet();
        Assert.Subset(PackageAssemblies().Keys.ToHashSet(), packable!);
    }

    [Fact]
    public void Published_event_schema_matches_the_code()
    {
        ApprovedFile.Verify(LoyaltyJson.EventSchema(), Path.Combine("docs", "events.schema.json"));
    }
}
