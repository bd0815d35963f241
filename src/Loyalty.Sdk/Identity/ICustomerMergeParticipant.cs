using Loyalty.Sdk.Pipeline;

namespace Loyalty.Sdk.Identity;

/// <summary>
/// The <c>CustomerMerged</c> signal: when the identity stage merges <paramref name="Absorbed"/> into
/// <paramref name="Survivor"/>, every registered participant consolidates its own data in the same unit of work.
/// </summary>
/// <param name="Context">The ingest context (session, event, clock).</param>
/// <param name="Survivor">The customer that remains.</param>
/// <param name="Absorbed">The customer merged away; its id keeps redirecting to the survivor.</param>
public sealed record CustomerMerged(IngestContext Context, CustomerId Survivor, CustomerId Absorbed);

/// <summary>A capability that keeps data per customer and consolidates it on a merge.</summary>
public interface ICustomerMergeParticipant
{
    /// <summary>Moves or combines the absorbed customer's data into the survivor's.</summary>
    ValueTask OnMergedAsync(CustomerMerged merge, CancellationToken cancellationToken);
}
