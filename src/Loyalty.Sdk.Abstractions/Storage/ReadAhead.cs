namespace Loyalty.Sdk.Storage;

/// <summary>
/// What the ingestion of a batch of events is about to read, by the keys known before it starts: the event ids, the
/// normalized identifiers the events carry and the order ids they name. A session that implements
/// <see cref="IReadAheadSession"/> loads the records behind them (and those of the customers the identifiers belong to)
/// in as few round trips as it can, so that the pipeline's reads are answered from the unit of work.
/// </summary>
public sealed record ReadAheadRequest
{
    /// <summary>The ids of the events.</summary>
    public IReadOnlyList<EventId> EventIds { get; init; } = [];

    /// <summary>The events' identifiers, normalized as identity resolution will look them up.</summary>
    public IReadOnlyList<Identifier> Identifiers { get; init; } = [];

    /// <summary>The order ids the events name.</summary>
    public IReadOnlyList<string> OrderIds { get; init; } = [];

    /// <summary>Customers known to be involved (e.g. the target of a ledger command).</summary>
    public IReadOnlyList<CustomerId> Customers { get; init; } = [];

    /// <summary>What the unit of work does, and so which of the customers' records it reads.</summary>
    public ReadAheadPurpose Purpose { get; init; } = ReadAheadPurpose.Ingest;

    /// <summary>Idempotency keys of ledger commands about to be checked for a replay.</summary>
    public IReadOnlyList<string> LedgerCommandKeys { get; init; } = [];
}

/// <summary>The unit of work a <see cref="ReadAheadRequest"/> prepares.</summary>
public enum ReadAheadPurpose
{
    /// <summary>Ingesting events: every capability's record of the customers.</summary>
    Ingest,

    /// <summary>A ledger command: the customers' identities (to follow merges) and ledger states.</summary>
    LedgerCommand,
}

/// <summary>
/// Optional capability of an <see cref="ILoyaltyStoreSession"/> whose reads are expensive (a network round trip each):
/// read ahead, in one go, what a unit of work will read. It is only a hint: reading ahead never changes what the unit of
/// work decides or writes (every write is still checked against the version that was read), and a session that does not
/// implement it simply reads as it goes.
/// </summary>
public interface IReadAheadSession
{
    /// <summary>Loads the records behind <paramref name="request"/> into the unit of work.</summary>
    ValueTask ReadAheadAsync(ReadAheadRequest request, CancellationToken cancellationToken = default);
}
