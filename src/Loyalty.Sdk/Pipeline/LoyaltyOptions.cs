using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Pipeline;

/// <summary>Options of the engine, validated at start.</summary>
public sealed class LoyaltyOptions
{
    /// <summary>The program of tenants that have none in <see cref="Programs"/>.</summary>
    public LoyaltyProgram? DefaultProgram { get; set; }

    /// <summary>Programs by tenant id.</summary>
    public IDictionary<string, LoyaltyProgram> Programs { get; } = new Dictionary<string, LoyaltyProgram>(StringComparer.Ordinal);

    /// <summary>How far after the engine clock an event may be dated (clock skew between systems). Default 5 minutes.</summary>
    public Duration MaxFutureSkew { get; set; } = Duration.FromMinutes(5);

    /// <summary>The largest batch <see cref="ILoyaltyEngine.IngestBatchAsync"/> accepts. Default 10,000.</summary>
    public int MaxBatchSize { get; set; } = 10_000;

    /// <summary>How many times an ingestion whose commit lost a race (<see cref="Validation.ConcurrencyConflictException"/>:
    /// another session or another process changed the same record first) is run again from the start, on fresh data,
    /// before the conflict is thrown. Nothing of a losing attempt is applied. Default 10.</summary>
    public int MaxConflictRetries { get; set; } = 10;
}
