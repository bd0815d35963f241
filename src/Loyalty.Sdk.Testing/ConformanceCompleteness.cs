using System.Reflection;
using Xunit;

namespace Loyalty.Sdk.Testing;

/// <summary>
/// Checks that the enrolling test assembly (the assembly of the concrete class deriving from this one) runs every
/// suite of the kit for <typeparamref name="TFixture"/>: for each abstract generic suite deriving from
/// <see cref="ConformanceSuite"/>, it must contain a concrete subclass closed over <typeparamref name="TFixture"/>, or
/// declare <see cref="ConformanceSuiteIgnoredAttribute"/> with a reason. A new suite in a later version of the kit
/// thus fails the completeness check until the adapter enrolls in it.
/// </summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class ConformanceCompleteness<TFixture>
    where TFixture : class, IStoreConformanceFixture
{
    /// <summary>The kit's suites: abstract generic type definitions deriving from <see cref="ConformanceSuite"/>.</summary>
    public static IReadOnlyList<Type> Suites { get; } = [.. typeof(ConformanceSuite).Assembly.GetExportedTypes()
        .Where(t => t.IsAbstract && t.IsGenericTypeDefinition && t != typeof(ConformanceSuite<>) && typeof(ConformanceSuite).IsAssignableFrom(t))
        .OrderBy(t => t.Name, StringComparer.Ordinal)];

    /// <summary>Every suite of the kit is enrolled for <typeparamref name="TFixture"/> or ignored with a reason.</summary>
    [Fact]
    public virtual void Every_suite_of_the_kit_is_enrolled_or_ignored_with_a_reason()
    {
        Assert.NotEmpty(Suites);
        var assembly = GetType().Assembly;
        var concrete = assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false }).ToArray();
        var ignored = assembly.GetCustomAttributes<ConformanceSuiteIgnoredAttribute>().ToArray();
        var problems = new List<string>();

        foreach (var attribute in ignored)
        {
            if (attribute.Suite is null || !Suites.Contains(attribute.Suite))
            {
                problems.Add($"[ConformanceSuiteIgnored({attribute.Suite?.Name ?? "null"})] does not name a suite of the kit (use the open generic type, e.g. typeof(LedgerConformance<>)).");
            }
            else if (string.IsNullOrWhiteSpace(attribute.Reason))
            {
                problems.Add($"[ConformanceSuiteIgnored({Name(attribute.Suite)})] needs a reason.");
            }
        }

        foreach (var suite in Suites)
        {
            var closed = suite.MakeGenericType(typeof(TFixture));
            var enrolled = concrete.Any(closed.IsAssignableFrom);
            var ignoredHere = ignored.Any(a => a.Suite == suite && !string.IsNullOrWhiteSpace(a.Reason));
            if (enrolled && ignoredHere)
            {
                problems.Add($"{Name(suite)} is both enrolled and ignored: remove the [ConformanceSuiteIgnored] attribute.");
            }
            else if (!enrolled && !ignoredHere)
            {
                problems.Add($"{Name(suite)} is not enrolled: add `public sealed class My{suite.Name[..suite.Name.IndexOf('`', StringComparison.Ordinal)]}({typeof(TFixture).Name} fixture) : {Name(suite)}(fixture);` "
                    + "or [assembly: ConformanceSuiteIgnored(typeof(" + suite.Name[..suite.Name.IndexOf('`', StringComparison.Ordinal)] + "<>), \"reason\")].");
            }
        }

        Assert.True(problems.Count == 0, $"The conformance kit is not fully enrolled in {assembly.GetName().Name}:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
    }

    private static string Name(Type suite) => $"{suite.Name[..suite.Name.IndexOf('`', StringComparison.Ordinal)]}<{typeof(TFixture).Name}>";
}
