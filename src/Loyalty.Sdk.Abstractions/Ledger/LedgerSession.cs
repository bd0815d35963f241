using Loyalty.Sdk.Ledger;

namespace Loyalty.Sdk.Storage;

/// <summary>The ledger's part of the unit of work.</summary>
public partial interface ILoyaltyStoreSession
{
    /// <summary>Accounts, lots, the journal, idempotency records and order earnings.</summary>
    ILedgerRepository Ledger { get; }
}
