using Loyalty.Sdk.Journeys;

namespace Loyalty.Sdk.Storage;

/// <summary>The journeys capability's part of the unit of work.</summary>
public partial interface ILoyaltyStoreSession
{
    /// <summary>Journey instances, timers and measurement counters.</summary>
    IJourneyRepository Journeys { get; }
}
