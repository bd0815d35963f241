using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Profiles;

namespace Loyalty.Sdk.Pipeline;

/// <summary>A customer as the engine knows them: identity and profile.</summary>
/// <param name="Identity">Identifiers, provenance and merges.</param>
/// <param name="Profile">Profile and computed traits.</param>
public sealed record CustomerView(CustomerIdentity Identity, CustomerProfile? Profile);

/// <summary>
/// The single entry point of the host: everything that happens to a customer goes through
/// <see cref="IngestAsync"/>. Ingestion is idempotent by event id and atomic per event (or per batch).
/// </summary>
public interface ILoyaltyEngine
{
    /// <summary>Validates and ingests one event.</summary>
    /// <exception cref="Validation.EventValidationException">The event is invalid; nothing was applied.</exception>
    ValueTask<IngestResult> IngestAsync(LoyaltyEvent @event, CancellationToken cancellationToken = default);

    /// <summary>Validates every event, then ingests them in order as one unit of work per tenant.</summary>
    /// <exception cref="Validation.EventValidationException">An event is invalid (its errors' paths start with
    /// <c>$[index]</c>); nothing of the batch was applied.</exception>
    ValueTask<IReadOnlyList<IngestResult>> IngestBatchAsync(IReadOnlyList<LoyaltyEvent> events, CancellationToken cancellationToken = default);

    /// <summary>The customer holding an identifier (normalized as the identity stage does), following merges.</summary>
    ValueTask<CustomerId?> ResolveAsync(TenantId tenant, Identifier identifier, CancellationToken cancellationToken = default);

    /// <summary>A customer's identity and profile; an absorbed id shows its survivor.</summary>
    ValueTask<CustomerView?> GetCustomerAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>A customer's decision trail, oldest first; an absorbed id shows its survivor's trail, which includes
    /// the decisions about every customer merged into it.</summary>
    ValueTask<IReadOnlyList<Decision>> GetDecisionTrailAsync(TenantId tenant, CustomerId customer, int skip = 0, int take = 100, CancellationToken cancellationToken = default);
}
