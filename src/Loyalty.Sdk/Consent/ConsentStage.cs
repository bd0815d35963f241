using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>
/// The consent stage: turns <c>consent_changed</c> events into consent records, and suppression signals into
/// suppressions — a bounce puts the address on the hard-bounce list, a spam complaint on the spam list and withdraws
/// marketing consent, an unsubscribe withdraws (or denies) marketing consent on the channel. As a merge participant it
/// keeps both histories and pins the most restrictive choice per channel and purpose.
/// </summary>
public sealed class ConsentStage(AddressHasher hasher) : IConsentStage, ICustomerMergeParticipant
{
    /// <summary>Rule that records a consent change from an event.</summary>
    public const string RecordRule = "consent.record";

    /// <summary>Rule that starts a double opt-in instead of a direct grant.</summary>
    public const string DoubleOptInRule = "consent.double_opt_in";

    /// <summary>Rule that suppresses an address after a bounce.</summary>
    public const string BounceRule = "consent.hard_bounce";

    /// <summary>Rule that suppresses after a spam complaint.</summary>
    public const string SpamRule = "consent.spam_complaint";

    /// <summary>Rule that withdraws consent after an unsubscribe.</summary>
    public const string UnsubscribeRule = "consent.unsubscribe";

    /// <summary>Rule that resolves conflicting choices on a merge.</summary>
    public const string MergeRule = "consent.merge_most_restrictive";

    private readonly AddressHasher hasher = hasher ?? throw new ArgumentNullException(nameof(hasher));

    /// <summary>Reads a capture method from the event's <c>source</c> text (form, pos, app, import, sms_keyword,
    /// staff, preference_center, message_link); null when unknown.</summary>
    public static ConsentMethod? ParseMethod(string? source) => source switch
    {
        null or "form" => ConsentMethod.Form,
        "pos" => ConsentMethod.Pos,
        "app" => ConsentMethod.App,
        "import" => ConsentMethod.Import,
        "sms_keyword" => ConsentMethod.SmsKeyword,
        "staff" => ConsentMethod.Staff,
        "preference_center" => ConsentMethod.PreferenceCenter,
        "message_link" => ConsentMethod.MessageLink,
        _ => null,
    };

    /// <summary>The contact channel of a message signal from the channel the event came through.</summary>
    public static ContactChannel? ContactChannelOf(Channel channel) => channel switch
    {
        Channel.Email => ContactChannel.Email,
        Channel.Sms => ContactChannel.Sms,
        Channel.Push or Channel.App => ContactChannel.Push,
        Channel.WhatsApp => ContactChannel.WhatsApp,
        _ => null,
    };

    /// <inheritdoc />
    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (context.Event)
        {
            case ConsentChanged c:
                await RecordAsync(context, c, cancellationToken).ConfigureAwait(false);
                break;
            case Interaction { InteractionKind: InteractionKind.MessageBounced or InteractionKind.SpamComplaint or InteractionKind.Unsubscribed } i:
                await SignalAsync(context, i, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <inheritdoc />
    public async ValueTask OnMergedAsync(CustomerMerged merge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(merge);
        var context = merge.Context;
        var repo = context.Session.Consent;
        var policy = CompiledConsentPolicy.For(context.Program);
        var at = Max(context.Now, context.Event.OccurredAt);
        var survivorStates = ConsentEngine.Fold(await repo.GetHistoryAsync(merge.Survivor, cancellationToken).ConfigureAwait(false), at, policy.DoubleOptInTimeout);
        var absorbedStates = ConsentEngine.Fold(await repo.GetHistoryAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false), at, policy.DoubleOptInTimeout);
        await repo.MoveAsync(merge.Absorbed, merge.Survivor, cancellationToken).ConfigureAwait(false);
        foreach (var (s, a, resolved) in ConsentEngine.ResolveMerge(survivorStates, absorbedStates))
        {
            await repo.AppendAsync(
                new ConsentRecord
                {
                    RecordId = $"{context.Event.Id.Value}:merge:{merge.Absorbed.Value}:{s.Channel}:{s.Purpose}",
                    Customer = merge.Survivor,
                    Channel = s.Channel,
                    Purpose = s.Purpose,
                    Status = resolved,
                    CapturedAt = at,
                    EffectiveFrom = Max(s.Since, a.Since),
                    Method = ConsentMethod.System,
                    Source = "merge:" + merge.Absorbed.Value,
                    Actor = "system",
                    CausedBy = context.Event.Id,
                },
                cancellationToken).ConfigureAwait(false);
            context.Decide(Capabilities.Consent, "consent_merged", MergeRule, $"{s.Channel}/{s.Purpose}: kept '{Snake(resolved)}', the most restrictive of '{Snake(s.Status)}' and '{Snake(a.Status)}' of {merge.Absorbed}.",
                new Dictionary<string, string>
                {
                    ["channel"] = Snake(s.Channel), ["purpose"] = Snake(s.Purpose), ["survivorStatus"] = Snake(s.Status), ["absorbedStatus"] = Snake(a.Status),
                    ["absorbed"] = merge.Absorbed.Value, ["resolved"] = Snake(resolved),
                });
        }

        // Preferences: the most restrictive of both.
        var sp = await repo.GetPreferencesAsync(merge.Survivor, cancellationToken).ConfigureAwait(false);
        var ap = await repo.GetPreferencesAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
        if (ap is not null)
        {
            var merged = (sp ?? new PreferenceSettings { Customer = merge.Survivor }) with
            {
                TopicsOptedOut = (sp?.TopicsOptedOut ?? []).Union(ap.TopicsOptedOut).Order(StringComparer.Ordinal).ToArray(),
                Frequency = (DesiredFrequency)Math.Max((int)(sp?.Frequency ?? DesiredFrequency.AsItHappens), (int)ap.Frequency),
                PausedUntil = sp?.PausedUntil is { } x && ap.PausedUntil is { } y ? (x > y ? x : y) : sp?.PausedUntil ?? ap.PausedUntil,
                TimeZone = sp?.TimeZone ?? ap.TimeZone,
                Changes = [.. sp?.Changes ?? [], .. ap.Changes, new PreferenceChange("merge", merge.Absorbed.Value, merge.Survivor.Value, at, ConsentMethod.System, "merge", "system")],
            };
            await repo.SavePreferencesAsync(merged, sp?.Version ?? 0, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask RecordAsync(IngestContext context, ConsentChanged c, CancellationToken cancellationToken)
    {
        var errors = new List<ValidationError>();
        if (!Enum.IsDefined(c.ContactChannel))
        {
            errors.Add(new ValidationError("$.contactChannel", ConsentErrorCodes.UnknownChannel, "Unknown contact channel."));
        }

        if (!Enum.IsDefined(c.Purpose))
        {
            errors.Add(new ValidationError("$.purpose", ConsentErrorCodes.UnknownPurpose, "Unknown purpose."));
        }

        if (c.Status is ConsentStatus.Expired || !Enum.IsDefined(c.Status))
        {
            errors.Add(new ValidationError("$.status", ConsentErrorCodes.InvalidStatus, "A consent change is granted, denied, pending or withdrawn; 'expired' is decided by the engine."));
        }

        var method = ParseMethod(c.Source);
        if (method is null)
        {
            errors.Add(new ValidationError("$.source", ConsentErrorCodes.UnknownSource, $"Unknown consent source '{c.Source}': use form, pos, app, import, sms_keyword, staff, preference_center or message_link."));
        }

        if (errors.Count > 0)
        {
            throw new EventValidationException(errors);
        }

        var customer = context.RequireCustomer();
        var repo = context.Session.Consent;
        var policy = CompiledConsentPolicy.For(context.Program);
        var current = ConsentEngine.Fold(await repo.GetHistoryAsync(customer, cancellationToken).ConfigureAwait(false), c.OccurredAt, policy.DoubleOptInTimeout)
            .FirstOrDefault(s => s.Channel == c.ContactChannel && s.Purpose == c.Purpose);
        if (c.Status == ConsentStatus.Withdrawn && current?.Status is not (ConsentStatus.Granted or ConsentStatus.Pending))
        {
            throw new EventValidationException([new ValidationError("$.status", ConsentErrorCodes.WithdrawalWithoutGrant, $"Nothing to withdraw: {c.ContactChannel}/{c.Purpose} was never granted (current: {current?.Status.ToString() ?? "none"}).")]);
        }

        var status = c.Status;
        var rule = RecordRule;
        if (status == ConsentStatus.Granted && c.Purpose == ConsentPurpose.Marketing && policy.RequiresDoubleOptIn(c.ContactChannel) && current?.Status != ConsentStatus.Granted)
        {
            status = ConsentStatus.Pending;
            rule = DoubleOptInRule;
        }

        var record = new ConsentRecord
        {
            RecordId = $"{c.Id.Value}:{Snake(c.ContactChannel)}:{Snake(c.Purpose)}",
            Customer = customer,
            Channel = c.ContactChannel,
            Purpose = c.Purpose,
            Status = status,
            LawfulBasis = c.Purpose == ConsentPurpose.Transactional ? LawfulBasis.Contract : LawfulBasis.Consent,
            CapturedAt = c.OccurredAt,
            EffectiveFrom = c.OccurredAt,
            Method = method!.Value,
            Source = c.Source is null ? $"event:{c.Id.Value}" : $"{c.Source}:{c.Id.Value}",
            Wording = c.WordingVersion is null ? null : new ConsentWording(c.WordingVersion),
            Actor = "customer",
            CausedBy = c.Id,
        };
        await repo.AppendAsync(record, cancellationToken).ConfigureAwait(false);
        context.Decide(
            Capabilities.Consent,
            status == ConsentStatus.Pending && c.Status == ConsentStatus.Granted ? "double_opt_in_started" : "consent_recorded",
            rule,
            status == c.Status
                ? $"{c.ContactChannel}/{c.Purpose}: {Snake(status)} (was {(current is null ? "none" : Snake(current.Status))})."
                : $"{c.ContactChannel}/{c.Purpose}: grant held as pending until the double opt-in is confirmed.",
            new Dictionary<string, string>
            {
                ["channel"] = Snake(c.ContactChannel), ["purpose"] = Snake(c.Purpose), ["requested"] = Snake(c.Status), ["recorded"] = Snake(status),
                ["previous"] = current is null ? "none" : Snake(current.Status), ["source"] = c.Source ?? "form", ["wordingVersion"] = c.WordingVersion ?? "",
            });
    }

    private async ValueTask SignalAsync(IngestContext context, Interaction i, CancellationToken cancellationToken)
    {
        var customer = context.RequireCustomer();
        if (ContactChannelOf(i.Channel) is not { } channel)
        {
            context.Decide(Capabilities.Consent, "signal_ignored", "consent.signal_channel", $"A {Snake(i.InteractionKind)} signal through {i.Channel} names no contact channel; nothing suppressed.",
                new Dictionary<string, string> { ["interactionKind"] = Snake(i.InteractionKind), ["channel"] = i.Channel.ToString() });
            return;
        }

        var repo = context.Session.Consent;
        var policy = CompiledConsentPolicy.For(context.Program);
        var inputs = new Dictionary<string, string> { ["interactionKind"] = Snake(i.InteractionKind), ["channel"] = Snake(channel), ["messageId"] = i.MessageId ?? "" };
        switch (i.InteractionKind)
        {
            case InteractionKind.MessageBounced:
                await SuppressAsync(context, customer, SuppressionList.HardBounce, channel, i, cancellationToken).ConfigureAwait(false);
                context.Decide(Capabilities.Consent, "suppressed", BounceRule, $"{channel} address bounced: on the hard-bounce list (transactional messages too).", inputs);
                break;
            case InteractionKind.SpamComplaint:
                await SuppressAsync(context, customer, SuppressionList.SpamComplaint, channel, i, cancellationToken).ConfigureAwait(false);
                await WithdrawMarketingAsync(repo, policy, customer, channel, i, denyIfNone: false, cancellationToken).ConfigureAwait(false);
                context.Decide(Capabilities.Consent, "suppressed", SpamRule, $"Spam complaint on {channel}: on the spam-complaint list, marketing consent withdrawn.", inputs);
                break;
            default:
                var recorded = await WithdrawMarketingAsync(repo, policy, customer, channel, i, denyIfNone: true, cancellationToken).ConfigureAwait(false);
                context.Decide(Capabilities.Consent, "unsubscribed", UnsubscribeRule, $"Unsubscribed on {channel}: marketing consent {Snake(recorded)}.", inputs);
                break;
        }
    }

    private async ValueTask SuppressAsync(IngestContext context, CustomerId customer, SuppressionList list, ContactChannel channel, Interaction i, CancellationToken cancellationToken)
    {
        var repo = context.Session.Consent;
        await repo.AddSuppressionAsync(new SuppressionEntry { Customer = customer, List = list, Channel = channel, Since = i.OccurredAt, Source = i.Id.Value }, cancellationToken).ConfigureAwait(false);
        foreach (var raw in i.Identifiers)
        {
            var normalized = IdentifierNormalizer.Normalize(raw, context.Program.DefaultRegion).Identifier;
            if (normalized is not null && AddressHasher.ChannelsOf(normalized.Type).Contains(channel))
            {
                await repo.AddAddressSuppressionAsync(new AddressSuppression { AddressHash = hasher.Hash(context.Tenant, normalized), List = list, Channel = channel, Since = i.OccurredAt }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask<ConsentStatus> WithdrawMarketingAsync(
        IConsentRepository repo, CompiledConsentPolicy policy, CustomerId customer, ContactChannel channel, Interaction i, bool denyIfNone, CancellationToken cancellationToken)
    {
        var current = ConsentEngine.Fold(await repo.GetHistoryAsync(customer, cancellationToken).ConfigureAwait(false), i.OccurredAt, policy.DoubleOptInTimeout)
            .FirstOrDefault(s => s.Channel == channel && s.Purpose == ConsentPurpose.Marketing);
        var status = current?.Status is ConsentStatus.Granted or ConsentStatus.Pending ? ConsentStatus.Withdrawn : ConsentStatus.Denied;
        if (status == ConsentStatus.Denied && (!denyIfNone || current?.Status is ConsentStatus.Denied or ConsentStatus.Withdrawn))
        {
            return current?.Status ?? ConsentStatus.Denied;
        }

        await repo.AppendAsync(
            new ConsentRecord
            {
                RecordId = $"{i.Id.Value}:{Snake(channel)}:marketing",
                Customer = customer,
                Channel = channel,
                Purpose = ConsentPurpose.Marketing,
                Status = status,
                CapturedAt = i.OccurredAt,
                EffectiveFrom = i.OccurredAt,
                Method = ConsentMethod.MessageLink,
                Source = $"{Snake(i.InteractionKind)}:{i.MessageId ?? i.Id.Value}",
                Actor = "customer",
                CausedBy = i.Id,
            },
            cancellationToken).ConfigureAwait(false);
        return status;
    }

    private static Instant Max(Instant a, Instant b) => a > b ? a : b;

    internal static string Snake<T>(T value)
        where T : struct, Enum => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
