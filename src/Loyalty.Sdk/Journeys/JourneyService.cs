using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>Journeys outside ingestion: durable timers, state and measurement.</summary>
public interface IJourneyService
{
    /// <summary>Processes every timer due at <paramref name="now"/> (waits, timeouts, scheduled time triggers) in
    /// bounded pages, each page one unit of work.</summary>
    ValueTask<JourneyAdvanceResult> AdvanceAsync(TenantId tenant, Instant now, CancellationToken cancellationToken = default);

    /// <summary>A customer's instance of a journey.</summary>
    ValueTask<JourneyInstance?> GetInstanceAsync(TenantId tenant, CustomerId customer, string journey, CancellationToken cancellationToken = default);

    /// <summary>Measurement per journey: funnel, exits, sends, and conversion treated vs holdout with uplift.</summary>
    ValueTask<IReadOnlyList<JourneyReport>> GetReportAsync(TenantId tenant, CancellationToken cancellationToken = default);
}

/// <summary>What one <see cref="IJourneyService.AdvanceAsync"/> did.</summary>
/// <param name="Processed">Timers processed.</param>
/// <param name="Pages">Units of work committed.</param>
public sealed record JourneyAdvanceResult(int Processed, int Pages);

/// <summary>Conversion of treated customers against the holdout, with a 95% confidence interval of the difference
/// (normal approximation for the difference of two proportions).</summary>
/// <param name="Treated">Treated entries.</param>
/// <param name="TreatedConversions">Treated conversions.</param>
/// <param name="Holdout">Holdout entries.</param>
/// <param name="HoldoutConversions">Holdout conversions.</param>
public sealed record JourneyUplift(long Treated, long TreatedConversions, long Holdout, long HoldoutConversions)
{
    /// <summary>Treated conversion rate.</summary>
    public double TreatedRate => Treated == 0 ? 0 : (double)TreatedConversions / Treated;

    /// <summary>Holdout conversion rate.</summary>
    public double HoldoutRate => Holdout == 0 ? 0 : (double)HoldoutConversions / Holdout;

    /// <summary>Absolute uplift (treated rate minus holdout rate).</summary>
    public double Uplift => TreatedRate - HoldoutRate;

    /// <summary>Standard error of the difference; NaN without both groups.</summary>
    public double StandardError => Treated == 0 || Holdout == 0
        ? double.NaN
        : Math.Sqrt((TreatedRate * (1 - TreatedRate) / Treated) + (HoldoutRate * (1 - HoldoutRate) / Holdout));

    /// <summary>Lower bound of the 95% interval.</summary>
    public double Low => Uplift - (1.959964 * StandardError);

    /// <summary>Upper bound of the 95% interval.</summary>
    public double High => Uplift + (1.959964 * StandardError);

    /// <summary>Whether the interval excludes zero.</summary>
    public bool Significant => !double.IsNaN(StandardError) && (Low > 0 || High < 0);
}

/// <summary>Measurement of one journey.</summary>
public sealed record JourneyReport
{
    /// <summary>The journey.</summary>
    public required string Journey { get; init; }

    /// <summary>Entries.</summary>
    public long Entries { get; init; }

    /// <summary>Customers per step reached (funnel), by step id.</summary>
    public IReadOnlyDictionary<string, long> Steps { get; init; } = new Dictionary<string, long>();

    /// <summary>Exits by reason.</summary>
    public IReadOnlyDictionary<string, long> Exits { get; init; } = new Dictionary<string, long>();

    /// <summary>Messages sent, by channel.</summary>
    public IReadOnlyDictionary<string, long> SentByChannel { get; init; } = new Dictionary<string, long>();

    /// <summary>Messages sent.</summary>
    public long Sent { get; init; }

    /// <summary>Messages deferred by the send gate (each deferral counted).</summary>
    public long Deferred { get; init; }

    /// <summary>Actions skipped, by reason (holdout, consent reasons, failures).</summary>
    public IReadOnlyDictionary<string, long> Skipped { get; init; } = new Dictionary<string, long>();

    /// <summary>Delivery results of the journey's messages ingested back as events, by name (<c>message_delivered</c>,
    /// <c>message_opened</c>, <c>message_clicked</c>, <c>message_bounced</c>, <c>unsubscribed</c>…).</summary>
    public IReadOnlyDictionary<string, long> Feedback { get; init; } = new Dictionary<string, long>();

    /// <summary>Customers kept out by the global control group.</summary>
    public long GlobalControl { get; init; }

    /// <summary>Conversion treated vs holdout.</summary>
    public required JourneyUplift Uplift { get; init; }

    /// <summary>Builds the report from raw counters.</summary>
    public static JourneyReport From(JourneyStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        IReadOnlyDictionary<string, long> Prefixed(string prefix) => stats.Counters.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);
        return new JourneyReport
        {
            Journey = stats.Journey,
            Entries = stats["entries"],
            Steps = Prefixed("step."),
            Exits = Prefixed("exit."),
            SentByChannel = Prefixed("sent."),
            Sent = stats["sent"],
            Deferred = stats["deferred"],
            Skipped = Prefixed("skipped."),
            Feedback = Prefixed("feedback."),
            GlobalControl = stats["excluded.global_control"],
            Uplift = new JourneyUplift(stats["entries.treated"], stats["conversions.treated"], stats["entries.holdout"], stats["conversions.holdout"]),
        };
    }
}

/// <summary>The default <see cref="IJourneyService"/>.</summary>
internal sealed class JourneyService(ILoyaltyStore store, IProgramProvider programs, JourneyRegistry registry, JourneyRunner runner) : IJourneyService
{
    private readonly string owner = Pipeline.DueWorkOwner.Create("journeys");

    public async ValueTask<JourneyAdvanceResult> AdvanceAsync(TenantId tenant, Instant now, CancellationToken cancellationToken = default)
    {
        var program = programs.GetProgram(tenant);
        var catalog = registry.Get(program);
        var pageSize = Math.Max(1, registry.Options.PageSize);
        var processed = 0;
        var pages = 0;
        var subject = new RuleSubject(catalog.Schema.SlotCount);
        while (true)
        {
            var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
            await using var scope = session.ConfigureAwait(false);
            var due = await session.Journeys.ClaimDueAsync(now, pageSize, Pipeline.DueWorkOwner.Lease(registry.Options.DueWorkLease), owner, cancellationToken).ConfigureAwait(false);
            if (due.Count == 0)
            {
                break;
            }

            var decisions = new List<Pipeline.Decision>();
            foreach (var (customer, journey) in due)
            {
                var instance = await session.Journeys.GetAsync(customer, journey, cancellationToken).ConfigureAwait(false);
                if (instance?.WakeAt is not { } wake || wake > now)
                {
                    continue;
                }

                var profile = await session.Profiles.GetAsync(customer, cancellationToken).ConfigureAwait(false);
                var run = new JourneyRun
                {
                    Session = session, Program = program, Tenant = tenant, Customer = customer, Now = now, Profile = profile, Subject = subject,
                };
                JourneyInstance next;
                if (instance.Status == JourneyStatus.Scheduled)
                {
                    var j = catalog.Latest.FirstOrDefault(c => c.Id == journey);
                    if (j is null)
                    {
                        next = instance with { WakeAt = null, Status = JourneyStatus.Ended, ExitReason = "journey_removed" };
                    }
                    else if (j.Definition.Trigger.Kind == JourneyTriggerKind.Inactivity && profile is not null && profile.LastSeen + Duration.FromDays(j.Definition.Trigger.Days) > now)
                    {
                        next = instance with { WakeAt = profile.LastSeen + Duration.FromDays(j.Definition.Trigger.Days) };
                    }
                    else if (j.Definition.Trigger.Kind == JourneyTriggerKind.PointsExpiring && !await ExpiringWithinAsync(session, customer, now, j.Definition.Trigger.Days, cancellationToken).ConfigureAwait(false))
                    {
                        // The points were used (or expired) since the ledger's notice: nothing to remind of.
                        next = instance with { WakeAt = null, Status = JourneyStatus.Ended, ExitReason = "not_eligible" };
                    }
                    else
                    {
                        next = await runner.EnterAsync(run, j, instance, j.Definition.Trigger.Kind.ToString(), cancellationToken).ConfigureAwait(false)
                            ?? instance with { WakeAt = null, Status = JourneyStatus.Ended, ExitReason = "not_eligible" };
                    }
                }
                else if (catalog.Find(journey, instance.JourneyVersion) is { } j)
                {
                    next = await runner.ResumeAsync(run, j, instance, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    next = instance with { WakeAt = null, Status = JourneyStatus.Ended, ExitReason = "version_removed" };
                }

                await session.Journeys.SaveAsync(next, instance.Version, cancellationToken).ConfigureAwait(false);
                decisions.AddRange(run.Decisions);
                processed++;
            }

            if (decisions.Count > 0)
            {
                await session.Decisions.AppendAsync(decisions, cancellationToken).ConfigureAwait(false);
            }

            await session.CommitAsync(cancellationToken).ConfigureAwait(false);
            pages++;
            if (due.Count < pageSize)
            {
                break;
            }
        }

        return new JourneyAdvanceResult(processed, pages);
    }

    private static async ValueTask<bool> ExpiringWithinAsync(ILoyaltyStoreSession session, CustomerId customer, Instant now, int days, CancellationToken cancellationToken)
    {
        var ledger = await session.Ledger.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        var horizon = now + Duration.FromDays(days);
        return ledger is not null && ledger.Lots.Exists(l => l.Available > 0 && l.ExpiresAt is { } e && e > now && e <= horizon);
    }

    public async ValueTask<JourneyInstance?> GetInstanceAsync(TenantId tenant, CustomerId customer, string journey, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        return await session.Journeys.GetAsync(customer, journey, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<JourneyReport>> GetReportAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var stats = await session.Journeys.GetStatsAsync(cancellationToken).ConfigureAwait(false);
        return stats.Select(JourneyReport.From).ToArray();
    }
}
