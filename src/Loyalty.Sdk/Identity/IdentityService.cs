using System.Globalization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Telemetry;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace Loyalty.Sdk.Identity;

/// <summary>
/// Staff operations on the identity graph (<see cref="IIdentityService"/>), each in one unit of work: checks first
/// (typed <see cref="IdentityOperationException"/>, nothing changed), then the change, the participants' signals and
/// the audit decisions (with actor and reason), then commit.
/// </summary>
public sealed class IdentityService : IIdentityService
{
    private static readonly HashSet<string> RefusalActions = new(StringComparer.Ordinal) { "link_refused", "identifier_blocked", "identifier_auto_blocked", "merge_refused" };

    private readonly ILoyaltyStore store;
    private readonly IProgramProvider programs;
    private readonly IClock clock;
    private readonly ICustomerMergeParticipant[] mergeParticipants;
    private readonly ICustomerSplitParticipant[] splitParticipants;
    private readonly ILogger logger;

    /// <summary>Creates the service; the dependency-injection container normally does this.</summary>
    public IdentityService(
        ILoyaltyStore store, IProgramProvider programs, IClock clock, IEnumerable<ICustomerMergeParticipant> mergeParticipants, IEnumerable<ICustomerSplitParticipant> splitParticipants,
        ILogger<IdentityService>? logger = null)
    {
        this.store = store ?? throw new ArgumentNullException(nameof(store));
        this.programs = programs ?? throw new ArgumentNullException(nameof(programs));
        this.clock = clock ?? throw new ArgumentNullException(nameof(clock));
        this.mergeParticipants = mergeParticipants?.ToArray() ?? throw new ArgumentNullException(nameof(mergeParticipants));
        this.splitParticipants = splitParticipants?.ToArray() ?? throw new ArgumentNullException(nameof(splitParticipants));
        this.logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<IdentityService>.Instance;
    }

    /// <inheritdoc />
    public async ValueTask<IdentityOperationResult> ProtectAsync(TenantId tenant, CustomerId customer, string actor, string reason, CancellationToken cancellationToken = default)
    {
        RequireAudit(actor, reason);
        var program = programs.GetProgram(tenant);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await RequireAsync(session, customer, cancellationToken).ConfigureAwait(false);
        var now = clock.GetCurrentInstant();
        await session.Identity.SaveAsync(identity with { Protection = new ProtectionRecord(actor, reason, now) }, identity.Version, cancellationToken).ConfigureAwait(false);
        var context = Context(session, program, tenant, now, "protect", identity.Customer);
        context.Decide(Capabilities.Identity, "protected", "identity.staff_protect", $"{actor} protected {identity.Customer} from merging: {reason}.", Audit(actor, reason));
        await session.Decisions.AppendAsync(context.Decisions, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new IdentityOperationResult(identity.Customer, identity.Customer, [], context.Decisions.ToArray());
    }

    /// <inheritdoc />
    public async ValueTask<IdentityOperationResult> SplitAsync(TenantId tenant, CustomerId customer, Identifier identifier, string actor, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        RequireAudit(actor, reason);
        var program = programs.GetProgram(tenant);
        var normalized = Normalize(program, identifier);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await RequireAsync(session, customer, cancellationToken).ConfigureAwait(false);
        if (!identity.Links.Any(l => l.Identifier == normalized))
        {
            // Idempotent: the same split asked again returns what it did, and changes nothing.
            var done = identity.Splits.Where(r => r.Kind == "split" && r.Removed == normalized).ToArray();
            if (done.Length > 0)
            {
                return new IdentityOperationResult(identity.Customer, done[^1].SplitOff, done.SelectMany(r => r.Identifiers).ToArray(), [])
                {
                    SplitOff = done.Select(r => r.SplitOff).ToArray(),
                };
            }

            throw new IdentityOperationException("identifier_not_held", $"{identity.Customer} does not hold {normalized}.");
        }

        if (identity.Links.Count == 1)
        {
            throw new IdentityOperationException("last_identifier", $"{normalized} is the only identifier of {identity.Customer}; there is nothing to split it from.");
        }

        // Replay the graph without the removed identifier: the first component stays, every other becomes a customer.
        var components = IdentityGraph.Components(identity, normalized);
        var now = clock.GetCurrentInstant();
        var context = Context(session, program, tenant, now, "split", identity.Customer);
        var owner = new Dictionary<Identifier, int>();
        for (var c = 0; c < components.Count; c++)
        {
            foreach (var link in components[c])
            {
                owner[link.Identifier] = c;
            }
        }

        var ids = new CustomerId[components.Count];
        ids[0] = identity.Customer;
        for (var c = 1; c < components.Count; c++)
        {
            // Derived from the customer's version too: an identifier split off, linked back by later events and split
            // off again gets a new customer, not the one absorbed since.
            ids[c] = IdentityStage.NewCustomerId(tenant, new EventId(string.Create(CultureInfo.InvariantCulture, $"split:{identity.Customer.Value}@{identity.Version}:{components[c][0].Identifier}")));
            if (await session.Identity.GetAsync(ids[c], cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new IdentityOperationException("split_conflict", $"The customer id {ids[c]} derived for {components[c][0].Identifier} is already taken; nothing changed.");
            }
        }

        // A merged customer follows the identifiers it brought (the first of them still held decides).
        var merges = new List<MergeRecord>[components.Count];
        for (var c = 0; c < components.Count; c++)
        {
            merges[c] = [];
        }

        foreach (var merge in identity.Merges)
        {
            var target = 0;
            foreach (var brought in merge.AbsorbedLinks)
            {
                if (owner.TryGetValue(brought.Identifier, out var c))
                {
                    target = c;
                    break;
                }
            }

            merges[target].Add(merge);
        }

        var records = new SplitRecord[components.Count - 1];
        for (var c = 1; c < components.Count; c++)
        {
            records[c - 1] = new SplitRecord(ids[c], components[c].Select(l => l.Identifier).ToArray(), "split", actor, reason, now) { Removed = normalized };
        }

        IReadOnlyList<LinkEvidence> EvidenceOf(List<IdentityLink> component) =>
            IdentityGraph.Restrict(identity.Evidence, component.Select(l => l.Identifier).ToHashSet());

        await session.Identity.SaveAsync(
            identity with { Links = components[0], Evidence = EvidenceOf(components[0]), Merges = merges[0], Splits = [.. identity.Splits, .. records] },
            identity.Version,
            cancellationToken).ConfigureAwait(false);
        for (var c = 1; c < components.Count; c++)
        {
            var firstSeen = components[c].Min(l => l.LinkedAt);
            foreach (var m in merges[c])
            {
                firstSeen = m.AbsorbedFirstSeen is { } f && f < firstSeen ? f : firstSeen;
            }

            await session.Identity.SaveAsync(
                new CustomerIdentity { Customer = ids[c], FirstSeen = firstSeen, Links = components[c], Evidence = EvidenceOf(components[c]), Merges = merges[c], Splits = [records[c - 1]] },
                0,
                cancellationToken).ConfigureAwait(false);
            foreach (var absorbed in merges[c].Select(m => m.Absorbed).Distinct())
            {
                if (await session.Identity.GetAsync(absorbed, cancellationToken).ConfigureAwait(false) is { } a && a.MergedInto != ids[c])
                {
                    await session.Identity.SaveAsync(a with { MergedInto = ids[c] }, a.Version, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        var parts = Enumerable.Range(1, components.Count - 1).Select(c => (ids[c], records[c - 1].Identifiers)).ToArray();
        return await FinishSplitAsync(session, program, context, identity.Customer, parts, null, normalized, actor, reason, "split", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IdentityOperationResult> UnmergeAsync(TenantId tenant, CustomerId survivor, CustomerId absorbed, string actor, string reason, CancellationToken cancellationToken = default)
    {
        RequireAudit(actor, reason);
        var program = programs.GetProgram(tenant);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await RequireAsync(session, survivor, cancellationToken).ConfigureAwait(false);
        var merge = identity.Merges.LastOrDefault(m => m.Absorbed == absorbed)
            ?? throw new IdentityOperationException("not_merged", $"{absorbed} was not merged into {identity.Customer}.");
        var absorbedIdentity = await session.Identity.GetAsync(absorbed, cancellationToken).ConfigureAwait(false)
            ?? throw new IdentityOperationException("unknown_customer", $"No customer {absorbed}.");

        var brought = merge.AbsorbedLinks.Select(l => l.Identifier).ToHashSet();
        var moving = identity.Links.Where(l => brought.Contains(l.Identifier)).ToArray();
        var nested = merge.AbsorbedMerges.Select(m => m.Absorbed).ToHashSet();
        var now = clock.GetCurrentInstant();
        var context = Context(session, program, tenant, now, "unmerge", identity.Customer);
        var record = new SplitRecord(absorbed, moving.Select(l => l.Identifier).ToArray(), "unmerge", actor, reason, now);
        await session.Identity.SaveAsync(
            identity with
            {
                Links = identity.Links.Where(l => !brought.Contains(l.Identifier)).ToArray(),
                Evidence = IdentityGraph.Restrict(identity.Evidence, identity.Links.Select(l => l.Identifier).Where(i => !brought.Contains(i)).ToHashSet()),
                Merges = identity.Merges.Where(m => m != merge && !nested.Contains(m.Absorbed)).ToArray(),
                Splits = [.. identity.Splits, record],
            },
            identity.Version,
            cancellationToken).ConfigureAwait(false);
        await session.Identity.SaveAsync(
            absorbedIdentity with
            {
                MergedInto = null, Links = moving, Evidence = IdentityGraph.Restrict(identity.Evidence, moving.Select(l => l.Identifier).ToHashSet()), Merges = merge.AbsorbedMerges, FirstSeen = merge.AbsorbedFirstSeen ?? absorbedIdentity.FirstSeen,
                Splits = [.. absorbedIdentity.Splits, record],
            },
            absorbedIdentity.Version,
            cancellationToken).ConfigureAwait(false);
        return await FinishSplitAsync(session, program, context, identity.Customer, [(absorbed, record.Identifiers)], merge, null, actor, reason, "unmerge", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IdentityOperationResult> MergeAsync(TenantId tenant, CustomerId survivor, CustomerId absorbed, string rule, string actor, string reason, CancellationToken cancellationToken = default)
    {
        RequireAudit(actor, reason);
        if (string.IsNullOrWhiteSpace(rule))
        {
            throw new IdentityOperationException("required", "A merge needs the rule that decided it.");
        }

        var program = programs.GetProgram(tenant);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var a = await RequireAsync(session, survivor, cancellationToken).ConfigureAwait(false);
        var b = await RequireAsync(session, absorbed, cancellationToken).ConfigureAwait(false);
        if (a.Customer == b.Customer)
        {
            throw new IdentityOperationException("same_customer", $"{survivor} and {absorbed} are already one customer ({a.Customer}).");
        }

        // As in ingestion, the earliest first seen survives.
        var pair = new List<CustomerIdentity> { a, b };
        pair.Sort((x, y) => x.FirstSeen != y.FirstSeen ? x.FirstSeen.CompareTo(y.FirstSeen) : string.CompareOrdinal(x.Customer.Value, y.Customer.Value));
        var now = clock.GetCurrentInstant();
        if ((await IdentityStage.CheckGuardsAsync(session.IdentityControls, pair, cancellationToken).ConfigureAwait(false) ?? IdentityStage.CheckLimits(pair, [], program.Identity, now)) is { } refusal)
        {
            throw new IdentityOperationException(refusal.Rule == IdentityStage.ProtectedRule ? "protected" : refusal.Rule == IdentityStage.DoNotLinkRule ? "do_not_link" : "limit", $"Merge refused ({refusal.Rule}): {refusal.Reason}.");
        }

        var context = Context(session, program, tenant, now, "merge", pair[0].Customer);
        var tied = pair.SelectMany(p => p.Links).Select(l => l.Identifier).Distinct().ToArray();
        await IdentityStage.MergeAsync(context, pair[0], [pair[1]], [], tied, rule, actor, mergeParticipants, cancellationToken).ConfigureAwait(false);
        await session.Decisions.AppendAsync(context.Decisions.Select(d => d with { Inputs = new Dictionary<string, string>(d.Inputs) { ["actor"] = actor, ["reason"] = reason } }).ToArray(), cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new IdentityOperationResult(pair[0].Customer, pair[1].Customer, pair[1].Links.Select(l => l.Identifier).ToArray(), context.Decisions.ToArray());
    }

    /// <inheritdoc />
    public async ValueTask<CustomerExplanation> ExplainAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var identity = await RequireAsync(session, customer, cancellationToken).ConfigureAwait(false);
        var provenance = identity.Links.Select(l => new IdentifierProvenance(
            l.Identifier, l.Source, l.Rule, l.LinkedAt, identity.Merges.FirstOrDefault(m => m.AbsorbedLinks.Any(x => x.Identifier == l.Identifier))?.Absorbed)).ToArray();
        var refusals = new List<Decision>();
        foreach (var id in identity.Merges.Select(m => m.Absorbed).Prepend(identity.Customer).Distinct())
        {
            refusals.AddRange((await session.Decisions.ListAsync(id, 0, int.MaxValue, cancellationToken).ConfigureAwait(false)).Where(d => RefusalActions.Contains(d.Action)));
        }

        return new CustomerExplanation
        {
            Customer = identity.Customer,
            FirstSeen = identity.FirstSeen,
            Identifiers = provenance,
            Merges = identity.Merges,
            Splits = identity.Splits,
            Protection = identity.Protection,
            Refusals = refusals.OrderBy(d => d.DecidedAt).ToArray(),
        };
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<BlockedValue>> ListBlockedValuesAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        return await session.IdentityControls.ListBlocksAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<IdentityOperationResult> FinishSplitAsync(
        ILoyaltyStoreSession session, LoyaltyProgram program, IngestContext context, CustomerId survivor, IReadOnlyList<(CustomerId SplitOff, IReadOnlyList<Identifier> Identifiers)> parts,
        MergeRecord? merge, Identifier? removed, string actor, string reason, string kind, CancellationToken cancellationToken)
    {
        // "Do not link again" between every pair of the customers that came out of the split.
        var all = parts.Select(p => p.SplitOff).Prepend(survivor).ToArray();
        for (var i = 0; i < all.Length; i++)
        {
            for (var j = i + 1; j < all.Length; j++)
            {
                await session.IdentityControls.AddDoNotLinkAsync(new DoNotLinkRule(all[i], all[j], actor, reason, context.Now), cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var (splitOff, identifiers) in parts)
        {
            foreach (var participant in splitParticipants)
            {
                await participant.OnSplitAsync(new CustomerSplit(session, program, context.Now, survivor, splitOff, identifiers, merge, actor, reason, removed), cancellationToken).ConfigureAwait(false);
            }
        }

        var moved = parts.SelectMany(p => p.Identifiers).ToArray();
        var action = kind == "unmerge" ? "unmerged" : "split";
        var inputs = Audit(actor, reason);
        inputs["splitOff"] = string.Join(", ", parts.Select(p => p.SplitOff.Value));
        inputs["identifiers"] = string.Join(", ", moved);
        if (removed is not null)
        {
            inputs["removed"] = removed.ToString();
        }

        var summary = kind == "unmerge"
            ? $"{actor} undid the merge of {parts[0].SplitOff} into {survivor}: {reason}. They will not be linked again automatically."
            : $"{actor} removed {removed} from {survivor}: {reason}. Replayed without it, the graph split into {parts.Count + 1} customers: "
              + string.Join("; ", parts.Select(p => $"{p.SplitOff} holds {string.Join(", ", p.Identifiers)}")) + ". They will not be linked again automatically.";
        context.Decide(Capabilities.Identity, action, "identity.staff_" + kind, summary, inputs);
        foreach (var (splitOff, identifiers) in parts)
        {
            context.Customer = splitOff;
            context.Decide(Capabilities.Identity, action, "identity.staff_" + kind, summary, new Dictionary<string, string>(inputs) { ["identifiers"] = string.Join(", ", identifiers) });
        }

        await session.Decisions.AppendAsync(context.Decisions, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        LoyaltyTelemetry.Splits.Add(1, new KeyValuePair<string, object?>("kind", kind));
        foreach (var (splitOff, _) in parts)
        {
            Log.Split(logger, survivor.Value, session.Tenant.Value, kind, splitOff.Value, actor);
        }

        return new IdentityOperationResult(survivor, parts[^1].SplitOff, moved, context.Decisions.ToArray()) { SplitOff = parts.Select(p => p.SplitOff).ToArray() };
    }

    private static Identifier Normalize(LoyaltyProgram program, Identifier identifier)
    {
        if (identifier.Type.Name is null || !program.IsKnownIdentifierType(identifier.Type))
        {
            throw new IdentityOperationException("invalid_identifier", $"Unknown identifier type '{identifier.Type}'.");
        }

        if (identifier.Value is null || identifier.Value.Length > Identifier.MaxValueLength)
        {
            throw new IdentityOperationException("invalid_identifier", $"An identifier value is 1 to {Identifier.MaxValueLength} characters.");
        }

        var n = IdentifierNormalizer.Normalize(identifier, program.DefaultRegion, program.Identity.For(identifier.Type));
        return n.Identifier ?? throw new IdentityOperationException("invalid_identifier", n.Error ?? $"{identifier} is a blocked value; no customer holds it.");
    }

    private static async ValueTask<CustomerIdentity> RequireAsync(ILoyaltyStoreSession session, CustomerId customer, CancellationToken cancellationToken) =>
        customer.Value is null
            ? throw new IdentityOperationException("unknown_customer", "A customer id is required.")
            : await IdentityStage.FollowAsync(session.Identity, customer, cancellationToken).ConfigureAwait(false)
              ?? throw new IdentityOperationException("unknown_customer", $"No customer {customer}.");

    private static void RequireAudit(string actor, string reason)
    {
        if (string.IsNullOrWhiteSpace(actor) || string.IsNullOrWhiteSpace(reason))
        {
            throw new IdentityOperationException("required", "Identity operations are audited: give the actor and a reason.");
        }
    }

    private static Dictionary<string, string> Audit(string actor, string reason) => new() { ["actor"] = actor, ["reason"] = reason };

    // Participants and decisions work on an IngestContext; staff operations run under a synthetic event whose id
    // names the operation (it is never stored as an ingested event).
    private static IngestContext Context(ILoyaltyStoreSession session, LoyaltyProgram program, TenantId tenant, Instant now, string operation, CustomerId customer)
    {
        var id = new EventId(string.Create(CultureInfo.InvariantCulture, $"identity:{operation}:{customer.Value}:{now.ToUnixTimeTicks()}"));
        var e = new ProfileUpdated { Id = id, Tenant = tenant, OccurredAt = now, Profile = new ProfileData() };
        return new IngestContext(e, program, session, now) { Customer = customer };
    }
}
