using Loyalty.Sdk.Predictive;

namespace Loyalty.Sdk.Storage;

/// <summary>The predictive capability's repository in a unit of work.</summary>
public partial interface ILoyaltyStoreSession
{
    /// <summary>Purchase histories and fitted models.</summary>
    IPredictiveRepository Predictive { get; }
}
