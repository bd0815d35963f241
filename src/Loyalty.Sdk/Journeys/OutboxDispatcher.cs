using System.Globalization;
using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>Delivers messages of one channel; the host implements one per channel it supports.</summary>
public interface IChannelSender
{
    /// <summary>The channel.</summary>
    ContactChannel Channel { get; }

    /// <summary>Delivers a message. Must be idempotent by <see cref="OutboxMessage.Key"/> (delivery is at least once).</summary>
    ValueTask<DeliveryResult> SendAsync(OutboxMessage message, ContactChannel channel, CancellationToken cancellationToken = default);
}

/// <summary>Performs host actions (<c>alert_staff</c>, <c>call_handler</c>); the name is the message's template.</summary>
public interface IJourneyActionHandler
{
    /// <summary>The handler's name.</summary>
    string Name { get; }

    /// <summary>Performs the action; must be idempotent by key.</summary>
    ValueTask<DeliveryResult> HandleAsync(OutboxMessage message, CancellationToken cancellationToken = default);
}

/// <summary>The result of one delivery attempt.</summary>
/// <param name="Success">Delivered.</param>
/// <param name="Permanent">A failure not worth retrying.</param>
/// <param name="Error">What went wrong.</param>
public sealed record DeliveryResult(bool Success, bool Permanent = false, string? Error = null)
{
    /// <summary>Delivered.</summary>
    public static DeliveryResult Delivered { get; } = new(true);
}

/// <summary>Claims due outbox messages, passes messages through the consent send gate, delivers and completes them.</summary>
public interface IOutboxDispatcher
{
    /// <summary>Dispatches everything due at <paramref name="now"/> (in batches). Time moves on during a run: each
    /// batch is claimed, and each message checked against the send gate and its lease, at the engine clock's current
    /// instant (never earlier than <paramref name="now"/>), so a long run does not act on a lease that ran out.</summary>
    ValueTask<DispatchResult> DispatchDueAsync(Instant now, CancellationToken cancellationToken = default);
}

/// <summary>What one dispatch did.</summary>
/// <param name="Sent">Delivered messages and actions.</param>
/// <param name="Deferred">Held by the send gate until later.</param>
/// <param name="Skipped">Refused by the send gate, or given up.</param>
/// <param name="Failed">Failed attempts that will be retried.</param>
public sealed record DispatchResult(int Sent, int Deferred, int Skipped, int Failed);

/// <summary>The default dispatcher: at-least-once delivery with dedupe by key (senders get the key), failures isolated
/// per message, retries with exponential backoff; every message action asks the consent gate at dispatch time.</summary>
internal sealed class OutboxDispatcher(
    ILoyaltyStore store,
    IProgramProvider programs,
    IClock clock,
    JourneyOptions options,
    IEnumerable<IChannelSender> senders,
    IEnumerable<IJourneyActionHandler> handlers,
    IConsentService? consent = null,
    ILedgerService? ledger = null) : IOutboxDispatcher
{
    private static readonly ContactChannel[] BestOrder = [ContactChannel.Email, ContactChannel.Push, ContactChannel.Sms, ContactChannel.WhatsApp];
    private readonly Dictionary<ContactChannel, IChannelSender> byChannel = senders.GroupBy(s => s.Channel).ToDictionary(g => g.Key, g => g.Last());
    private readonly Dictionary<string, IJourneyActionHandler> byName = handlers.GroupBy(h => h.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
    private readonly string owner = "dispatcher-" + Guid.NewGuid().ToString("N");

    public async ValueTask<DispatchResult> DispatchDueAsync(Instant now, CancellationToken cancellationToken = default)
    {
        int sent = 0, deferred = 0, skipped = 0, failed = 0;
        var lease = options.DispatchLease;
        Instant Now()
        {
            var current = clock.GetCurrentInstant();
            return current > now ? current : now;
        }

        for (var round = 0; round < 1000; round++)
        {
            var claims = await store.Outbox.ClaimDueAsync(Now(), Math.Max(1, options.DispatchBatchSize), lease, owner, cancellationToken).ConfigureAwait(false);
            if (claims.Count == 0)
            {
                break;
            }

            var counts = new Dictionary<(TenantId, string, string), long>();
            var local = new List<string>();
            foreach (var claim in claims)
            {
                var m = claim.Message;
                var journey = m.Variables.GetValueOrDefault(JourneyVariables.Journey) ?? "(none)";
                void Count(string counter) => counts[(m.Tenant, journey, counter)] = counts.GetValueOrDefault((m.Tenant, journey, counter)) + 1;
                var at = Now();
                if (at >= claim.LeaseUntil)
                {
                    // This run took longer than the lease: another node may hold the message now. Leave it alone; it
                    // is claimed again (here or there) once the lease is over.
                    Count("lease_expired");
                    continue;
                }

                Outcome outcome;
                try
                {
                    outcome = await DeliverAsync(m, at, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    outcome = new Outcome(Kind.Failed, null, ex.GetType().Name, null);
                }

                // The counters of this message: with its completion when it completes (one unit of work), else
                // with the batch's.
                local.Clear();
                if (outcome.Choice is { } choice)
                {
                    local.Add("best_channel." + choice);
                }

                try
                {
                    switch (outcome.Kind)
                    {
                        case Kind.Sent:
                            local.Add("sent");
                            if (outcome.Channel is { } c)
                            {
                                local.Add("sent." + c.ToString().ToLowerInvariant());
                            }

                            if (await CompleteAsync(m, journey, local, outcome.Channel, cancellationToken).ConfigureAwait(false))
                            {
                                sent++;
                            }
                            else
                            {
                                Count("lease_lost");
                            }

                            continue;
                        case Kind.Deferred:
                            await store.Outbox.RetryAsync(m.Tenant, m.Key, owner, outcome.Until ?? at + Duration.FromHours(1), cancellationToken).ConfigureAwait(false);
                            deferred++;
                            local.Add("deferred");
                            break;
                        case Kind.Skipped:
                            local.Add("skipped." + outcome.Reason);
                            if (await CompleteAsync(m, journey, local, null, cancellationToken).ConfigureAwait(false))
                            {
                                skipped++;
                            }
                            else
                            {
                                Count("lease_lost");
                            }

                            continue;
                        default:
                            if (outcome.Permanent || m.Attempts >= options.MaxAttempts)
                            {
                                local.Add("skipped.failed");
                                if (await CompleteAsync(m, journey, local, null, cancellationToken).ConfigureAwait(false))
                                {
                                    skipped++;
                                }
                                else
                                {
                                    Count("lease_lost");
                                }

                                continue;
                            }

                            var backoff = options.RetryBackoff * Math.Pow(2, Math.Max(0, m.Attempts - 1));
                            await store.Outbox.RetryAsync(m.Tenant, m.Key, owner, Now() + backoff, cancellationToken).ConfigureAwait(false);
                            failed++;
                            local.Add("failed");
                            break;
                    }

                    foreach (var counter in local)
                    {
                        Count(counter);
                    }
                }
                catch (InvalidOperationException)
                {
                    // The lease ran out and another dispatcher claimed the message: it owns the outcome now.
                    Count("lease_lost");
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The completion's unit of work failed: neither the completion nor its counts were applied. The
                    // message stays claimed until its lease runs out and is then delivered again (senders dedupe by key).
                    Count("complete_failed");
                }
            }

            foreach (var tenant in counts.Keys.Select(k => k.Item1).Distinct())
            {
                await RecordAsync(tenant, counts, cancellationToken).ConfigureAwait(false);
            }
        }

        return new DispatchResult(sent, deferred, skipped, failed);
    }

    /// <summary>Completes a message in one unit of work with its journey counters and, for a send on a channel, the
    /// customer's send count on that channel (what best-channel sends rank by): both are applied or neither is.
    /// Returns false when the claim was lost (another dispatcher holds the message now). A concurrent change of the
    /// customer's response record (an open being ingested) is read again and retried.</summary>
    private async ValueTask<bool> CompleteAsync(OutboxMessage m, string journey, List<string> counters, ContactChannel? channel, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var session = await store.OpenSessionAsync(m.Tenant, cancellationToken).ConfigureAwait(false);
            await using var scope = session.ConfigureAwait(false);
            await session.Outbox.CompleteAsync(m.Key, owner, cancellationToken).ConfigureAwait(false);
            foreach (var counter in counters)
            {
                await session.Journeys.CountAsync(journey, counter, 1, cancellationToken).ConfigureAwait(false);
            }

            if (channel is { } c)
            {
                var response = await session.Journeys.GetResponseAsync(m.Customer, cancellationToken).ConfigureAwait(false) ?? new CustomerChannelResponse { Customer = m.Customer };
                await session.Journeys.SaveResponseAsync(response.With(c, x => x with { Sent = x.Sent + 1 }), response.Version, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await session.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (ConcurrencyConflictException) when (attempt < 3)
            {
            }
            catch (ConcurrencyConflictException)
            {
                return false;
            }
        }
    }

    // Journey counters of what did not complete (deferrals, retries, lost leases), in one unit of work per tenant.
    private async ValueTask RecordAsync(TenantId tenant, Dictionary<(TenantId, string, string), long> counts, CancellationToken cancellationToken)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        foreach (var ((t, journey, counter), value) in counts)
        {
            if (t == tenant)
            {
                await session.Journeys.CountAsync(journey, counter, value, cancellationToken).ConfigureAwait(false);
            }
        }

        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private enum Kind
    {
        Sent,
        Deferred,
        Skipped,
        Failed,
    }

    private sealed record Outcome(Kind Kind, ContactChannel? Channel, string? Reason, Instant? Until, bool Permanent = false)
    {
        /// <summary>How a best-channel send chose its channel (<c>observed</c> or <c>default</c>).</summary>
        public string? Choice { get; init; }
    }

    private async ValueTask<Outcome> DeliverAsync(OutboxMessage m, Instant now, CancellationToken cancellationToken)
    {
        switch (m.ActionKind)
        {
            case "send_message" or "send_best_channel":
                return await SendAsync(m, now, cancellationToken).ConfigureAwait(false);
            case "award_points":
                if (ledger is null)
                {
                    return new Outcome(Kind.Skipped, null, "no_ledger", null);
                }

                var points = long.Parse(m.Variables[JourneyVariables.Points], CultureInfo.InvariantCulture);
                await ledger.ExecuteAsync(m.Tenant, new EarnCommand { IdempotencyKey = m.Key, Customer = m.Customer, Points = points, Rule = m.Variables.GetValueOrDefault(JourneyVariables.Journey) }, cancellationToken).ConfigureAwait(false);
                return new Outcome(Kind.Sent, null, null, null);
            default:
                if (m.Template is null || !byName.TryGetValue(m.Template, out var handler))
                {
                    return new Outcome(Kind.Skipped, null, "no_handler", null);
                }

                var r = await handler.HandleAsync(m, cancellationToken).ConfigureAwait(false);
                return r.Success ? new Outcome(Kind.Sent, null, null, null) : new Outcome(Kind.Failed, null, r.Error, null, r.Permanent);
        }
    }

    private async ValueTask<Outcome> SendAsync(OutboxMessage m, Instant now, CancellationToken cancellationToken)
    {
        var (outcome, choice) = await SendCoreAsync(m, now, cancellationToken).ConfigureAwait(false);
        return outcome with { Choice = choice };
    }

    /// <summary>
    /// The consented, reachable channel with the best observed response of this customer: (opens + clicks) / sends
    /// on channels with at least <see cref="JourneyOptions.BestChannelMinSends"/> sends, highest first (ties in the
    /// order email, push, SMS, WhatsApp). Without an observation above zero: the tenant default
    /// (<see cref="JourneyOptions.DefaultChannel"/>) when the gate allows it, else the first channel it allows.
    /// </summary>
    private async ValueTask<(ContactChannel Channel, string Choice)> BestChannelAsync(OutboxMessage m, MessageClassDefinition definition, Instant now, CancellationToken cancellationToken)
    {
        CustomerChannelResponse? response;
        var session = await store.OpenSessionAsync(m.Tenant, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            response = await session.Journeys.GetResponseAsync(m.Customer, cancellationToken).ConfigureAwait(false);
        }

        var allowed = new List<ContactChannel>();
        foreach (var candidate in BestOrder.Where(byChannel.ContainsKey))
        {
            var probe = await consent!.CheckAsync(Check(m, candidate, definition, now), cancellationToken).ConfigureAwait(false);
            if (probe.Verdict != SendVerdict.Skip)
            {
                allowed.Add(candidate);
            }
        }

        ContactChannel? best = null;
        var bestRate = 0.0;
        foreach (var candidate in allowed)
        {
            var counts = response?.For(candidate);
            if (counts is { } c && c.Sent >= Math.Max(1, options.BestChannelMinSends) && c.Rate > bestRate)
            {
                (best, bestRate) = (candidate, c.Rate);
            }
        }

        if (best is { } observed)
        {
            return (observed, "observed");
        }

        return allowed.Contains(options.DefaultChannel) || allowed.Count == 0 ? (options.DefaultChannel, "default") : (allowed[0], "default");
    }

    private async ValueTask<(Outcome Outcome, string? Choice)> SendCoreAsync(OutboxMessage m, Instant now, CancellationToken cancellationToken)
    {
        if (consent is null)
        {
            // Never send without passing the consent gate.
            return (new Outcome(Kind.Skipped, null, "no_consent_gate", null), null);
        }

        var program = programs.GetProgram(m.Tenant);
        var policy = program.Consent ?? ConsentPolicy.Default;
        var cls = m.Variables.GetValueOrDefault(JourneyVariables.MessageClass) ?? "promotional";
        var definition = policy.MessageClasses.FirstOrDefault(c => c.Id == cls)
            ?? policy.MessageClasses.FirstOrDefault(c => c.Purpose == (cls == "transactional" ? ConsentPurpose.Transactional : ConsentPurpose.Marketing));
        if (definition is null)
        {
            return (new Outcome(Kind.Skipped, null, "unknown_message_class", null, true), null);
        }

        ContactChannel channel;
        string? choice = null;
        if (m.ActionKind == "send_message")
        {
            channel = Enum.Parse<ContactChannel>(m.Variables[JourneyVariables.Channel]);
        }
        else
        {
            (channel, choice) = await BestChannelAsync(m, definition, now, cancellationToken).ConfigureAwait(false);
        }

        if (!byChannel.TryGetValue(channel, out var sender))
        {
            return (new Outcome(Kind.Skipped, channel, "no_sender", null), choice);
        }

        {
            var reservation = await consent.TryReserveSendAsync(Check(m, channel, definition, now), cancellationToken).ConfigureAwait(false);
            var d = reservation.Decision;
            if (d.Verdict == SendVerdict.Defer)
            {
                return (new Outcome(Kind.Deferred, channel, d.Reasons[0].Code.ToString(), d.DeferUntil), choice);
            }

            if (d.Verdict == SendVerdict.Skip)
            {
                return (new Outcome(Kind.Skipped, channel, ReasonName(d.Reasons[0].Code), null), choice);
            }
        }

        var result = await sender.SendAsync(m, channel, cancellationToken).ConfigureAwait(false);
        if (!result.Success)
        {
            await consent.ReleaseSendAsync(m.Tenant, m.Customer, m.Key, cancellationToken).ConfigureAwait(false);
        }

        return (result.Success ? new Outcome(Kind.Sent, channel, null, null) : new Outcome(Kind.Failed, channel, result.Error, null, result.Permanent), choice);
    }

    private static string ReasonName(SendReasonCode code) => code switch
    {
        SendReasonCode.NoConsent => "no_consent",
        SendReasonCode.Withdrawn => "withdrawn",
        SendReasonCode.Suppressed => "suppressed",
        SendReasonCode.NoVerifiedAddress => "no_address",
        SendReasonCode.Holdout => "consent_holdout",
        SendReasonCode.FrequencyCap => "frequency_cap",
        SendReasonCode.TopicUnsubscribed => "topic_unsubscribed",
        _ => code.ToString().ToLowerInvariant(),
    };

    private static SendCheck Check(OutboxMessage m, ContactChannel channel, MessageClassDefinition definition, Instant now) => new()
    {
        Tenant = m.Tenant,
        Customer = m.Customer,
        Channel = channel,
        Purpose = definition.Purpose,
        MessageClass = definition.Id,
        At = now,
        MessageId = m.Key,
    };
}
