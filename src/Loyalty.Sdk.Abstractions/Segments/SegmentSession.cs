using Loyalty.Sdk.Segments;

namespace Loyalty.Sdk.Storage;

/// <summary>The segmentation capability's part of the unit of work.</summary>
public partial interface ILoyaltyStoreSession
{
    /// <summary>Segment state per customer (computed traits, window counters, memberships, due work), sizes and history.</summary>
    ISegmentRepository Segments { get; }
}
