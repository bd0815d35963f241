using System.Collections.Concurrent;
using System.Diagnostics;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Storage;
using NodaTime;
using NodaTime.Text;

namespace Loyalty.Sdk.Segments;

/// <summary>What a due-work pass did.</summary>
/// <param name="Customers">Customers re-evaluated.</param>
/// <param name="Changes">Entries and exits, for journeys.</param>
public sealed record SegmentDueWorkResult(int Customers, IReadOnlyList<SegmentMembershipChange> Changes);

/// <summary>What a batch recompute did.</summary>
/// <param name="Customers">Customers evaluated.</param>
/// <param name="Evaluations">Rule evaluations.</param>
/// <param name="Entered">Entries.</param>
/// <param name="Exited">Exits.</param>
/// <param name="Elapsed">Wall-clock time.</param>
public sealed record SegmentRecomputeResult(int Customers, long Evaluations, int Entered, int Exited, TimeSpan Elapsed);

/// <summary>The overlap of two segments.</summary>
/// <param name="A">First segment.</param>
/// <param name="B">Second segment.</param>
/// <param name="SizeA">Members of A.</param>
/// <param name="SizeB">Members of B.</param>
/// <param name="Both">Members of both.</param>
public sealed record SegmentOverlap(string A, string B, long SizeA, long SizeB, long Both)
{
    /// <summary>|A ∩ B| / |A ∪ B|.</summary>
    public double Jaccard => SizeA + SizeB - Both == 0 ? 0 : (double)Both / (SizeA + SizeB - Both);
}

/// <summary>A size estimate from a sample.</summary>
/// <param name="Estimate">Estimated members.</param>
/// <param name="Margin">95% margin of error (members).</param>
/// <param name="Sampled">Customers evaluated.</param>
/// <param name="Population">Customers in total.</param>
public sealed record SegmentEstimate(long Estimate, long Margin, int Sampled, int Population);

/// <summary>Why a customer is or is not in a segment.</summary>
/// <param name="Segment">The segment.</param>
/// <param name="Customer">The customer.</param>
/// <param name="Member">The rule's value now.</param>
/// <param name="Rule">The canonical rule.</param>
/// <param name="Tree">Every sub-expression's value, with the traits and window counts read.</param>
public sealed record SegmentExplanation(string Segment, CustomerId Customer, bool Member, string Rule, RuleExplanation Tree);

/// <summary>Segment operations beyond the ingest pipeline: clock-driven due work, batch recompute, sizes and their
/// history, overlap, estimates, exact member sets, explanations and live definition updates.</summary>
public interface ISegmentService
{
    /// <summary>Re-evaluates every customer whose time-dependent segments can change at or before <paramref name="now"/>
    /// (e.g. "no order for 60 days" on day 60), recording entries, exits and decisions.</summary>
    ValueTask<SegmentDueWorkResult> RunDueWorkAsync(TenantId tenant, Instant now, CancellationToken cancellationToken = default);

    /// <summary>Re-evaluates every customer against every segment, in parallel.</summary>
    ValueTask<SegmentRecomputeResult> RecomputeAllAsync(TenantId tenant, Instant now, CancellationToken cancellationToken = default);

    /// <summary>Current members of each segment (O(1) counters).</summary>
    ValueTask<IReadOnlyDictionary<string, long>> GetSizesAsync(TenantId tenant, CancellationToken cancellationToken = default);

    /// <summary>Records every segment's size at <paramref name="at"/>, with entries and exits since the last record.</summary>
    ValueTask RecordSizesAsync(TenantId tenant, Instant at, CancellationToken cancellationToken = default);

    /// <summary>A segment's recorded size history.</summary>
    ValueTask<IReadOnlyList<SegmentSizePoint>> GetSizeHistoryAsync(TenantId tenant, string segment, CancellationToken cancellationToken = default);

    /// <summary>The overlap of two segments.</summary>
    ValueTask<SegmentOverlap> GetOverlapAsync(TenantId tenant, string a, string b, CancellationToken cancellationToken = default);

    /// <summary>A cheap estimate of how many customers a rule would hold, from a sample (for rule-builder UIs).</summary>
    ValueTask<SegmentEstimate> EstimateAsync(TenantId tenant, string rule, Instant now, int sample = 2_000, CancellationToken cancellationToken = default);

    /// <summary>The exact members at <paramref name="now"/>, every customer evaluated afresh (use before a send).</summary>
    ValueTask<IReadOnlyList<CustomerId>> GetExactMembersAsync(TenantId tenant, string segment, Instant now, CancellationToken cancellationToken = default);

    /// <summary>Why <paramref name="customer"/> is or is not in <paramref name="segment"/>.</summary>
    ValueTask<SegmentExplanation> ExplainAsync(TenantId tenant, CustomerId customer, string segment, Instant now, CancellationToken cancellationToken = default);

    /// <summary>Adds or replaces a segment: compiles it (throws the typed error if invalid, changing nothing), swaps
    /// the compiled catalog atomically, and recomputes memberships.</summary>
    ValueTask<SegmentRecomputeResult> UpsertSegmentAsync(TenantId tenant, SegmentDefinition definition, Instant now, CancellationToken cancellationToken = default);

    /// <summary>The segments of a tenant, as compiled.</summary>
    IReadOnlyList<SegmentDefinition> GetSegments(TenantId tenant);
}

/// <summary>The built-in <see cref="ISegmentService"/>.</summary>
internal sealed class SegmentService(ILoyaltyStore store, IProgramProvider programs, SegmentRegistry registry, SegmentOptions options) : ISegmentService
{
    private const int PageSize = 1 << 20;
    private readonly string owner = DueWorkOwner.Create("segments");

    public async ValueTask<SegmentDueWorkResult> RunDueWorkAsync(TenantId tenant, Instant now, CancellationToken cancellationToken = default)
    {
        var program = programs.GetProgram(tenant);
        var catalog = registry.Get(tenant, program);
        var changes = new List<SegmentMembershipChange>();
        var customers = 0;
        var cause = new EventId("clock:" + InstantPattern.General.Format(now).Replace("T", "t", StringComparison.Ordinal));
        while (true)
        {
            var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
            await using (session.ConfigureAwait(false))
            {
                var due = await session.Segments.ClaimDueAsync(now, options.DueWorkBatchSize, DueWorkOwner.Lease(options.DueWorkLease), owner, cancellationToken).ConfigureAwait(false);
                if (due.Count == 0)
                {
                    return new SegmentDueWorkResult(customers, changes);
                }

                var subject = new RuleSubject(catalog.Schema.SlotCount);
                var windows = new SeriesWindows();
                var dirty = new bool[catalog.Segments.Length];
                var decisions = new List<Decision>();
                foreach (var customer in due)
                {
                    var state = (await session.Segments.GetAsync(customer, cancellationToken).ConfigureAwait(false))!;
                    var expected = state.Version;
                    var profile = await session.Profiles.GetAsync(customer, cancellationToken).ConfigureAwait(false);
                    var identity = await session.Identity.GetAsync(customer, cancellationToken).ConfigureAwait(false);
                    var context = new CustomerTraitContext(customer, profile, identity, state, program, now, session);
                    foreach (var provider in catalog.Providers)
                    {
                        await provider.PrepareAsync(context, cancellationToken).ConfigureAwait(false);
                    }

                    catalog.Fill(context, subject, windows);
                    catalog.Evaluate(subject, catalog.TimeDependent, dirty, now.ToUnixTimeMilliseconds(), (segment, entered) =>
                    {
                        if (entered)
                        {
                            state.Memberships[segment.Id] = now;
                        }
                        else
                        {
                            state.Memberships.Remove(segment.Id);
                        }

                        changes.Add(new SegmentMembershipChange(customer, segment.Id, entered, now));
                        decisions.Add(new Decision
                        {
                            Capability = Capabilities.Segments,
                            Action = entered ? SegmentStage.EnteredAction : SegmentStage.ExitedAction,
                            Rule = "segment." + segment.Id,
                            RuleVersion = program.Version,
                            Summary = $"{(entered ? "Entered" : "Left")} segment '{segment.Definition.Name}' as time passed (no event).",
                            Inputs = SegmentStage.Inputs(segment, subject, now),
                            Customer = customer,
                            CausedBy = cause,
                            DecidedAt = now,
                        });
                    });
                    state.DueAt = catalog.NextDue(subject, now);
                    if (state.DueAt <= now)
                    {
                        state.DueAt = now + options.MinimumRecheck;
                    }

                    await session.Segments.SaveAsync(state, expected, cancellationToken).ConfigureAwait(false);
                    customers++;
                }

                await session.Decisions.AppendAsync(decisions, cancellationToken).ConfigureAwait(false);
                await session.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask<SegmentRecomputeResult> RecomputeAllAsync(TenantId tenant, Instant now, CancellationToken cancellationToken = default)
    {
        var program = programs.GetProgram(tenant);
        var catalog = registry.Get(tenant, program);
        var watch = Stopwatch.StartNew();
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var states = await session.Segments.ListAsync(0, int.MaxValue, cancellationToken).ConfigureAwait(false);
            var all = new ConcurrentBag<List<SegmentMembershipChange>>();
            var nowMs = now.ToUnixTimeMilliseconds();
            Parallel.ForEach(
                System.Collections.Concurrent.Partitioner.Create(0, states.Count, 4096),
                new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism > 0 ? options.Parallelism : Environment.ProcessorCount, CancellationToken = cancellationToken },
                () => (Subject: new RuleSubject(catalog.Schema.SlotCount), Windows: new SeriesWindows(), Dirty: new bool[catalog.Segments.Length], Changes: new List<SegmentMembershipChange>()),
                (range, _, local) =>
                {
                    for (var i = range.Item1; i < range.Item2; i++)
                    {
                        var customer = states[i].Customer;
                        catalog.Fill(Context(session, program, states[i], now, catalog.Providers, cancellationToken), local.Subject, local.Windows);
                        var changes = local.Changes;
                        catalog.Evaluate(local.Subject, null, local.Dirty, nowMs, (segment, entered) => changes.Add(new SegmentMembershipChange(customer, segment.Id, entered, now)));
                    }

                    return local;
                },
                local => all.Add(local.Changes));
            var changes = all.SelectMany(c => c).ToArray();
            await session.Segments.ApplyChangesAsync(changes, cancellationToken).ConfigureAwait(false);
            await session.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new SegmentRecomputeResult(states.Count, (long)states.Count * catalog.Segments.Length, changes.Count(c => c.Entered), changes.Count(c => !c.Entered), watch.Elapsed);
        }
    }

    public async ValueTask<IReadOnlyDictionary<string, long>> GetSizesAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var sizes = await session.Segments.GetSizesAsync(cancellationToken).ConfigureAwait(false);
            return GetSegments(tenant).ToDictionary(s => s.Id, s => sizes.GetValueOrDefault(s.Id), StringComparer.Ordinal);
        }
    }

    public async ValueTask RecordSizesAsync(TenantId tenant, Instant at, CancellationToken cancellationToken = default)
    {
        // Another node recording at the same time makes the commit conflict (a store may not count flows twice): record
        // again, after it, from the flows it left.
        for (var attempt = 0; ; attempt++)
        {
            var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
            await using (session.ConfigureAwait(false))
            {
                try
                {
                    await session.Segments.RecordSizesAsync(at, cancellationToken).ConfigureAwait(false);
                    await session.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (Validation.ConcurrencyConflictException) when (attempt < 10)
                {
                }
            }
        }
    }

    public async ValueTask<IReadOnlyList<SegmentSizePoint>> GetSizeHistoryAsync(TenantId tenant, string segment, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            return await session.Segments.GetSizeHistoryAsync(segment, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<SegmentOverlap> GetOverlapAsync(TenantId tenant, string a, string b, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var left = await session.Segments.ListMembersAsync(a, cancellationToken).ConfigureAwait(false);
            var right = (await session.Segments.ListMembersAsync(b, cancellationToken).ConfigureAwait(false)).ToHashSet();
            return new SegmentOverlap(a, b, left.Count, right.Count, left.Count(right.Contains));
        }
    }

    public async ValueTask<SegmentEstimate> EstimateAsync(TenantId tenant, string rule, Instant now, int sample = 2_000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sample);
        var program = programs.GetProgram(tenant);
        var catalog = registry.Get(tenant, program);
        var compiled = RuleCompiler.Compile(rule, catalog.Schema);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var population = await session.Segments.CountAsync(cancellationToken).ConfigureAwait(false);
            var states = await session.Segments.ListAsync(0, PageSize, cancellationToken).ConfigureAwait(false);
            var step = Math.Max(1, states.Count / sample);
            var subject = new RuleSubject(catalog.Schema.SlotCount);
            var windows = new SeriesWindows();
            int sampled = 0, hits = 0;
            for (var i = 0; i < states.Count && sampled < sample; i += step)
            {
                var context = await ContextAsync(session, program, states[i], now, catalog.Providers, cancellationToken).ConfigureAwait(false);
                catalog.Fill(context, subject, windows);
                sampled++;
                hits += compiled.Evaluate(subject, now) ? 1 : 0;
            }

            if (sampled == 0)
            {
                return new SegmentEstimate(0, 0, 0, population);
            }

            var p = (double)hits / sampled;
            var margin = sampled >= population ? 0 : 1.96 * Math.Sqrt(p * (1 - p) / sampled) * population;
            return new SegmentEstimate((long)Math.Round(p * population), (long)Math.Ceiling(margin), sampled, population);
        }
    }

    public async ValueTask<IReadOnlyList<CustomerId>> GetExactMembersAsync(TenantId tenant, string segment, Instant now, CancellationToken cancellationToken = default)
    {
        var program = programs.GetProgram(tenant);
        var catalog = registry.Get(tenant, program);
        var target = catalog.ById.TryGetValue(segment, out var s) ? s : throw new ArgumentException($"Unknown segment '{segment}'.", nameof(segment));
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var (states, contexts) = await LoadAsync(session, program, now, catalog.Providers, cancellationToken).ConfigureAwait(false);
            var members = new ConcurrentBag<CustomerId>();
            var nowMs = now.ToUnixTimeMilliseconds();
            Parallel.ForEach(
                System.Collections.Concurrent.Partitioner.Create(0, states.Count, 4096),
                () => (Subject: new RuleSubject(catalog.Schema.SlotCount), Windows: new SeriesWindows(), Dirty: new bool[catalog.Segments.Length]),
                (range, _, local) =>
                {
                    for (var i = range.Item1; i < range.Item2; i++)
                    {
                        catalog.Fill(contexts[i], local.Subject, local.Windows);
                        catalog.Evaluate(local.Subject, null, local.Dirty, nowMs, static (_, _) => { });
                        if (local.Subject.Flags[target.MembershipSlot])
                        {
                            members.Add(states[i].Customer);
                        }
                    }

                    return local;
                },
                _ => { });
            return members.OrderBy(c => c.Value, StringComparer.Ordinal).ToArray();
        }
    }

    public async ValueTask<SegmentExplanation> ExplainAsync(TenantId tenant, CustomerId customer, string segment, Instant now, CancellationToken cancellationToken = default)
    {
        var program = programs.GetProgram(tenant);
        var catalog = registry.Get(tenant, program);
        var target = catalog.ById.TryGetValue(segment, out var s) ? s : throw new ArgumentException($"Unknown segment '{segment}'.", nameof(segment));
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var identity = await IdentityStage.FollowAsync(session.Identity, customer, cancellationToken).ConfigureAwait(false);
            var id = identity?.Customer ?? customer;
            var state = await session.Segments.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? new CustomerSegmentState { Customer = id };
            var context = await ContextAsync(session, program, state, now, catalog.Providers, cancellationToken).ConfigureAwait(false);
            var subject = new RuleSubject(catalog.Schema.SlotCount);
            catalog.Fill(context, subject, new SeriesWindows());
            return new SegmentExplanation(segment, id, target.Rule.Evaluate(subject, now), target.Rule.Text, target.Rule.Explain(subject, now));
        }
    }

    public async ValueTask<SegmentRecomputeResult> UpsertSegmentAsync(TenantId tenant, SegmentDefinition definition, Instant now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        registry.Update(tenant, programs.GetProgram(tenant), definition.Id, definition);
        return await RecomputeAllAsync(tenant, now, cancellationToken).ConfigureAwait(false);
    }

    public IReadOnlyList<SegmentDefinition> GetSegments(TenantId tenant) =>
        registry.Get(tenant, programs.GetProgram(tenant)).Segments.Select(s => s.Definition).ToArray();

    private static async ValueTask<(IReadOnlyList<CustomerSegmentState> States, CustomerTraitContext[] Contexts)> LoadAsync(ILoyaltyStoreSession session, LoyaltyProgram program, Instant now, ICustomerTraitProvider[] providers, CancellationToken cancellationToken)
    {
        var states = await session.Segments.ListAsync(0, int.MaxValue, cancellationToken).ConfigureAwait(false);
        var contexts = new CustomerTraitContext[states.Count];
        for (var i = 0; i < states.Count; i++)
        {
            contexts[i] = await ContextAsync(session, program, states[i], now, providers, cancellationToken).ConfigureAwait(false);
        }

        return (states, contexts);
    }

    /// <summary>The trait context of a customer inside a parallel batch: storage reads that complete synchronously (the
    /// in-memory store, caches) cost nothing; others are waited for on the worker thread.</summary>
    private static CustomerTraitContext Context(ILoyaltyStoreSession session, LoyaltyProgram program, CustomerSegmentState state, Instant now, ICustomerTraitProvider[] providers, CancellationToken cancellationToken)
    {
        var p = session.Profiles.GetAsync(state.Customer, cancellationToken);
        var profile = p.IsCompletedSuccessfully ? p.Result : p.AsTask().GetAwaiter().GetResult();
        var i = session.Identity.GetAsync(state.Customer, cancellationToken);
        var identity = i.IsCompletedSuccessfully ? i.Result : i.AsTask().GetAwaiter().GetResult();
        var context = new CustomerTraitContext(state.Customer, profile, identity, state, program, now, session);
        foreach (var provider in providers)
        {
            var prepared = provider.PrepareAsync(context, cancellationToken);
            if (!prepared.IsCompletedSuccessfully)
            {
                prepared.AsTask().GetAwaiter().GetResult();
            }
        }

        return context;
    }

    private static async ValueTask<CustomerTraitContext> ContextAsync(ILoyaltyStoreSession session, LoyaltyProgram program, CustomerSegmentState state, Instant now, ICustomerTraitProvider[] providers, CancellationToken cancellationToken)
    {
        CustomerProfile? profile = await session.Profiles.GetAsync(state.Customer, cancellationToken).ConfigureAwait(false);
        CustomerIdentity? identity = await session.Identity.GetAsync(state.Customer, cancellationToken).ConfigureAwait(false);
        var context = new CustomerTraitContext(state.Customer, profile, identity, state, program, now, session);
        foreach (var provider in providers)
        {
            await provider.PrepareAsync(context, cancellationToken).ConfigureAwait(false);
        }

        return context;
    }
}
