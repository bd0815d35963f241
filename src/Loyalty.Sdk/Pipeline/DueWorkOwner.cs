using System.Globalization;
using NodaTime;

namespace Loyalty.Sdk.Pipeline;

/// <summary>Names the worker that claims due work (ledger, segments, journeys), one per service instance, so that a
/// lease in the store says which process holds it.</summary>
internal static class DueWorkOwner
{
    /// <summary>The default lease of claimed due work, also used when an option holds a lease that is not positive.</summary>
    public static readonly Duration DefaultLease = Duration.FromMinutes(5);

    /// <summary>The configured lease, or <see cref="DefaultLease"/> when it is not positive.</summary>
    public static Duration Lease(Duration configured) => configured > Duration.Zero ? configured : DefaultLease;

    public static string Create(string capability) => string.Create(
        CultureInfo.InvariantCulture,
        $"{capability}:{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}");
}
