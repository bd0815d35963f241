using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>The consent host API over the store: records, double opt-in, the send gate with atomic reservation,
/// suppressions and the saturation view.</summary>
public sealed class ConsentService(ILoyaltyStore store, IProgramProvider programs, IClock clock, AddressHasher hasher, IOptions<ConsentOptions> options) : IConsentService
{
    /// <summary>Rule name of gate decisions in the trail (<c>consent.gate</c>).</summary>
    public const string GateRule = "consent.gate";

    private readonly ILoyaltyStore store = store ?? throw new ArgumentNullException(nameof(store));
    private readonly IProgramProvider programs = programs ?? throw new ArgumentNullException(nameof(programs));
    private readonly IClock clock = clock ?? throw new ArgumentNullException(nameof(clock));
    private readonly AddressHasher hasher = hasher ?? throw new ArgumentNullException(nameof(hasher));
    private readonly ConsentOptions options = (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <inheritdoc />
    public async ValueTask<ConsentRecord> RecordAsync(ConsentRecordRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = clock.GetCurrentInstant();
        var errors = new List<ValidationError>();
        if (!Enum.IsDefined(request.Channel))
        {
            errors.Add(new ValidationError("$.channel", ConsentErrorCodes.UnknownChannel, $"Unknown contact channel {(int)request.Channel}."));
        }

        if (!Enum.IsDefined(request.Purpose))
        {
            errors.Add(new ValidationError("$.purpose", ConsentErrorCodes.UnknownPurpose, $"Unknown purpose {(int)request.Purpose}."));
        }

        if (request.Status == ConsentStatus.Expired || !Enum.IsDefined(request.Status))
        {
            errors.Add(new ValidationError("$.status", ConsentErrorCodes.InvalidStatus, "Record granted, denied, pending or withdrawn; 'expired' is decided by the engine."));
        }

        if (!Enum.IsDefined(request.Method) || !Enum.IsDefined(request.LawfulBasis))
        {
            errors.Add(new ValidationError("$.method", ConsentErrorCodes.InvalidValue, "Unknown capture method or lawful basis."));
        }

        var effective = request.EffectiveFrom ?? request.CapturedAt;
        if (request.CapturedAt > now + options.MaxFutureSkew)
        {
            errors.Add(new ValidationError("$.capturedAt", ConsentErrorCodes.FutureDated, $"Captured at {request.CapturedAt}, after now ({now})."));
        }

        if (effective > now + options.MaxFutureSkew)
        {
            errors.Add(new ValidationError("$.effectiveFrom", ConsentErrorCodes.FutureDated, $"Effective from {effective}, after now ({now})."));
        }

        if (request.ExpiresAt is { } expires && expires <= effective)
        {
            errors.Add(new ValidationError("$.expiresAt", ConsentErrorCodes.InvalidValue, "A consent must expire after it takes effect."));
        }

        if (string.IsNullOrWhiteSpace(request.Actor))
        {
            errors.Add(new ValidationError("$.actor", "required", "Say who records the choice."));
        }

        if (errors.Count > 0)
        {
            throw new ConsentValidationException(errors);
        }

        var program = programs.GetProgram(request.Tenant);
        var policy = CompiledConsentPolicy.For(program);
        var session = await store.OpenSessionAsync(request.Tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await ContactStateLoader.RequireIdentityAsync(session, request.Customer, cancellationToken).ConfigureAwait(false);
        var customer = identity.Customer;
        var current = ConsentEngine.Fold(await session.Consent.GetHistoryAsync(customer, cancellationToken).ConfigureAwait(false), effective, policy.DoubleOptInTimeout)
            .FirstOrDefault(s => s.Channel == request.Channel && s.Purpose == request.Purpose);
        if (request.Status == ConsentStatus.Withdrawn && current?.Status is not (ConsentStatus.Granted or ConsentStatus.Pending))
        {
            throw ConsentValidationException.For("$.status", ConsentErrorCodes.WithdrawalWithoutGrant, $"Nothing to withdraw: {request.Channel}/{request.Purpose} was never granted (current: {current?.Status.ToString() ?? "none"}).");
        }

        var status = request.Status;
        if (status == ConsentStatus.Granted && request.Purpose == ConsentPurpose.Marketing && policy.RequiresDoubleOptIn(request.Channel)
            && request.Evidence?.DoubleOptInConfirmedAt is null && current?.Status != ConsentStatus.Granted)
        {
            status = ConsentStatus.Pending;
        }

        var record = new ConsentRecord
        {
            RecordId = NewRecordId(customer, request.Channel, request.Purpose, request.CapturedAt),
            Customer = customer,
            Channel = request.Channel,
            Purpose = request.Purpose,
            Status = status,
            LawfulBasis = request.LawfulBasis,
            CapturedAt = request.CapturedAt,
            EffectiveFrom = effective,
            ExpiresAt = request.ExpiresAt,
            Method = request.Method,
            Source = request.Source,
            Wording = request.Wording,
            Evidence = request.Evidence,
            Actor = request.Actor,
        };
        await session.Consent.AppendAsync(record, cancellationToken).ConfigureAwait(false);
        await session.Decisions.AppendAsync(
            [Trail(program, customer, "consent:" + record.RecordId, now, "consent_recorded", ConsentStage.RecordRule,
                $"{request.Channel}/{request.Purpose}: {ConsentStage.Snake(status)} by {request.Actor} ({ConsentStage.Snake(request.Method)}).",
                new Dictionary<string, string>
                {
                    ["channel"] = ConsentStage.Snake(request.Channel), ["purpose"] = ConsentStage.Snake(request.Purpose), ["requested"] = ConsentStage.Snake(request.Status),
                    ["recorded"] = ConsentStage.Snake(status), ["previous"] = current is null ? "none" : ConsentStage.Snake(current.Status),
                    ["method"] = ConsentStage.Snake(request.Method), ["lawfulBasis"] = ConsentStage.Snake(request.LawfulBasis), ["wordingVersion"] = request.Wording?.Version ?? "",
                })],
            cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return record;
    }

    /// <inheritdoc />
    public async ValueTask<ConsentRecord> ConfirmDoubleOptInAsync(TenantId tenant, CustomerId customer, ContactChannel channel, ConsentPurpose purpose, string token, Instant confirmedAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        var now = clock.GetCurrentInstant();
        if (confirmedAt > now + options.MaxFutureSkew)
        {
            throw ConsentValidationException.For("$.confirmedAt", ConsentErrorCodes.FutureDated, $"Confirmed at {confirmedAt}, after now ({now}).");
        }

        var program = programs.GetProgram(tenant);
        var policy = CompiledConsentPolicy.For(program);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await ContactStateLoader.RequireIdentityAsync(session, customer, cancellationToken).ConfigureAwait(false);
        var history = await session.Consent.GetHistoryAsync(identity.Customer, cancellationToken).ConfigureAwait(false);
        var pending = history.LastOrDefault(r => r.Channel == channel && r.Purpose == purpose);
        if (pending is not { Status: ConsentStatus.Pending } || !string.Equals(pending.Evidence?.DoubleOptInToken, token, StringComparison.Ordinal))
        {
            throw ConsentValidationException.For("$.token", ConsentErrorCodes.NoPendingDoubleOptIn, $"No pending double opt-in for {channel}/{purpose} with this token.");
        }

        var deadline = (pending.Evidence?.DoubleOptInSentAt ?? pending.CapturedAt) + policy.DoubleOptInTimeout;
        if (confirmedAt >= deadline)
        {
            throw ConsentValidationException.For("$.confirmedAt", ConsentErrorCodes.DoubleOptInExpired, $"The double opt-in expired at {deadline}; ask again.");
        }

        var record = pending with
        {
            RecordId = NewRecordId(identity.Customer, channel, purpose, confirmedAt),
            Status = ConsentStatus.Granted,
            CapturedAt = confirmedAt,
            EffectiveFrom = confirmedAt,
            Evidence = (pending.Evidence ?? new ConsentEvidence()) with { DoubleOptInConfirmedAt = confirmedAt },
            Actor = "customer",
            Source = "double_opt_in:" + pending.RecordId,
            Sequence = 0,
        };
        await session.Consent.AppendAsync(record, cancellationToken).ConfigureAwait(false);
        await session.Decisions.AppendAsync(
            [Trail(program, identity.Customer, "consent:" + record.RecordId, now, "double_opt_in_confirmed", ConsentStage.DoubleOptInRule, $"{channel}/{purpose}: double opt-in confirmed, consent granted.",
                new Dictionary<string, string> { ["channel"] = ConsentStage.Snake(channel), ["purpose"] = ConsentStage.Snake(purpose), ["pendingRecord"] = pending.RecordId, ["deadline"] = deadline.ToString() })],
            cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return record;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ConsentRecord>> GetHistoryAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await ContactStateLoader.RequireIdentityAsync(session, customer, cancellationToken).ConfigureAwait(false);
        return await session.Consent.GetHistoryAsync(identity.Customer, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ConsentState>> GetStatesAsync(TenantId tenant, CustomerId customer, Instant at, CancellationToken cancellationToken = default)
    {
        var policy = CompiledConsentPolicy.For(programs.GetProgram(tenant));
        return ConsentEngine.Fold(await GetHistoryAsync(tenant, customer, cancellationToken).ConfigureAwait(false), at, policy.DoubleOptInTimeout);
    }

    /// <inheritdoc />
    public async ValueTask<SendDecision> CheckAsync(SendCheck check, CancellationToken cancellationToken = default) =>
        (await GateAsync(check, reserve: false, cancellationToken).ConfigureAwait(false)).Decision;

    /// <inheritdoc />
    public ValueTask<SendReservation> TryReserveSendAsync(SendCheck check, CancellationToken cancellationToken = default) =>
        GateAsync(check, reserve: true, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<bool> ReleaseSendAsync(TenantId tenant, CustomerId customer, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await ContactStateLoader.RequireIdentityAsync(session, customer, cancellationToken).ConfigureAwait(false);
        return await session.Consent.RemoveSendAsync(identity.Customer, messageId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask SuppressAsync(TenantId tenant, CustomerId customer, SuppressionList list, ContactChannel? channel, Instant at, string actor, CancellationToken cancellationToken = default) =>
        ChangeSuppressionAsync(tenant, customer, list, channel, at, actor, add: true, cancellationToken);

    /// <inheritdoc />
    public ValueTask LiftSuppressionAsync(TenantId tenant, CustomerId customer, SuppressionList list, ContactChannel? channel, Instant at, string actor, CancellationToken cancellationToken = default) =>
        ChangeSuppressionAsync(tenant, customer, list, channel, at, actor, add: false, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<SaturationView> GetSaturationAsync(TenantId tenant, Instant from, Instant to, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var sends = await session.Consent.ListSendsAsync(from, to, cancellationToken).ConfigureAwait(false);
        var weeks = sends.GroupBy(s => WeekOf(s.SentAt)).OrderBy(g => g.Key).Select(g =>
        {
            var perCustomer = g.GroupBy(s => s.Customer).Select(c => c.Count()).ToArray();
            return new WeeklySaturation(g.Key, g.Count(), perCustomer.Length, Math.Round(perCustomer.Average(), 3), perCustomer.Max());
        }).ToArray();
        var outcomes = await session.Consent.ListOutcomesAsync(WeekOf(from), WeekOf(to).PlusDays(7), cancellationToken).ConfigureAwait(false);
        Dictionary<string, long> By(SendVerdict verdict) => outcomes.Where(o => o.Verdict == verdict)
            .GroupBy(o => ConsentStage.Snake(o.Reason)).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(o => o.Count), StringComparer.Ordinal);
        return new SaturationView { From = from, To = to, Weeks = weeks, DeferredByReason = By(SendVerdict.Defer), SkippedByReason = By(SendVerdict.Skip) };
    }

    /// <summary>Monday (UTC) of the ISO week of <paramref name="at"/>.</summary>
    public static LocalDate WeekOf(Instant at)
    {
        var date = at.InUtc().Date;
        return date.PlusDays(1 - (int)date.DayOfWeek);
    }

    private async ValueTask<SendReservation> GateAsync(SendCheck check, bool reserve, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(check);
        var program = programs.GetProgram(check.Tenant);
        var policy = CompiledConsentPolicy.For(program);
        var messageId = check.MessageId;
        if (reserve && string.IsNullOrEmpty(messageId))
        {
            throw ConsentValidationException.For("$.messageId", "required", "A reservation needs a message id (it makes retries idempotent).");
        }

        var unknownTag = check.Tags.FirstOrDefault(t => !policy.TagBits.ContainsKey(t));
        if (unknownTag is not null)
        {
            throw ConsentValidationException.For("$.tags", ConsentErrorCodes.InvalidValue, $"Tag '{unknownTag}' is not declared in the consent policy.");
        }

        for (var attempt = 0; ; attempt++)
        {
            var session = await store.OpenSessionAsync(check.Tenant, cancellationToken).ConfigureAwait(false);
            await using var scope = session.ConfigureAwait(false);
            var identity = await ContactStateLoader.RequireIdentityAsync(session, check.Customer, cancellationToken).ConfigureAwait(false);
            var state = await ContactStateLoader.LoadAsync(session, policy, hasher, identity, check.At, cancellationToken).ConfigureAwait(false);
            var decision = SendGateEngine.Decide(state, policy, check.Channel, check.Purpose, check.MessageClass, check.At, policy.MaskOf(check.Tags));
            if (reserve && state.HasSent(messageId!))
            {
                return new SendReservation(decision with { Verdict = SendVerdict.Send, DeferUntil = null, Reasons = [new SendReason { Code = SendReasonCode.ConsentGranted }] }, true);
            }

            var reserved = false;
            if (reserve && decision.Verdict == SendVerdict.Send)
            {
                var cls = policy.Classes[check.MessageClass];
                var send = new SendRecord
                {
                    MessageId = messageId!,
                    Customer = identity.Customer,
                    Channel = check.Channel,
                    MessageClass = check.MessageClass,
                    Tags = cls.Definition.Tags.Concat(check.Tags).Distinct(StringComparer.Ordinal).ToArray(),
                    SentAt = check.At,
                    CountsTowardCaps = !cls.Transactional,
                };
                if (!await session.Consent.TryAppendSendAsync(send, state.SendLogVersion, cancellationToken).ConfigureAwait(false))
                {
                    if (attempt >= 16)
                    {
                        throw new ConcurrencyConflictException($"Could not reserve a send slot for {identity.Customer} after {attempt + 1} attempts.");
                    }

                    continue; // another dispatcher changed the log: read it again and decide again
                }

                reserved = true;
            }

            await session.Consent.CountOutcomeAsync(WeekOf(check.At), decision.Verdict, decision.Reasons[0].Code, cancellationToken).ConfigureAwait(false);
            if (options.RecordGateDecisions)
            {
                await session.Decisions.AppendAsync([GateTrail(program, decision, state, messageId, reserved)], cancellationToken).ConfigureAwait(false);
            }

            await session.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new SendReservation(decision, reserved);
        }
    }

    private async ValueTask ChangeSuppressionAsync(TenantId tenant, CustomerId customer, SuppressionList list, ContactChannel? channel, Instant at, string actor, bool add, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (!Enum.IsDefined(list))
        {
            throw ConsentValidationException.For("$.list", ConsentErrorCodes.InvalidValue, "Unknown suppression list.");
        }

        if (channel is { } c && !Enum.IsDefined(c))
        {
            throw ConsentValidationException.For("$.channel", ConsentErrorCodes.UnknownChannel, $"Unknown contact channel {(int)c}.");
        }

        var now = clock.GetCurrentInstant();
        if (at > now + options.MaxFutureSkew)
        {
            throw ConsentValidationException.For("$.at", ConsentErrorCodes.FutureDated, $"{at} is after now ({now}).");
        }

        var program = programs.GetProgram(tenant);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await ContactStateLoader.RequireIdentityAsync(session, customer, cancellationToken).ConfigureAwait(false);
        if (add)
        {
            await session.Consent.AddSuppressionAsync(new SuppressionEntry { Customer = identity.Customer, List = list, Channel = channel, Since = at, Source = "staff:" + actor }, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await session.Consent.RemoveSuppressionAsync(identity.Customer, list, channel, cancellationToken).ConfigureAwait(false);
        }

        var what = channel is null ? "all channels" : channel.ToString();
        await session.Decisions.AppendAsync(
            [Trail(program, identity.Customer, $"suppression:{Guid.NewGuid():N}", now, add ? "suppressed" : "suppression_lifted", "consent.suppression",
                $"{(add ? "Put on" : "Taken off")} the {ConsentStage.Snake(list)} list for {what} by {actor}.",
                new Dictionary<string, string> { ["list"] = ConsentStage.Snake(list), ["channel"] = channel is { } x ? ConsentStage.Snake(x) : "all", ["actor"] = actor, ["at"] = at.ToString() })],
            cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Decision GateTrail(LoyaltyProgram program, SendDecision d, ContactState state, string? messageId, bool reserved)
    {
        var local = d.At.InZone(state.Zone).LocalDateTime;
        var inputs = new Dictionary<string, string>
        {
            ["channel"] = ConsentStage.Snake(d.Channel),
            ["purpose"] = ConsentStage.Snake(d.Purpose),
            ["messageClass"] = d.MessageClass,
            ["messageId"] = messageId ?? "",
            ["at"] = d.At.ToString(),
            ["localTime"] = local.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture),
            ["timeZone"] = d.TimeZone,
            ["timeZoneSource"] = ConsentStage.Snake(d.TimeZoneSource),
            ["reasons"] = string.Join(",", d.Reasons.Select(r => ConsentStage.Snake(r.Code))),
            ["sendsCounted"] = state.Sends.Length.ToString(CultureInfo.InvariantCulture),
            ["reserved"] = reserved ? "true" : "false",
        };
        for (var i = 0; i < d.Reasons.Count; i++)
        {
            var r = d.Reasons[i];
            var detail = string.Join(";", new[]
            {
                r.List is { } l ? "list=" + ConsentStage.Snake(l) : null,
                r.Rule is { } rule ? "rule=" + rule : null,
                r.Count is { } n ? $"count={n}/{r.Max}" : null,
                r.Until is { } u ? "until=" + u : null,
                r.LocalUntil is { } lu ? "localUntil=" + lu.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture) : null,
                r.Status is { } s ? "status=" + ConsentStage.Snake(s) : null,
            }.Where(x => x is not null));
            if (detail.Length > 0)
            {
                inputs[$"reason{i}"] = $"{ConsentStage.Snake(r.Code)}:{detail}";
            }
        }

        if (d.DeferUntil is { } until)
        {
            inputs["deferUntil"] = until.ToString();
        }

        var summary = d.Verdict switch
        {
            SendVerdict.Send => $"Send {d.MessageClass} by {d.Channel}: {d.Reasons[0].Message}",
            SendVerdict.Defer => $"Defer {d.MessageClass} by {d.Channel} until {d.DeferUntil}: {string.Join(" ", d.Reasons.Select(r => r.Message))}",
            _ => $"Skip {d.MessageClass} by {d.Channel}: {string.Join(" ", d.Reasons.Select(r => r.Message))}",
        };
        return Trail(program, d.Customer, "gate:" + (messageId ?? d.At.ToUnixTimeTicks().ToString(CultureInfo.InvariantCulture)), d.At,
            ConsentStage.Snake(d.Verdict), $"{GateRule}.{ConsentStage.Snake(d.Reasons[0].Code)}", summary, inputs);
    }

    private static Decision Trail(LoyaltyProgram program, CustomerId customer, string cause, Instant at, string action, string rule, string summary, Dictionary<string, string> inputs) => new()
    {
        Capability = Capabilities.Consent,
        Action = action,
        Rule = rule,
        RuleVersion = program.Version,
        Summary = summary,
        Inputs = inputs,
        Customer = customer,
        CausedBy = new EventId(EventId.IsValid(cause) ? cause : cause[..cause.IndexOf(':', StringComparison.Ordinal)] + ":" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(cause)))[..32]),
        DecidedAt = at,
    };

    private static string NewRecordId(CustomerId customer, ContactChannel channel, ConsentPurpose purpose, Instant at) =>
        $"cr_{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{customer.Value}\n{channel}\n{purpose}\n{at.ToUnixTimeTicks()}\n{Guid.NewGuid():N}")))[..24]}";
}
