using System.Text.Json.Nodes;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>What a personal-data contributor gets for an export or an erasure.</summary>
public sealed record PersonalDataContext
{
    /// <summary>The unit of work (the tenant's).</summary>
    public required ILoyaltyStoreSession Session { get; init; }

    /// <summary>The customer (the survivor of any merge).</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The customer and every id merged into it.</summary>
    public required IReadOnlyList<CustomerId> AllIds { get; init; }

    /// <summary>The customer's identifiers (normalized).</summary>
    public required IReadOnlyList<Identifier> Identifiers { get; init; }

    /// <summary>For erasure: the pseudonym to keep anonymized data under.</summary>
    public CustomerId? Pseudonym { get; init; }

    /// <summary>When the export or erasure happens.</summary>
    public required Instant At { get; init; }
}

/// <summary>
/// The GDPR extensibility hook: every capability that keeps personal data (ledger, segments, journeys…) implements it
/// so that an export contains its data and an erasure removes it, in the same unit of work.
/// </summary>
public interface IPersonalDataContributor
{
    /// <summary>Name of the section of the export document, e.g. <c>ledger</c>.</summary>
    string Section { get; }

    /// <summary>Everything the capability holds about the customer, as JSON (null when nothing).</summary>
    ValueTask<JsonNode?> ExportAsync(PersonalDataContext context, CancellationToken cancellationToken);

    /// <summary>Deletes or anonymizes (under <see cref="PersonalDataContext.Pseudonym"/>) the customer's data.</summary>
    ValueTask EraseAsync(PersonalDataContext context, CancellationToken cancellationToken);
}

/// <summary>What an erasure did.</summary>
public sealed record ErasureReceipt
{
    /// <summary>The pseudonym anonymized data is kept under.</summary>
    public required CustomerId Pseudonym { get; init; }

    /// <summary>When.</summary>
    public required Instant ErasedAt { get; init; }

    /// <summary>Customer ids erased (the customer and the ids merged into it).</summary>
    public required int CustomerIds { get; init; }

    /// <summary>Identifiers removed from the identity graph.</summary>
    public required int Identifiers { get; init; }

    /// <summary>Address hashes added to the erased-address suppression list.</summary>
    public required int SuppressedAddresses { get; init; }

    /// <summary>Sections of every contributor that erased data.</summary>
    public IReadOnlyList<string> Sections { get; init; } = [];
}

/// <summary>GDPR export and erasure.</summary>
public interface IPersonalDataService
{
    /// <summary>One JSON document with everything held about a customer: identifiers, profile, traits, consents with
    /// evidence, preferences, suppressions, sends, decision trail, orders, and every contributor's section.</summary>
    ValueTask<JsonObject> ExportAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Deletes or anonymizes the customer's personal data in every store and suppresses their addresses as
    /// salted hashes. Afterwards an event with the same identifiers creates a new, unlinked customer.</summary>
    ValueTask<ErasureReceipt> EraseAsync(TenantId tenant, CustomerId customer, string actor, CancellationToken cancellationToken = default);
}
