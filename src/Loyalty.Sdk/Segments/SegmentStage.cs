using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Rules;
using NodaTime;

namespace Loyalty.Sdk.Segments;

/// <summary>
/// The segment stage: maintains the computed traits and window counters from each event in O(1), re-evaluates only the
/// segments whose inputs the event can change (plus those that depend on a segment that changed, and time-dependent ones
/// that are due), records entered/exited changes and decisions, and schedules the customer's next due work.
/// </summary>
public sealed class SegmentStage : ISegmentStage, ICustomerMergeParticipant
{
    /// <summary>The decision action of an entry.</summary>
    public const string EnteredAction = "segment_entered";

    /// <summary>The decision action of an exit.</summary>
    public const string ExitedAction = "segment_exited";

    private readonly SegmentRegistry registry;
    private readonly SegmentOptions options;

    internal SegmentStage(SegmentRegistry registry, SegmentOptions options)
    {
        this.registry = registry;
        this.options = options;
    }

    /// <inheritdoc />
    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var customer = context.RequireCustomer();
        var catalog = registry.Get(context.Tenant, context.Program);
        var session = context.Session;
        var stored = await session.Segments.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        var state = stored ?? new CustomerSegmentState { Customer = customer };
        var profile = context.Profile ?? await session.Profiles.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        var zone = SegmentCatalog.Zone(profile?.TimeZone, context.Program);
        var e = context.Event;
        var duplicateOrder = context.OrderAlreadyPlaced;
        if (!duplicateOrder)
        {
            TraitUpdater.Apply(state, e, context.Program, options, zone, catalog, context.Now);
        }

        var identity = await session.Identity.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        var traitContext = new CustomerTraitContext(customer, profile, identity, state, context.Program, context.Now, session);
        foreach (var provider in catalog.Providers)
        {
            await provider.PrepareAsync(traitContext, cancellationToken).ConfigureAwait(false);
        }

        var subject = new RuleSubject(catalog.Schema.SlotCount);
        catalog.Fill(traitContext, subject, new SeriesWindows());

        // Only the segments the event can change, unless the customer is new, merged or due anyway.
        bool[]? affected = null;
        if (stored is not null && context.Merged.Count == 0)
        {
            affected = (bool[])catalog.AffectedByKind.GetValueOrDefault(e.Kind, new bool[catalog.Segments.Length]).Clone();
            if (state.DueAt is { } due && due <= context.Now)
            {
                for (var i = 0; i < affected.Length; i++)
                {
                    affected[i] |= catalog.TimeDependent[i];
                }
            }
        }

        catalog.Evaluate(subject, affected, new bool[catalog.Segments.Length], context.Now.ToUnixTimeMilliseconds(), (segment, entered) =>
        {
            if (entered)
            {
                state.Memberships[segment.Id] = context.Now;
            }
            else
            {
                state.Memberships.Remove(segment.Id);
            }

            context.AddSegmentChange(new SegmentChange(segment.Id, entered));
            context.Decide(Capabilities.Segments, entered ? EnteredAction : ExitedAction, "segment." + segment.Id,
                $"{(entered ? "Entered" : "Left")} segment '{segment.Definition.Name}' after {e.Kind}.", Inputs(segment, subject, context.Now));
        });

        state.DueAt = catalog.NextDue(subject, context.Now);
        await session.Segments.SaveAsync(state, stored?.Version ?? 0, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask OnMergedAsync(CustomerMerged merge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(merge);
        var repository = merge.Context.Session.Segments;
        var absorbed = await repository.GetAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
        if (absorbed is null)
        {
            return;
        }

        var survivor = await repository.GetAsync(merge.Survivor, cancellationToken).ConfigureAwait(false);
        var merged = survivor is null ? absorbed.Clone() : Merge(survivor, absorbed);
        var result = new CustomerSegmentState
        {
            Customer = merge.Survivor,
            Version = survivor?.Version ?? 0,
            DueAt = merge.Context.Now,
            Memberships = survivor?.Memberships ?? new Dictionary<string, Instant>(StringComparer.Ordinal),
            Series = merged.Series,
            Traits = merged.Traits,
        };
        await repository.SaveAsync(result, survivor?.Version ?? 0, cancellationToken).ConfigureAwait(false);
        await repository.DeleteAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Merges two states as the traits declare (<see cref="BuiltInTraits.MergePolicies"/>): counters add up,
    /// first/last take the min/max, intervals are combined weighted by count, window buckets are merged.</summary>
    internal static CustomerSegmentState Merge(CustomerSegmentState survivor, CustomerSegmentState absorbed)
    {
        var s = survivor.Clone();
        var a = absorbed.Traits;
        var t = s.Traits;
        var intervals = t.Intervals + a.Intervals;
        t.MeanIntervalDays = intervals == 0 ? 0 : ((t.MeanIntervalDays * t.Intervals) + (a.MeanIntervalDays * a.Intervals)) / intervals;
        t.RecentIntervalDays = t.LastOrderMs >= a.LastOrderMs ? (t.Intervals > 0 ? t.RecentIntervalDays : a.RecentIntervalDays) : (a.Intervals > 0 ? a.RecentIntervalDays : t.RecentIntervalDays);
        t.Intervals = intervals;
        t.Orders += a.Orders;
        t.Monetary += a.Monetary;
        t.FirstOrderMs = t.FirstOrderMs == 0 ? a.FirstOrderMs : a.FirstOrderMs == 0 ? t.FirstOrderMs : Math.Min(t.FirstOrderMs, a.FirstOrderMs);
        t.LastOrderMs = Math.Max(t.LastOrderMs, a.LastOrderMs);
        t.WeekendOrders += a.WeekendOrders;
        t.ReactivatedAtMs = Math.Max(t.ReactivatedAtMs, a.ReactivatedAtMs);
        for (var ch = 0; ch < ComputedTraitState.Channels; ch++)
        {
            t.OrdersByChannel[ch] += a.OrdersByChannel[ch];
            t.Delivered[ch] += a.Delivered[ch];
            t.Responded[ch] += a.Responded[ch];
            t.LastEngagementMs[ch] = Math.Max(t.LastEngagementMs[ch], a.LastEngagementMs[ch]);
        }

        foreach (var (category, spend) in a.CategorySpend)
        {
            t.CategorySpend[category] = t.CategorySpend.GetValueOrDefault(category) + spend;
        }

        foreach (var (key, series) in absorbed.Series)
        {
            if (!s.Series.TryGetValue(key, out var mine))
            {
                s.Series[key] = series.Clone();
                continue;
            }

            var buckets = mine.Buckets.Concat(series.Buckets).GroupBy(b => b.Start).OrderBy(g => g.Key).Select(g => new WindowBucket
            {
                Start = g.Key,
                Count = g.Sum(b => b.Count),
                Sum = g.Sum(b => b.Sum),
                Min = g.Min(b => b.Min),
                Max = g.Max(b => b.Max),
            }).ToList();
            mine.Buckets.Clear();
            mine.Buckets.AddRange(buckets);
            if (series.LastSeen is not null)
            {
                mine.LastSeen ??= new Dictionary<string, long>(StringComparer.Ordinal);
                foreach (var (v, at) in series.LastSeen)
                {
                    mine.LastSeen[v] = Math.Max(mine.LastSeen.GetValueOrDefault(v, long.MinValue), at);
                }
            }
        }

        return s;
    }

    internal static Dictionary<string, string> Inputs(CompiledSegment segment, RuleSubject subject, Instant now)
    {
        var explanation = segment.Rule.Explain(subject, now);
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal) { ["rule"] = segment.Rule.Text };
        void Leaves(RuleExplanation node, int depth)
        {
            if (node.Detail is not null || node.Children.Count == 0 || depth > 6)
            {
                inputs.TryAdd(node.Expression, node.Value);
                return;
            }

            foreach (var c in node.Children)
            {
                Leaves(c, depth + 1);
            }
        }

        Leaves(explanation, 0);
        return inputs;
    }
}
