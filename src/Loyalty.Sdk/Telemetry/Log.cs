using Microsoft.Extensions.Logging;

namespace Loyalty.Sdk.Telemetry;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Ingested {Kind} event {EventId} for tenant {Tenant}: customer {Customer}")]
    public static partial void Ingested(ILogger logger, string kind, string eventId, string tenant, string? customer);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Event {EventId} of tenant {Tenant} is a duplicate; nothing changed")]
    public static partial void Duplicate(ILogger logger, string eventId, string tenant);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Event {EventId} of tenant {Tenant} was rejected: {Errors}")]
    public static partial void Rejected(ILogger logger, string? eventId, string? tenant, string errors);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Customer {Absorbed} merged into {Survivor} (tenant {Tenant}, event {EventId})")]
    public static partial void Merged(ILogger logger, string absorbed, string survivor, string tenant, string eventId);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "A {Type} value of tenant {Tenant} was auto-blocked: it was refused for {DistinctCustomers} different customers (event {EventId})")]
    public static partial void AutoBlocked(ILogger logger, string type, string tenant, int distinctCustomers, string eventId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Customer {Survivor} of tenant {Tenant} was split ({Kind}): {SplitOff} by {Actor}")]
    public static partial void Split(ILogger logger, string survivor, string tenant, string kind, string splitOff, string actor);
}
