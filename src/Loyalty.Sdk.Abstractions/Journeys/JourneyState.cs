using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>The status of a journey instance.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<JourneyStatus>))]
public enum JourneyStatus
{
    /// <summary>Not entered yet: a time trigger (inactivity, date) is scheduled at <see cref="JourneyInstance.WakeAt"/>.</summary>
    Scheduled,

    /// <summary>Running.</summary>
    Active,

    /// <summary>Finished (completed or exited; see <see cref="JourneyInstance.ExitReason"/>).</summary>
    Ended,
}

/// <summary>One customer's run through one journey; durable state, its timer is <see cref="WakeAt"/>.</summary>
public sealed record JourneyInstance
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The journey id.</summary>
    public required string Journey { get; init; }

    /// <summary>The definition version entered.</summary>
    public int JourneyVersion { get; init; }

    /// <summary>The entry number (1 for the first entry).</summary>
    public int Entry { get; init; }

    /// <summary>The status.</summary>
    public JourneyStatus Status { get; init; }

    /// <summary>The current step.</summary>
    public string? Step { get; init; }

    /// <summary>When the current entry began.</summary>
    public Instant? EnteredAt { get; init; }

    /// <summary>The timer: when to advance next (null: waiting for an event only, or ended).</summary>
    public Instant? WakeAt { get; init; }

    /// <summary>Whether the customer is in the holdout (no actions).</summary>
    public bool Holdout { get; init; }

    /// <summary>Whether the goal was reached in this entry.</summary>
    public bool Converted { get; init; }

    /// <summary>Why the last entry ended.</summary>
    public string? ExitReason { get; init; }

    /// <summary>When a customer merge moved this entry from the absorbed customer: the outbox key prefix of the entry
    /// before the move, so that delivery results of the messages it sent then still count for it (null otherwise).</summary>
    public string? MovedFrom { get; init; }

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; init; }
}

/// <summary>Measurement of one journey.</summary>
public sealed record JourneyStats
{
    /// <summary>The journey.</summary>
    public required string Journey { get; init; }

    /// <summary>Counters by name (<c>entries</c>, <c>entries.treated</c>, <c>entries.holdout</c>, <c>conversions.treated</c>,
    /// <c>conversions.holdout</c>, <c>exit.{reason}</c>, <c>step.{id}</c>, <c>sent</c>, <c>sent.{channel}</c>, <c>deferred</c>,
    /// <c>skipped.{reason}</c>, <c>excluded.global_control</c>…).</summary>
    public required IReadOnlyDictionary<string, long> Counters { get; init; }

    /// <summary>A counter, 0 when absent.</summary>
    public long this[string name] => Counters.TryGetValue(name, out var v) ? v : 0;
}

/// <summary>How one customer responds on one channel: journey messages sent there, and the opens and clicks they got
/// back (delivery results ingested as interaction events).</summary>
public sealed record ChannelResponseCounts
{
    /// <summary>The channel.</summary>
    public required Events.ContactChannel Channel { get; init; }

    /// <summary>Journey messages sent on the channel.</summary>
    public long Sent { get; init; }

    /// <summary>Of those, opened (first open of each message).</summary>
    public long Opened { get; init; }

    /// <summary>Of those, clicked (first click of each message).</summary>
    public long Clicked { get; init; }

    /// <summary>The observed response: (opens + clicks) / sends, 0 without sends.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double Rate => Sent == 0 ? 0 : (double)(Opened + Clicked) / Sent;
}

/// <summary>One customer's response per channel, durable journey state that best-channel sends rank channels by.</summary>
public sealed record CustomerChannelResponse
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>Counts per channel (one entry per channel seen).</summary>
    public IReadOnlyList<ChannelResponseCounts> Channels { get; init => field = value ?? []; } = [];

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; init; }

    /// <summary>The counts of <paramref name="channel"/> (zeros when unseen).</summary>
    public ChannelResponseCounts For(Events.ContactChannel channel) =>
        Channels.FirstOrDefault(c => c.Channel == channel) ?? new ChannelResponseCounts { Channel = channel };

    /// <summary>A copy with the counts of one channel changed by <paramref name="update"/>.</summary>
    public CustomerChannelResponse With(Events.ContactChannel channel, Func<ChannelResponseCounts, ChannelResponseCounts> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var updated = update(For(channel));
        return this with { Channels = [.. Channels.Where(c => c.Channel != channel), updated] };
    }
}
