using System.Security.Cryptography;
using System.Text;
using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>
/// Delivery results coming back in as events. A provider's webhook (delivered, bounced, opened, clicked,
/// unsubscribed, spam complaint) becomes an <see cref="Interaction"/> whose <see cref="Interaction.MessageId"/> is the
/// outbox key; the host ingests it like any other event. Then: the consent stage puts bounces on the suppression list
/// and withdraws marketing consent on the channel for an unsubscribe or a spam complaint; journeys can wait for
/// (<c>wait_for_event</c>), exit on or convert on <c>message_opened</c>, <c>message_clicked</c>…; and the customer's
/// response per channel feeds best-channel sends.
/// </summary>
public static class DeliveryFeedback
{
    /// <summary>The journey event names of interaction kinds (<c>message_opened</c>…), accepted wherever a journey
    /// names an event kind: such a name matches an <c>interaction</c> event of that kind.</summary>
    public static IReadOnlyList<string> InteractionEventKinds { get; } = [.. Enum.GetValues<InteractionKind>().Select(Name)];

    /// <summary>The interaction event that reports <paramref name="result"/> for an outbox message.</summary>
    /// <param name="tenant">The tenant.</param>
    /// <param name="messageKey">The outbox key (<see cref="Storage.OutboxMessage.Key"/>) the sender received.</param>
    /// <param name="channel">The channel the message went out on.</param>
    /// <param name="result">What happened: <see cref="InteractionKind.MessageDelivered"/>, <see cref="InteractionKind.MessageBounced"/>,
    /// <see cref="InteractionKind.MessageOpened"/>, <see cref="InteractionKind.MessageClicked"/>, <see cref="InteractionKind.Unsubscribed"/>
    /// or <see cref="InteractionKind.SpamComplaint"/>.</param>
    /// <param name="at">When the provider saw it.</param>
    /// <param name="identifiers">The recipient's identifiers (at least the address the message went to).</param>
    /// <returns>The event. Its id is derived from the key and the result, so a provider's repeated webhook is a
    /// duplicate, and only the first open (or click) of a message counts.</returns>
    /// <exception cref="ArgumentException">The result is not a message result, or the channel has no event channel.</exception>
    public static Interaction ToEvent(TenantId tenant, string messageKey, ContactChannel channel, InteractionKind result, Instant at, IReadOnlyList<Identifier> identifiers)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageKey);
        ArgumentNullException.ThrowIfNull(identifiers);
        if (result is not (InteractionKind.MessageDelivered or InteractionKind.MessageBounced or InteractionKind.MessageOpened or InteractionKind.MessageClicked
            or InteractionKind.Unsubscribed or InteractionKind.SpamComplaint))
        {
            throw new ArgumentException($"{result} is not a delivery result.", nameof(result));
        }

        var eventChannel = JourneyVariables.ToChannel(channel) ?? throw new ArgumentException($"{channel} has no event channel.", nameof(channel));
        return new Interaction
        {
            Id = EventIdFor(messageKey, result),
            Tenant = tenant,
            OccurredAt = at,
            Channel = eventChannel,
            Identifiers = identifiers,
            InteractionKind = result,
            MessageId = messageKey,
        };
    }

    /// <summary>The event id of a delivery result: <c>feedback:{result}:{key}</c>, or a SHA-256 of the key when that
    /// would not be a valid id.</summary>
    public static EventId EventIdFor(string messageKey, InteractionKind result)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageKey);
        var plain = $"feedback:{Name(result)}:{messageKey}";
        if (EventId.IsValid(plain))
        {
            return new EventId(plain);
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(messageKey)));
        return new EventId($"feedback:{Name(result)}:{hash}");
    }

    /// <summary>The journey event name of an interaction kind.</summary>
    public static string Name(InteractionKind kind) => kind switch
    {
        InteractionKind.MessageDelivered => "message_delivered",
        InteractionKind.MessageOpened => "message_opened",
        InteractionKind.MessageClicked => "message_clicked",
        InteractionKind.MessageBounced => "message_bounced",
        InteractionKind.Unsubscribed => "unsubscribed",
        InteractionKind.SpamComplaint => "spam_complaint",
        InteractionKind.AppVisit => "app_visit",
        InteractionKind.SiteVisit => "site_visit",
        InteractionKind.StoreVisit => "store_visit",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Whether a journey may name <paramref name="kind"/>: a built-in event kind or an interaction kind.</summary>
    internal static bool IsKnown(string kind) => EventKinds.All.Contains(kind) || InteractionEventKinds.Contains(kind);

    /// <summary>The outbox key prefix of one entry of a journey instance.</summary>
    internal static string EntryPrefix(JourneyInstance i) => JourneyRunner.OutboxKey(i, string.Empty);

    /// <summary>Whether <paramref name="message"/> is a journey's outbox key.</summary>
    internal static bool IsJourneyMessage(string? message) => message is not null && message.StartsWith("journey:", StringComparison.Ordinal);

    /// <summary>Whether an event matches a kind a journey awaits or converts on for instance <paramref name="i"/>: the
    /// event's kind, or for an interaction its interaction kind; the result of a journey message only counts for the
    /// entry that sent it. (Exit criteria take the result of any message.)</summary>
    internal static bool Matches(string? expected, LoyaltyEvent e, JourneyInstance i)
    {
        if (expected is null)
        {
            return false;
        }

        if (expected == e.Kind)
        {
            return true;
        }

        return e is Interaction x && expected == Name(x.InteractionKind)
            && (!IsJourneyMessage(x.MessageId) || x.MessageId!.StartsWith(EntryPrefix(i), StringComparison.Ordinal)
                || (i.MovedFrom is { } moved && x.MessageId.StartsWith(moved, StringComparison.Ordinal)));
    }

    /// <summary>Whether the outbox key <paramref name="message"/> was sent by <paramref name="journey"/> (any version or entry).</summary>
    internal static bool SentBy(string message, string journey) =>
        message.Length > 9 + journey.Length && message.StartsWith("journey:", StringComparison.Ordinal)
        && string.CompareOrdinal(message, 8, journey, 0, journey.Length) == 0 && message[8 + journey.Length] == ':'
        && message.AsSpan(9 + journey.Length).StartsWith("v", StringComparison.Ordinal);
}
