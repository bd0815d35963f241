using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>
/// The preference center: channel opt-ins and data-sharing choices become consent records (with the source given);
/// topics, frequency, pause and time zone are kept as preferences with an append-only change log.
/// </summary>
public sealed class PreferenceCenter(ILoyaltyStore store, IProgramProvider programs, IClock clock, IOptions<ConsentOptions> options) : IPreferenceCenter
{
    private static readonly (string Key, ConsentPurpose Purpose)[] DataSharing =
    [
        ("thirdPartySharing", ConsentPurpose.ThirdPartySharing), ("profiling", ConsentPurpose.Profiling), ("personalization", ConsentPurpose.Personalization),
    ];

    private readonly ILoyaltyStore store = store ?? throw new ArgumentNullException(nameof(store));
    private readonly IProgramProvider programs = programs ?? throw new ArgumentNullException(nameof(programs));
    private readonly IClock clock = clock ?? throw new ArgumentNullException(nameof(clock));
    private readonly ConsentOptions options = (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <inheritdoc />
    public async ValueTask<PreferenceCenterView> GetAsync(TenantId tenant, CustomerId customer, Instant at, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        return await ViewAsync(session, programs.GetProgram(tenant), customer, at, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<PreferenceCenterView> UpdateAsync(PreferenceUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        var program = programs.GetProgram(update.Tenant);
        var policy = CompiledConsentPolicy.For(program);
        var now = clock.GetCurrentInstant();
        var errors = new List<ValidationError>();
        if (update.At > now + options.MaxFutureSkew)
        {
            errors.Add(new ValidationError("$.at", ConsentErrorCodes.FutureDated, $"{update.At} is after now ({now})."));
        }

        foreach (var c in update.Channels?.Keys ?? [])
        {
            if (!Enum.IsDefined(c))
            {
                errors.Add(new ValidationError($"$.channels.{(int)c}", ConsentErrorCodes.UnknownChannel, $"Unknown contact channel {(int)c}."));
            }
        }

        foreach (var t in update.Topics?.Keys ?? [])
        {
            if (!policy.Source.Topics.Any(x => x.Id == t))
            {
                errors.Add(new ValidationError($"$.topics.{t}", ConsentErrorCodes.UnknownTopic, $"Topic '{t}' is not in the program's consent policy."));
            }
        }

        if (update.TimeZone is not null && DateTimeZoneProviders.Tzdb.GetZoneOrNull(update.TimeZone) is null)
        {
            errors.Add(new ValidationError("$.timeZone", ConsentErrorCodes.InvalidTimeZone, $"'{update.TimeZone}' is not an IANA time zone id."));
        }

        if (update.Frequency is { } f && !Enum.IsDefined(f))
        {
            errors.Add(new ValidationError("$.frequency", ConsentErrorCodes.InvalidValue, "Unknown frequency."));
        }

        if (errors.Count > 0)
        {
            throw new ConsentValidationException(errors);
        }

        var session = await store.OpenSessionAsync(update.Tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await ContactStateLoader.RequireIdentityAsync(session, update.Customer, cancellationToken).ConfigureAwait(false);
        var customer = identity.Customer;
        var repo = session.Consent;
        var states = ConsentEngine.Fold(await repo.GetHistoryAsync(customer, cancellationToken).ConfigureAwait(false), update.At, policy.DoubleOptInTimeout);
        var changes = new List<string>();

        async ValueTask RecordAsync(ContactChannel channel, ConsentPurpose purpose, bool on)
        {
            var current = states.FirstOrDefault(s => s.Channel == channel && s.Purpose == purpose)?.Status;
            var status = on
                ? (purpose == ConsentPurpose.Marketing && policy.RequiresDoubleOptIn(channel) && current != ConsentStatus.Granted && update.Evidence?.DoubleOptInConfirmedAt is null ? ConsentStatus.Pending : ConsentStatus.Granted)
                : current is ConsentStatus.Granted or ConsentStatus.Pending ? ConsentStatus.Withdrawn : ConsentStatus.Denied;
            if (current == status)
            {
                return;
            }

            await repo.AppendAsync(
                new ConsentRecord
                {
                    RecordId = $"pc_{Guid.NewGuid():N}",
                    Customer = customer,
                    Channel = channel,
                    Purpose = purpose,
                    Status = status,
                    CapturedAt = update.At,
                    EffectiveFrom = update.At,
                    Method = update.Method,
                    Source = update.Source ?? "preference_center",
                    Wording = update.Wording,
                    Evidence = update.Evidence,
                    Actor = update.Actor,
                },
                cancellationToken).ConfigureAwait(false);
            changes.Add($"{ConsentStage.Snake(channel)}/{ConsentStage.Snake(purpose)}={ConsentStage.Snake(status)}");
        }

        foreach (var (channel, on) in update.Channels ?? new Dictionary<ContactChannel, bool>())
        {
            await RecordAsync(channel, ConsentPurpose.Marketing, on).ConfigureAwait(false);
        }

        foreach (var (key, purpose) in DataSharing)
        {
            var choice = key switch { "thirdPartySharing" => update.ThirdPartySharing, "profiling" => update.Profiling, _ => update.Personalization };
            if (choice is { } on)
            {
                // Data-sharing choices are not about a channel: they are recorded for every channel.
                foreach (var channel in Enum.GetValues<ContactChannel>())
                {
                    await RecordAsync(channel, purpose, on).ConfigureAwait(false);
                }
            }
        }

        var stored = await repo.GetPreferencesAsync(customer, cancellationToken).ConfigureAwait(false);
        var prefs = stored ?? new PreferenceSettings { Customer = customer };
        var log = new List<PreferenceChange>(prefs.Changes);
        void Change(string field, string? from, string? to)
        {
            if (from != to)
            {
                log.Add(new PreferenceChange(field, from, to, update.At, update.Method, update.Source ?? "preference_center", update.Actor));
                changes.Add($"{field}={to}");
            }
        }

        var opted = prefs.TopicsOptedOut.ToHashSet(StringComparer.Ordinal);
        foreach (var (topic, subscribed) in update.Topics ?? new Dictionary<string, bool>())
        {
            Change("topics." + topic, opted.Contains(topic) ? "unsubscribed" : "subscribed", subscribed ? "subscribed" : "unsubscribed");
            if (subscribed)
            {
                opted.Remove(topic);
            }
            else
            {
                opted.Add(topic);
            }
        }

        var frequency = update.Frequency ?? prefs.Frequency;
        Change("frequency", ConsentStage.Snake(prefs.Frequency), ConsentStage.Snake(frequency));
        var paused = update.Resume ? null : update.PauseUntil ?? prefs.PausedUntil;
        Change("pausedUntil", prefs.PausedUntil?.ToString("uuuu-MM-dd", null), paused?.ToString("uuuu-MM-dd", null));
        var zone = update.TimeZone ?? prefs.TimeZone;
        Change("timeZone", prefs.TimeZone, zone);
        if (log.Count != prefs.Changes.Count)
        {
            await repo.SavePreferencesAsync(
                prefs with { TopicsOptedOut = opted.Order(StringComparer.Ordinal).ToArray(), Frequency = frequency, PausedUntil = paused, TimeZone = zone, Changes = log },
                stored?.Version ?? 0,
                cancellationToken).ConfigureAwait(false);
        }

        if (update.UnsubscribeFromAll is { } all)
        {
            var suppressed = (await repo.GetSuppressionsAsync(customer, cancellationToken).ConfigureAwait(false)).Any(s => s.List == SuppressionList.UnsubscribedAll);
            if (all && !suppressed)
            {
                await repo.AddSuppressionAsync(new SuppressionEntry { Customer = customer, List = SuppressionList.UnsubscribedAll, Since = update.At, Source = update.Source ?? "preference_center" }, cancellationToken).ConfigureAwait(false);
                changes.Add("unsubscribedFromAll=true");
            }
            else if (!all && suppressed)
            {
                await repo.RemoveSuppressionAsync(customer, SuppressionList.UnsubscribedAll, null, cancellationToken).ConfigureAwait(false);
                changes.Add("unsubscribedFromAll=false");
            }
        }

        if (changes.Count > 0)
        {
            await session.Decisions.AppendAsync(
                [new Decision
                {
                    Capability = Capabilities.Consent, Action = "preferences_changed", Rule = "consent.preference_center", RuleVersion = program.Version,
                    Summary = $"Preference center: {string.Join(", ", changes)}.", Customer = customer, DecidedAt = now,
                    CausedBy = new EventId($"preferences:{Guid.NewGuid():N}"),
                    Inputs = new Dictionary<string, string> { ["changes"] = string.Join(";", changes), ["method"] = ConsentStage.Snake(update.Method), ["source"] = update.Source ?? "preference_center", ["actor"] = update.Actor },
                }],
                cancellationToken).ConfigureAwait(false);
        }

        var view = await ViewAsync(session, program, customer, update.At, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return view;
    }

    private static async ValueTask<PreferenceCenterView> ViewAsync(ILoyaltyStoreSession session, LoyaltyProgram program, CustomerId customer, Instant at, CancellationToken cancellationToken)
    {
        var policy = CompiledConsentPolicy.For(program);
        var identity = await ContactStateLoader.RequireIdentityAsync(session, customer, cancellationToken).ConfigureAwait(false);
        var profile = await session.Profiles.GetAsync(identity.Customer, cancellationToken).ConfigureAwait(false);
        var repo = session.Consent;
        var states = ConsentEngine.Fold(await repo.GetHistoryAsync(identity.Customer, cancellationToken).ConfigureAwait(false), at, policy.DoubleOptInTimeout);
        var prefs = await repo.GetPreferencesAsync(identity.Customer, cancellationToken).ConfigureAwait(false);
        var suppressions = await repo.GetSuppressionsAsync(identity.Customer, cancellationToken).ConfigureAwait(false);
        var reachable = identity.Links.SelectMany(l => AddressHasher.ChannelsOf(l.Identifier.Type)).ToHashSet();
        if (profile?.Address is { Line1: not null, PostalCode: not null })
        {
            reachable.Add(ContactChannel.Postal);
        }

        var (zone, _) = ContactStateLoader.ZoneOf(prefs, profile, identity, policy);
        return new PreferenceCenterView
        {
            Customer = identity.Customer,
            Channels = Enum.GetValues<ContactChannel>().Select(c => new ChannelPreference(
                c,
                reachable.Contains(c),
                states.FirstOrDefault(s => s.Channel == c && s.Purpose == ConsentPurpose.Marketing)?.Status,
                suppressions.Where(s => s.Channel is null || s.Channel == c).Select(s => s.List).Distinct().ToArray())).ToArray(),
            Topics = policy.Source.Topics.Select(t => new TopicPreference(t.Id, t.Name, prefs?.TopicsOptedOut.Contains(t.Id) != true)).ToArray(),
            Frequency = prefs?.Frequency ?? DesiredFrequency.AsItHappens,
            PausedUntil = prefs?.PausedUntil,
            UnsubscribedFromAll = suppressions.Any(s => s.List == SuppressionList.UnsubscribedAll),
            DataSharing = DataSharing.ToDictionary(
                d => d.Key,
                d => states.Any(s => s.Purpose == d.Purpose && s.Status == ConsentStatus.Granted) && !states.Any(s => s.Purpose == d.Purpose && s.Status != ConsentStatus.Granted),
                StringComparer.Ordinal),
            TimeZone = zone.Id,
        };
    }
}
