using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>
/// Starts <c>points_expiring</c>, <c>reservation_expired</c> and <c>tier_changed</c> journeys from the signals the
/// ledger raises outside ingestion (due work, commands), in the ledger's own unit of work: the entry commits with the
/// ledger change that raised the signal, and the ledger raises each signal once (lots are noticed once, a lapsed
/// reservation is released once, a tier changes once, a command replayed by its key changes nothing), so running due
/// work again, or retrying a command, never enters twice.
/// </summary>
internal sealed class JourneyLedgerObserver(JourneyRegistry registry, JourneyRunner runner) : ILedgerSignalObserver
{
    public async ValueTask OnSignalsAsync(LedgerSignalContext signals, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signals);
        var catalog = registry.Get(signals.Program);
        JourneyRun? run = null;
        foreach (var j in catalog.Other)
        {
            var trigger = j.Definition.Trigger;
            if (trigger.Kind is not (JourneyTriggerKind.PointsExpiring or JourneyTriggerKind.ReservationExpired or JourneyTriggerKind.TierChanged))
            {
                continue;
            }

            foreach (var signal in signals.Signals)
            {
                var matches = (trigger.Kind, signal.Kind) switch
                {
                    (JourneyTriggerKind.PointsExpiring, LedgerSignalKind.PointsExpiringSoon) => true,
                    (JourneyTriggerKind.ReservationExpired, LedgerSignalKind.ReservationExpired) => true,

                    // A grace period keeps the tier: not a change.
                    (JourneyTriggerKind.TierChanged, LedgerSignalKind.TierChanged) =>
                        signal.Tier != signal.PreviousTier && TierMatches(trigger.Attribute, signals.Program, signal.PreviousTier, signal.Tier),
                    _ => false,
                };
                if (!matches)
                {
                    continue;
                }

                run ??= new JourneyRun
                {
                    Session = signals.Session,
                    Program = signals.Program,
                    Tenant = signals.Tenant,
                    Customer = signals.Customer,
                    Now = signals.Now,
                    Profile = await signals.Session.Profiles.GetAsync(signals.Customer, cancellationToken).ConfigureAwait(false),
                    Subject = new RuleSubject(catalog.Schema.SlotCount),
                    Cause = "ledger:" + signal.Key,
                };
                if (await TriggerAsync(run, j, signal, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }

        if (run is { Decisions.Count: > 0 })
        {
            await signals.Session.Decisions.AppendAsync([.. run.Decisions], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether a tier change from <paramref name="from"/> to <paramref name="to"/> fires a <c>tier_changed</c>
    /// trigger whose <see cref="JourneyTrigger.Attribute"/> is <paramref name="direction"/>: null (any change),
    /// <c>upgrade</c> (a higher level than before; a first tier counts from the lowest level) or <c>downgrade</c>.</summary>
    internal static bool TierMatches(string? direction, Programs.LoyaltyProgram program, string? from, string? to)
    {
        if (direction is null)
        {
            return true;
        }

        var levels = program.Ledger?.Tiers?.Levels ?? [];
        int Index(string? id)
        {
            for (var i = 0; i < levels.Count; i++)
            {
                if (levels[i].Id == id)
                {
                    return i;
                }
            }

            return 0;
        }

        var delta = Index(to) - Index(string.IsNullOrEmpty(from) ? null : from);
        return direction == "upgrade" ? delta > 0 : delta < 0;
    }

    private async ValueTask<bool> TriggerAsync(JourneyRun run, CompiledJourney j, LedgerSignal signal, CancellationToken cancellationToken)
    {
        var repo = run.Session.Journeys;
        var current = await repo.GetAsync(run.Customer, j.Id, cancellationToken).ConfigureAwait(false);
        var cause = signal.Kind switch
        {
            LedgerSignalKind.PointsExpiringSoon => "points_expiring",
            LedgerSignalKind.ReservationExpired => "reservation_expired",
            _ => "tier_changed",
        };
        if (j.Definition.Trigger.Kind == JourneyTriggerKind.PointsExpiring && signal.ExpiresAt is { } expires
            && expires - run.Now > Duration.FromDays(j.Definition.Trigger.Days))
        {
            // Noticed earlier than the journey's horizon: a durable timer enters it N days before the expiry.
            var at = expires - Duration.FromDays(j.Definition.Trigger.Days);
            if (current is { Status: JourneyStatus.Active } || !JourneyRunner.CanEnter(current, j.Definition, at)
                || (current is { Status: JourneyStatus.Scheduled, WakeAt: { } wake } && wake <= at))
            {
                return false;
            }

            var scheduled = (current ?? new JourneyInstance { Customer = run.Customer, Journey = j.Id, JourneyVersion = j.Definition.Version })
                with { Status = JourneyStatus.Scheduled, WakeAt = at, JourneyVersion = j.Definition.Version };
            await repo.SaveAsync(scheduled, current?.Version ?? 0, cancellationToken).ConfigureAwait(false);
            return true;
        }

        var entered = await runner.EnterAsync(run, j, current, cause, cancellationToken).ConfigureAwait(false);
        if (entered is null)
        {
            return false;
        }

        await repo.SaveAsync(entered, current?.Version ?? 0, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
