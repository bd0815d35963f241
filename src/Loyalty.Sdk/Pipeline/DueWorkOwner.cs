using System.Globalization;

namespace Loyalty.Sdk.Pipeline;

/// <summary>Names the worker that claims due work (ledger, segments, journeys), one per service instance, so that a
/// lease in the store says which process holds it.</summary>
internal static class DueWorkOwner
{
    public static string Create(string capability) => string.Create(
        CultureInfo.InvariantCulture,
        $"{capability}:{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}");
}
