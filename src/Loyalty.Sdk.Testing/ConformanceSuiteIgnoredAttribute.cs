namespace Loyalty.Sdk.Testing;

/// <summary>
/// Declares, on the enrolling test assembly, that it deliberately does not run one suite of the kit, and why:
/// <c>[assembly: ConformanceSuiteIgnored(typeof(LedgerConformance&lt;&gt;), "the adapter stores no ledger")]</c>.
/// <see cref="ConformanceCompleteness{TFixture}"/> accepts a missing suite only with this attribute and a non-empty
/// reason.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
public sealed class ConformanceSuiteIgnoredAttribute : Attribute
{
    /// <summary>Ignores <paramref name="suite"/> (the open generic suite type) for <paramref name="reason"/>.</summary>
    public ConformanceSuiteIgnoredAttribute(Type suite, string reason)
    {
        Suite = suite;
        Reason = reason;
    }

    /// <summary>The open generic suite type, e.g. <c>typeof(LedgerConformance&lt;&gt;)</c>.</summary>
    public Type Suite { get; }

    /// <summary>Why the suite does not apply (required).</summary>
    public string Reason { get; }
}
