using System.Security.Cryptography;
using System.Text;
using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>
/// Everything the send gate needs about one customer, prepared once (by the consent service from the store, or by a
/// test or benchmark): folded consent, reachable channels, suppressions, dispatched messages, preferences, time zone.
/// </summary>
public sealed class ContactState
{
    private ContactState(CustomerId customer, DateTimeZone zone, TimeZoneSource zoneSource)
    {
        Customer = customer;
        Zone = zone;
        ZoneSource = zoneSource;
    }

    /// <summary>The customer.</summary>
    public CustomerId Customer { get; }

    /// <summary>The customer's time zone.</summary>
    public DateTimeZone Zone { get; }

    /// <summary>Where the zone came from.</summary>
    public TimeZoneSource ZoneSource { get; }

    /// <summary>Version of the send log the state was read at (for compare-and-swap).</summary>
    public long SendLogVersion { get; private init; }

    /// <summary>Whether the customer is in the holdout group.</summary>
    public bool InHoldout { get; private init; }

    /// <summary>The preferences.</summary>
    public PreferenceSettings? Preferences { get; private init; }

    internal ConsentState?[] Consents { get; private init; } = [];

    internal int ReachableMask { get; private init; }

    internal (SuppressionList List, ContactChannel? Channel, Instant Since)[] Suppressions { get; private init; } = [];

    internal SendEntry[] Sends { get; private init; } = [];

    internal HashSet<string> MessageIds { get; private init; } = [];

    /// <summary>Cache of the zone interval around the last decision (the gate's hot path skips the zone lookup).</summary>
    internal StableOffset? OffsetCache;

    /// <summary>Whether a message id was already reserved.</summary>
    public bool HasSent(string messageId) => MessageIds.Contains(messageId);

    /// <summary>Whether an address is known for <paramref name="channel"/>.</summary>
    public bool IsReachable(ContactChannel channel) => (ReachableMask & (1 << (int)channel)) != 0;

    /// <summary>Prepares a state.</summary>
    /// <param name="customer">The customer.</param>
    /// <param name="zone">Their time zone.</param>
    /// <param name="zoneSource">Where it came from.</param>
    /// <param name="consents">Folded consent states.</param>
    /// <param name="reachable">Channels with a known address.</param>
    /// <param name="suppressions">Customer suppression entries.</param>
    /// <param name="addressSuppressions">Address suppressions that match the customer's addresses, with the channels
    /// the address serves.</param>
    /// <param name="sends">Dispatched messages.</param>
    /// <param name="sendLogVersion">Version of the send log.</param>
    /// <param name="preferences">Preferences.</param>
    /// <param name="inHoldout">Holdout membership.</param>
    /// <param name="policy">The policy (for tag bits).</param>
    public static ContactState Create(
        CustomerId customer,
        DateTimeZone zone,
        TimeZoneSource zoneSource,
        IEnumerable<ConsentState> consents,
        IEnumerable<ContactChannel> reachable,
        IEnumerable<SuppressionEntry> suppressions,
        IEnumerable<(AddressSuppression Entry, ContactChannel Channel)> addressSuppressions,
        IEnumerable<SendRecord> sends,
        long sendLogVersion,
        PreferenceSettings? preferences,
        bool inHoldout,
        CompiledConsentPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentNullException.ThrowIfNull(consents);
        ArgumentNullException.ThrowIfNull(reachable);
        ArgumentNullException.ThrowIfNull(suppressions);
        ArgumentNullException.ThrowIfNull(addressSuppressions);
        ArgumentNullException.ThrowIfNull(sends);
        ArgumentNullException.ThrowIfNull(policy);
        var consentArray = new ConsentState?[ConsentEngine.KeyCount];
        foreach (var c in consents)
        {
            consentArray[ConsentEngine.Key(c.Channel, c.Purpose)] = c;
        }

        var mask = 0;
        foreach (var r in reachable)
        {
            mask |= 1 << (int)r;
        }

        var sendList = sends.ToList();
        var suppression = suppressions.Select(s => (s.List, s.Channel, s.Since))
            .Concat(addressSuppressions.Where(a => a.Entry.Channel is null || a.Entry.Channel == a.Channel).Select(a => (a.Entry.List, (ContactChannel?)a.Channel, a.Entry.Since)))
            .Distinct()
            .ToArray();
        return new ContactState(customer, zone, zoneSource)
        {
            Consents = consentArray,
            ReachableMask = mask,
            Suppressions = suppression,
            Sends = sendList.Where(s => s.CountsTowardCaps).OrderBy(s => s.SentAt)
                .Select(s => new SendEntry(s.SentAt.ToUnixTimeTicks(), (int)s.Channel, policy.MaskOf(s.Tags))).ToArray(),
            MessageIds = sendList.Select(s => s.MessageId).ToHashSet(StringComparer.Ordinal),
            SendLogVersion = sendLogVersion,
            Preferences = preferences,
            InHoldout = inHoldout,
        };
    }

    /// <summary>Whether a customer falls in the holdout of <paramref name="holdout"/> (deterministic bucket).</summary>
    public static bool IsHeldOut(CustomerId customer, HoldoutPolicy? holdout)
    {
        if (holdout is null || holdout.Percent <= 0)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(holdout.Salt + "\n" + customer.Value), hash);
        var bucket = BitConverter.ToUInt32(hash[..4]) % 10_000;
        return bucket < holdout.Percent * 100;
    }
}

/// <summary>One dispatched message as the cap rules see it.</summary>
internal readonly record struct SendEntry(long Ticks, int Channel, ulong Tags);

/// <summary>
/// The send gate's decision path: pure, allocation-light, over a prepared <see cref="ContactState"/>. Order of checks:
/// reachability, suppression, (non-transactional:) holdout, consent, pause, topic, then quiet hours and caps, which
/// defer or skip. Every blocking reason found is reported.
/// </summary>
public static class SendGateEngine
{
    private static readonly int ChannelCount = Enum.GetValues<ContactChannel>().Length;
    private static readonly int PurposeCount = Enum.GetValues<ConsentPurpose>().Length;
    private static readonly SendReason[] GrantedReasons = [new SendReason { Code = SendReasonCode.ConsentGranted }];
    private static readonly SendReason[] TransactionalReasons = [new SendReason { Code = SendReasonCode.TransactionalBypass }];
    private static readonly SendReason NoAddress = new() { Code = SendReasonCode.NoVerifiedAddress };
    private static readonly SendReason HoldoutReason = new() { Code = SendReasonCode.Holdout };
    private static readonly SendReason NoConsentReason = new() { Code = SendReasonCode.NoConsent };

    /// <summary>Whether a list blocks transactional messages too.</summary>
    public static bool IsHard(SuppressionList list) => list is SuppressionList.HardBounce or SuppressionList.StaffDoNotContact or SuppressionList.Erased;

    /// <summary>Decides whether a message may go now.</summary>
    /// <exception cref="ConsentValidationException">Unknown channel, purpose or message class, or a purpose that is not
    /// the class's.</exception>
    public static SendDecision Decide(ContactState state, CompiledConsentPolicy policy, ContactChannel channel, ConsentPurpose purpose, string messageClass, Instant at, ulong extraTags = 0)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(messageClass);
        if ((uint)channel >= (uint)ChannelCount)
        {
            throw ConsentValidationException.For("$.channel", ConsentErrorCodes.UnknownChannel, $"Unknown channel {(int)channel}.");
        }

        if ((uint)purpose >= (uint)PurposeCount)
        {
            throw ConsentValidationException.For("$.purpose", ConsentErrorCodes.UnknownPurpose, $"Unknown purpose {(int)purpose}.");
        }

        if (!policy.Classes.TryGetValue(messageClass, out var cls))
        {
            throw ConsentValidationException.For("$.messageClass", ConsentErrorCodes.UnknownMessageClass, $"Message class '{messageClass}' is not in the program's consent policy.");
        }

        if (cls.Definition.Purpose != purpose)
        {
            throw ConsentValidationException.For("$.purpose", ConsentErrorCodes.PurposeMismatch, $"Message class '{messageClass}' is for {cls.Definition.Purpose}, not {purpose}.");
        }

        var ch = (int)channel;
        var tags = cls.TagMask | extraTags;
        var transactional = cls.Transactional;
        List<SendReason>? skip = null;
        var clock = LocalClock.For(state.Zone, at, policy.StableSpan, ref state.OffsetCache);

        if ((state.ReachableMask & (1 << ch)) == 0)
        {
            (skip ??= []).Add(NoAddress);
        }

        foreach (var (list, scope, since) in state.Suppressions)
        {
            if (since <= at && (scope is null || scope == channel) && (!transactional || IsHard(list)))
            {
                (skip ??= []).Add(new SendReason { Code = SendReasonCode.Suppressed, List = list, ScopeChannel = scope });
            }
        }

        if (!transactional)
        {
            if (state.InHoldout)
            {
                (skip ??= []).Add(HoldoutReason);
            }

            var consent = state.Consents[ConsentEngine.Key(channel, purpose)];
            var status = consent is null ? (ConsentStatus?)null : consent.ExpiresAt is { } exp && exp <= at ? ConsentStatus.Expired : consent.Status;
            switch (status)
            {
                case null:
                    (skip ??= []).Add(NoConsentReason);
                    break;
                case ConsentStatus.Granted:
                    break;
                case ConsentStatus.Withdrawn:
                    (skip ??= []).Add(new SendReason { Code = SendReasonCode.Withdrawn, Status = status });
                    break;
                case ConsentStatus.Pending:
                    (skip ??= []).Add(new SendReason { Code = SendReasonCode.ConsentPending, Status = status, Until = consent!.ExpiresAt });
                    break;
                case ConsentStatus.Expired:
                    (skip ??= []).Add(new SendReason { Code = SendReasonCode.ConsentExpired, Status = status });
                    break;
                default:
                    (skip ??= []).Add(new SendReason { Code = SendReasonCode.NoConsent, Status = status });
                    break;
            }

            if (state.Preferences is { } prefs)
            {
                if (prefs.PausedUntil is { } paused)
                {
                    var end = clock.StartOfDay(paused);
                    if (at < end)
                    {
                        (skip ??= []).Add(new SendReason { Code = SendReasonCode.Paused, Until = end, LocalUntil = clock.ToLocal(end) });
                    }
                }

                if (cls.Definition.Topic is { } topic && prefs.TopicsOptedOut.Contains(topic))
                {
                    (skip ??= []).Add(new SendReason { Code = SendReasonCode.TopicUnsubscribed, Topic = topic });
                }
            }
        }

        // Timing: quiet hours and frequency caps defer (or skip); find the first instant both allow.
        List<SendReason>? timing = null;
        Instant? quietUntil = cls.RespectQuietHours ? clock.BlockedUntil(policy.Blocked[ch], at) : null;
        if (quietUntil is { } q)
        {
            (timing ??= []).Add(new SendReason { Code = SendReasonCode.QuietHours, ScopeChannel = channel, Until = q, LocalUntil = clock.ToLocal(q) });
        }

        Instant? capFree = null;
        if (!transactional)
        {
            capFree = CapsFreeAt(state, policy, clock, ch, tags, at, ref timing);
        }

        if (skip is not null || (capFree is not null && cls.Definition.OnCapReached == CapAction.Skip))
        {
            if (timing is not null)
            {
                (skip ??= []).AddRange(timing);
            }

            return Result(state, SendVerdict.Skip, null, skip!, channel, purpose, messageClass, at);
        }

        if (timing is null)
        {
            return Result(state, SendVerdict.Send, null, transactional ? TransactionalReasons : GrantedReasons, channel, purpose, messageClass, at);
        }

        // Defer: move to the later of the obstacles' ends until none applies any more.
        var until = Max(quietUntil ?? at, capFree ?? at);
        for (var i = 0; i < 6; i++)
        {
            List<SendReason>? ignored = null;
            var q2 = cls.RespectQuietHours ? clock.BlockedUntil(policy.Blocked[ch], until) : null;
            var c2 = transactional ? null : CapsFreeAt(state, policy, LocalClock.For(state.Zone, until, policy.StableSpan), ch, tags, until, ref ignored);
            var next = Max(q2 ?? until, c2 ?? until);
            if (next == until)
            {
                break;
            }

            until = next;
        }

        if (until - at > cls.Horizon)
        {
            timing.Add(new SendReason { Code = SendReasonCode.DeferHorizonExceeded, Until = until, LocalUntil = clock.ToLocal(until) });
            return Result(state, SendVerdict.Skip, null, timing, channel, purpose, messageClass, at);
        }

        return Result(state, SendVerdict.Defer, until, timing, channel, purpose, messageClass, at);
    }

    /// <summary>The instant the most restrictive hit cap frees a slot, or null when no cap is hit.</summary>
    private static Instant? CapsFreeAt(ContactState state, CompiledConsentPolicy policy, LocalClock clock, int channel, ulong tags, Instant at, ref List<SendReason>? reasons)
    {
        Instant? free = null;
        foreach (var rule in policy.Caps)
        {
            if (rule.Applies(channel, tags) && Hit(rule, state.Sends, clock, at, out var count, out var freesAt))
            {
                free = free is { } f ? Max(f, freesAt) : freesAt;
                (reasons ??= []).Add(new SendReason
                {
                    Code = SendReasonCode.FrequencyCap, Rule = rule.Id, ScopeChannel = rule.Channel < 0 ? null : (ContactChannel)rule.Channel, Count = count, Max = rule.Max, Until = freesAt, LocalUntil = clock.ToLocal(freesAt),
                });
            }
        }

        if (state.Preferences is { Frequency: not DesiredFrequency.AsItHappens } prefs)
        {
            var days = prefs.Frequency switch { DesiredFrequency.DailyDigest => 1, DesiredFrequency.WeeklyDigest => 7, _ => 30 };
            var rule = new CapRule("preference.frequency", -1, 0, 1, true, days, Duration.FromDays(days));
            if (Hit(rule, state.Sends, clock, at, out var count, out var freesAt))
            {
                free = free is { } f ? Max(f, freesAt) : freesAt;
                (reasons ??= []).Add(new SendReason { Code = SendReasonCode.FrequencyCap, Rule = rule.Id, Count = count, Max = 1, Until = freesAt, LocalUntil = clock.ToLocal(freesAt) });
            }
        }

        return free;
    }

    /// <summary>Whether <paramref name="rule"/> is at its maximum at <paramref name="at"/>, and when it frees a slot.</summary>
    internal static bool Hit(in CapRule rule, SendEntry[] sends, in LocalClock clock, Instant at, out int count, out Instant freesAt)
    {
        count = 0;
        freesAt = default;
        var atTicks = at.ToUnixTimeTicks();
        if (rule.Rolling)
        {
            var windowStart = atTicks - rule.Span.BclCompatibleTicks;
            var first = -1;
            for (var i = 0; i < sends.Length; i++)
            {
                var s = sends[i];
                if (s.Ticks > windowStart && s.Ticks <= atTicks && rule.Applies(s.Channel, s.Tags))
                {
                    if (first < 0)
                    {
                        first = i;
                    }

                    count++;
                }
            }

            if (count < rule.Max)
            {
                return false;
            }

            // The window frees a slot when the (count - max + 1)-th oldest counted send leaves it.
            var skipCount = count - rule.Max;
            for (var i = first; i < sends.Length; i++)
            {
                var s = sends[i];
                if (s.Ticks > windowStart && s.Ticks <= atTicks && rule.Applies(s.Channel, s.Tags) && skipCount-- == 0)
                {
                    freesAt = Instant.FromUnixTimeTicks(s.Ticks) + rule.Span;
                    break;
                }
            }

            return true;
        }

        count = CountSince(rule, sends, clock.StartOfDayTicks(at, rule.Days - 1), atTicks);
        if (count < rule.Max)
        {
            return false;
        }

        for (var k = 1; k <= rule.Days; k++)
        {
            var boundary = clock.StartOfDayTicks(at, rule.Days - 1 - k);
            if (k == rule.Days || CountSince(rule, sends, boundary, atTicks) < rule.Max)
            {
                freesAt = Instant.FromUnixTimeTicks(boundary);
                break;
            }
        }

        return true;
    }

    private static int CountSince(in CapRule rule, SendEntry[] sends, long from, long at)
    {
        var n = 0;
        foreach (var s in sends)
        {
            if (s.Ticks >= from && s.Ticks <= at && rule.Applies(s.Channel, s.Tags))
            {
                n++;
            }
        }

        return n;
    }

    private static Instant Max(Instant a, Instant b) => a > b ? a : b;

    private static SendDecision Result(ContactState state, SendVerdict verdict, Instant? until, IReadOnlyList<SendReason> reasons, ContactChannel channel, ConsentPurpose purpose, string messageClass, Instant at) => new()
    {
        Verdict = verdict,
        DeferUntil = until,
        Reasons = reasons,
        Customer = state.Customer,
        Channel = channel,
        Purpose = purpose,
        MessageClass = messageClass,
        At = at,
        TimeZone = state.Zone.Id,
        TimeZoneSource = state.ZoneSource,
    };
}
