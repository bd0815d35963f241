using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Loyalty.Sdk.Telemetry;

/// <summary>The SDK's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <c>Loyalty.Sdk</c>.</summary>
public static class LoyaltyTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "Loyalty.Sdk";

    /// <summary>Traces: one activity per ingested event or batch.</summary>
    public static ActivitySource ActivitySource { get; } = new(Name, "0.1.0");

    /// <summary>Metrics.</summary>
    public static Meter Meter { get; } = new(Name, "0.1.0");

    /// <summary>Events ingested, tagged by <c>kind</c> and <c>outcome</c> (applied, duplicate, rejected).</summary>
    public static Counter<long> EventsIngested { get; } = Meter.CreateCounter<long>("loyalty.events.ingested", "{event}", "Events ingested, by kind and outcome.");

    /// <summary>Ingestions run again because their commit lost a race with another writer.</summary>
    public static Counter<long> ConflictRetries { get; } = Meter.CreateCounter<long>("loyalty.ingest.conflict_retries", "{retry}", "Ingestions run again after a concurrency conflict.");

    /// <summary>Customers merged.</summary>
    public static Counter<long> Merges { get; } = Meter.CreateCounter<long>("loyalty.identity.merges", "{merge}", "Customers merged into another.");

    /// <summary>Links and merges refused by identity policies, tagged by <c>rule</c>.</summary>
    public static Counter<long> LinksRefused { get; } = Meter.CreateCounter<long>("loyalty.identity.links_refused", "{link}", "Identifier links and merges refused by limits, caps, protections or split rules.");

    /// <summary>Values blocked automatically because they kept linking different customers, tagged by <c>type</c>.</summary>
    public static Counter<long> AutoBlocked { get; } = Meter.CreateCounter<long>("loyalty.identity.auto_blocked", "{value}", "Identifier values blocked automatically for linking many customers.");

    /// <summary>Customers split by staff (identifier removals and unmerges).</summary>
    public static Counter<long> Splits { get; } = Meter.CreateCounter<long>("loyalty.identity.splits", "{split}", "Customers split by staff.");

    /// <summary>Ingest duration per event.</summary>
    public static Histogram<double> IngestDuration { get; } = Meter.CreateHistogram<double>("loyalty.ingest.duration", "ms", "Time to ingest one event or batch.");
}
