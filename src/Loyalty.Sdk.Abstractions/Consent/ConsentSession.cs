using Loyalty.Sdk.Consent;

namespace Loyalty.Sdk.Storage;

/// <summary>The consent capability's part of the unit of work.</summary>
public partial interface ILoyaltyStoreSession
{
    /// <summary>Consent records, suppressions, preferences and the send log.</summary>
    IConsentRepository Consent { get; }
}
