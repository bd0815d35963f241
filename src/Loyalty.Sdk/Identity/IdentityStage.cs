using System.Security.Cryptography;
using System.Text;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Telemetry;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace Loyalty.Sdk.Identity;

/// <summary>
/// Deterministic identity resolution: normalizes the event's identifiers under their type's policy, ignores blocked
/// values (configured, built-in and auto-blocked), finds the customers that hold them, creates a customer when none
/// does, links new identifiers, and merges customers that the event proves to be one person (the earliest first seen
/// survives; the absorbed id redirects to it). A link or merge that would break a per-type limit, a cap, a protection
/// or a "do not link again" rule is refused: the event's lowest-priority identifier is dropped and resolution retried.
/// A value that keeps being refused for different customers is blocked for the tenant automatically.
/// </summary>
public sealed class IdentityStage : IIdentityStage
{
    /// <summary>Rule that creates a customer for identifiers never seen.</summary>
    public const string NewCustomerRule = "identity.new_customer";

    /// <summary>Rule that links identifiers seen together on one event.</summary>
    public const string CoOccurrenceRule = "identity.co_occurrence";

    /// <summary>Rule that merges customers whose identifiers appear on one event.</summary>
    public const string MergeRule = "identity.merge_on_shared_event";

    /// <summary>Rule that refuses a link or merge beyond a per-type limit.</summary>
    public const string LimitRule = "identity.limit";

    /// <summary>Rule that refuses a link or merge beyond the identifier or merge caps of a customer.</summary>
    public const string CapRule = "identity.cap";

    /// <summary>Rule that refuses merging a protected customer.</summary>
    public const string ProtectedRule = "identity.protected";

    /// <summary>Rule that refuses merging customers a split separated.</summary>
    public const string DoNotLinkRule = "identity.do_not_link";

    /// <summary>Rule that ignores configured and placeholder values.</summary>
    public const string BlockedRule = "identity.blocked_value";

    /// <summary>Rule that blocks a value that keeps linking different customers.</summary>
    public const string AutoBlockRule = "identity.auto_block";

    /// <summary>Rule of merges decided by probabilistic matching.</summary>
    public const string ProbabilisticRule = "identity.probabilistic";

    private readonly ICustomerMergeParticipant[] participants;
    private readonly ILogger logger;

    /// <summary>Creates the stage.</summary>
    public IdentityStage(IEnumerable<ICustomerMergeParticipant> participants, ILogger<IdentityStage>? logger = null)
    {
        this.participants = participants?.ToArray() ?? throw new ArgumentNullException(nameof(participants));
        this.logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<IdentityStage>.Instance;
    }

    /// <summary>Follows merge redirects from <paramref name="customer"/> to the surviving customer.</summary>
    public static async ValueTask<CustomerIdentity?> FollowAsync(IIdentityRepository repository, CustomerId customer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var identity = await repository.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        for (var hops = 0; identity?.MergedInto is { } next; hops++)
        {
            if (hops > 64)
            {
                throw new InvalidOperationException($"Merge redirects from {customer} form a chain longer than 64 or a cycle.");
            }

            identity = await repository.GetAsync(next, cancellationToken).ConfigureAwait(false);
        }

        return identity;
    }

    /// <summary>
    /// The pure core of resolution: whether linking <paramref name="incoming"/> (identifiers nobody holds yet) and
    /// merging <paramref name="holders"/> breaks a per-type limit or a cap of <paramref name="policy"/>. Returns the
    /// rule and a reason, or <c>null</c> when allowed. Only growth is refused: a customer already above a limit (the
    /// policy changed) is not punished for an event that adds nothing of that type.
    /// </summary>
    public static (string Rule, string Reason)? CheckLimits(IReadOnlyList<CustomerIdentity> holders, IReadOnlyList<Identifier> incoming, IdentityPolicy policy, Instant now)
    {
        ArgumentNullException.ThrowIfNull(holders);
        ArgumentNullException.ThrowIfNull(incoming);
        ArgumentNullException.ThrowIfNull(policy);
        if (incoming.Count == 0 && holders.Count <= 1)
        {
            return null;
        }

        var total = incoming.Count;
        var maxSingle = 0;
        var merges = holders.Count - 1;
        for (var h = 0; h < holders.Count; h++)
        {
            total += holders[h].Links.Count;
            maxSingle = Math.Max(maxSingle, holders[h].Links.Count);
            merges += holders[h].Merges.Count;
        }

        if (total > policy.MaxIdentifiersPerCustomer && total > maxSingle)
        {
            return (CapRule, $"the customer would hold {total} identifiers, above the cap of {policy.MaxIdentifiersPerCustomer}");
        }

        if (holders.Count > 1 && merges > policy.MaxMergesPerCustomer)
        {
            return (CapRule, $"the customer would have absorbed {merges} customers, above the cap of {policy.MaxMergesPerCustomer}");
        }

        // Types whose count can grow: those of the incoming identifiers, and every type when customers merge.
        var candidates = incoming.Count + (holders.Count > 1 ? total - incoming.Count : 0);
        for (var t = 0; t < candidates; t++)
        {
            var type = t < incoming.Count ? incoming[t].Type : LinkAt(holders, t - incoming.Count).Identifier.Type;
            var typePolicy = policy.For(type);
            if (typePolicy.EffectiveLimit is not { } limit)
            {
                continue;
            }

            var since = typePolicy.LimitWindowDays is { } days ? now - Duration.FromDays(days) : Instant.MinValue;
            var combined = 0;
            var single = 0;
            foreach (var i in incoming)
            {
                combined += i.Type == type ? 1 : 0;
            }

            for (var h = 0; h < holders.Count; h++)
            {
                var count = 0;
                foreach (var link in holders[h].Links)
                {
                    if (link.Identifier.Type == type && link.LinkedAt >= since)
                    {
                        count++;
                    }
                }

                combined += count;
                single = Math.Max(single, count);
            }

            if (combined > limit && combined > single)
            {
                var window = typePolicy.LimitWindowDays is { } d ? $" within {d} days" : string.Empty;
                return (LimitRule, $"the customer would hold {combined} {type} values{window}, above the limit of {limit}");
            }
        }

        return null;
    }

    private static IdentityLink LinkAt(IReadOnlyList<CustomerIdentity> holders, int index)
    {
        foreach (var h in holders)
        {
            if (index < h.Links.Count)
            {
                return h.Links[index];
            }

            index -= h.Links.Count;
        }

        throw new ArgumentOutOfRangeException(nameof(index));
    }

    /// <inheritdoc />
    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var repository = context.Session.Identity;
        var e = context.Event;
        var policy = context.Program.Identity;

        var identifiers = new List<Identifier>(e.Identifiers.Count);
        var blocked = new List<(Identifier Identifier, string Rule, string Why)>();
        var errors = new List<ValidationError>();
        for (var i = 0; i < e.Identifiers.Count; i++)
        {
            var raw = e.Identifiers[i];
            var n = IdentifierNormalizer.Normalize(raw, context.Program.DefaultRegion, policy.For(raw.Type));
            if (n.Error is not null)
            {
                errors.Add(new ValidationError($"$.identifiers[{i}].value", "invalid_identifier", n.Error));
            }
            else if (n.Blocked)
            {
                blocked.Add((raw, BlockedRule, "a placeholder or blocked value that must never link customers"));
            }
            else if (!identifiers.Contains(n.Identifier!))
            {
                identifiers.Add(n.Identifier!);
            }
        }

        if (errors.Count > 0)
        {
            throw new EventValidationException(errors);
        }

        var controls = context.Session.IdentityControls;
        for (var i = identifiers.Count - 1; i >= 0; i--)
        {
            if (await controls.GetBlockAsync(identifiers[i], cancellationToken).ConfigureAwait(false) is { } block)
            {
                blocked.Add((identifiers[i], block.Automatic ? AutoBlockRule : BlockedRule, block.Automatic ? "auto-blocked: it kept linking different customers" : block.Reason));
                identifiers.RemoveAt(i);
            }
        }

        if (identifiers.Count == 0)
        {
            throw new EventValidationException([new ValidationError("$.identifiers", "no_usable_identifier", "Every identifier of the event is a blocked placeholder value.")]);
        }

        // Highest priority first (stable), so that a refused link drops the least trusted identifier.
        // (Insertion sort: two or three identifiers, no allocation.)
        for (var i = 1; i < identifiers.Count; i++)
        {
            var current = identifiers[i];
            var priority = policy.For(current.Type).EffectivePriority;
            var j = i - 1;
            while (j >= 0 && policy.For(identifiers[j].Type).EffectivePriority < priority)
            {
                identifiers[j + 1] = identifiers[j];
                j--;
            }

            identifiers[j + 1] = current;
        }

        var refusals = new List<(Identifier Dropped, CustomerId? Holder, string Rule, string Reason)>();
        List<CustomerIdentity> holders;
        List<Identifier> incoming;
        while (true)
        {
            holders = [];
            incoming = [];
            CustomerId? droppedHolder = null;
            foreach (var identifier in identifiers)
            {
                if (await repository.FindByIdentifierAsync(identifier, cancellationToken).ConfigureAwait(false) is { } holder
                    && await FollowAsync(repository, holder, cancellationToken).ConfigureAwait(false) is { } identity)
                {
                    if (!HoldsCustomer(holders, identity.Customer))
                    {
                        holders.Add(identity);
                    }

                    if (ReferenceEquals(identifier, identifiers[^1]))
                    {
                        droppedHolder = identity.Customer;
                    }
                }
                else
                {
                    incoming.Add(identifier);
                }
            }

            var refusal = await CheckGuardsAsync(controls, holders, cancellationToken).ConfigureAwait(false) ?? CheckLimits(holders, incoming, policy, context.Now);
            if (refusal is null)
            {
                break;
            }

            refusals.Add((identifiers[^1], droppedHolder, refusal.Value.Rule, refusal.Value.Reason));
            identifiers.RemoveAt(identifiers.Count - 1);
        }

        CustomerIdentity survivor;
        if (holders.Count == 0)
        {
            survivor = new CustomerIdentity
            {
                Customer = NewCustomerId(context.Tenant, e.Id),
                FirstSeen = e.OccurredAt,
                Links = identifiers.Select(i => new IdentityLink(i, e.Id, context.Now, NewCustomerRule)).ToArray(),
                Evidence = identifiers.Count > 1 ? [new LinkEvidence(e.Id, identifiers.ToArray(), context.Now, NewCustomerRule)] : [],
            };
            await repository.SaveAsync(survivor, 0, cancellationToken).ConfigureAwait(false);
            context.Customer = survivor.Customer;
            context.NewCustomer = true;
            context.Decide(Capabilities.Identity, "customer_created", NewCustomerRule, $"New customer for {string.Join(", ", identifiers)}.",
                new Dictionary<string, string> { ["identifiers"] = string.Join(", ", identifiers) });
        }
        else
        {
            holders.Sort((a, b) => a.FirstSeen != b.FirstSeen ? a.FirstSeen.CompareTo(b.FirstSeen) : string.CompareOrdinal(a.Customer.Value, b.Customer.Value));
            context.Customer = holders[0].Customer;
            await MergeAsync(context, holders[0], holders.Skip(1).ToArray(), incoming, identifiers, MergeRule, actor: null, participants, cancellationToken).ConfigureAwait(false);
        }

        context.ResolvedIdentifiers = identifiers;

        foreach (var (dropped, holder, rule, reason) in refusals)
        {
            context.Decide(Capabilities.Identity, "link_refused", rule, $"Did not use {dropped}: {reason}.",
                new Dictionary<string, string> { ["identifier"] = dropped.ToString(), ["holder"] = holder?.Value ?? string.Empty, ["reason"] = reason });
            LoyaltyTelemetry.LinksRefused.Add(1, new KeyValuePair<string, object?>("rule", rule));
            if (holder is { } h && h != context.Customer && policy.AutoBlockThreshold > 0 && !policy.For(dropped.Type).Unique)
            {
                var distinct = await controls.RecordSharingAsync(dropped, context.RequireCustomer(), policy.AutoBlockThreshold, cancellationToken).ConfigureAwait(false);
                if (distinct >= policy.AutoBlockThreshold && await controls.GetBlockAsync(dropped, cancellationToken).ConfigureAwait(false) is null)
                {
                    var why = $"it was refused for {distinct} different customers besides its holder {h}";
                    await controls.BlockAsync(new BlockedValue(dropped, why, context.Now, Automatic: true, distinct), cancellationToken).ConfigureAwait(false);
                    context.Decide(Capabilities.Identity, "identifier_auto_blocked", AutoBlockRule, $"Blocked {dropped} for tenant {context.Tenant}: {why}.",
                        new Dictionary<string, string> { ["identifier"] = dropped.ToString(), ["distinctCustomers"] = distinct.ToString(System.Globalization.CultureInfo.InvariantCulture), ["holder"] = h.Value });
                    LoyaltyTelemetry.AutoBlocked.Add(1, new KeyValuePair<string, object?>("type", dropped.Type.Name));
                    Log.AutoBlocked(logger, dropped.Type.Name, context.Tenant.Value, distinct, e.Id.Value);
                }
            }
        }

        foreach (var (b, rule, why) in blocked)
        {
            context.Decide(Capabilities.Identity, "identifier_blocked", rule, $"Ignored {b.Type} value '{b.Value}': {why}.",
                new Dictionary<string, string> { ["identifier"] = b.ToString() });
        }
    }

    private static bool HoldsCustomer(List<CustomerIdentity> holders, CustomerId customer)
    {
        foreach (var h in holders)
        {
            if (h.Customer == customer)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Protection and "do not link again" rules between the customers an event would merge.</summary>
    internal static async ValueTask<(string Rule, string Reason)?> CheckGuardsAsync(IIdentityControlRepository controls, IReadOnlyList<CustomerIdentity> holders, CancellationToken cancellationToken)
    {
        if (holders.Count < 2)
        {
            return null;
        }

        foreach (var h in holders)
        {
            if (h.Protection is { } p)
            {
                return (ProtectedRule, $"{h.Customer} is protected from merging by {p.Actor} ({p.Reason})");
            }
        }

        for (var i = 0; i < holders.Count; i++)
        {
            for (var j = i + 1; j < holders.Count; j++)
            {
                if (await controls.IsDoNotLinkAsync(holders[i].Customer, holders[j].Customer, cancellationToken).ConfigureAwait(false))
                {
                    return (DoNotLinkRule, $"{holders[i].Customer} and {holders[j].Customer} were split by staff and must not be linked again");
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The merge path shared by ingestion, staff and probabilistic matching: absorbs <paramref name="absorbed"/> into
    /// <paramref name="survivor"/> keeping in each merge record what an unmerge needs (the absorbed identifiers,
    /// merges and profile snapshot), links <paramref name="incoming"/>, records the <paramref name="evidence"/> that tied
    /// them (the event's identifiers; for a staff or probabilistic merge, every identifier of the customers merged), and
    /// signals every participant. <paramref name="context"/>'s customer must be the survivor.
    /// </summary>
    internal static async ValueTask<CustomerIdentity> MergeAsync(
        IngestContext context, CustomerIdentity survivor, IReadOnlyList<CustomerIdentity> absorbed, IReadOnlyList<Identifier> incoming, IReadOnlyList<Identifier> evidence,
        string rule, string? actor, IReadOnlyList<ICustomerMergeParticipant> participants, CancellationToken cancellationToken)
    {
        var repository = context.Session.Identity;
        var e = context.Event;
        if (absorbed.Count == 0 && !AddsAnything(survivor, incoming, evidence, e))
        {
            // The hot path: every identifier already held, and a combination already recorded.
            return survivor;
        }

        var links = survivor.Links.ToList();
        var edges = survivor.Evidence.ToList();
        var merges = survivor.Merges.ToList();
        var firstSeen = survivor.FirstSeen;
        foreach (var a in absorbed)
        {
            var snapshot = await context.Session.Profiles.GetAsync(a.Customer, cancellationToken).ConfigureAwait(false);
            links.AddRange(a.Links);
            edges.AddRange(a.Evidence);
            merges.AddRange(a.Merges);
            merges.Add(new MergeRecord(a.Customer, survivor.Customer, e.Id, context.Now, rule)
            {
                AbsorbedLinks = a.Links, AbsorbedFirstSeen = a.FirstSeen, AbsorbedMerges = a.Merges, AbsorbedProfile = snapshot, Actor = actor,
            });
            firstSeen = a.FirstSeen < firstSeen ? a.FirstSeen : firstSeen;
            await repository.SaveAsync(a with { Links = [], Merges = [], MergedInto = survivor.Customer }, a.Version, cancellationToken).ConfigureAwait(false);
            context.AddMerged(a.Customer);
            var inputs = new Dictionary<string, string>
            {
                ["absorbed"] = a.Customer.Value,
                ["identifiers"] = string.Join(", ", e.Identifiers),
                ["survivorFirstSeen"] = survivor.FirstSeen.ToString(),
                ["absorbedFirstSeen"] = a.FirstSeen.ToString(),
            };
            if (actor is not null)
            {
                inputs["actor"] = actor;
            }

            context.Decide(Capabilities.Identity, "merged", rule, rule == MergeRule
                ? $"Merged {a.Customer} into {survivor.Customer}: one event carried identifiers of both."
                : $"Merged {a.Customer} into {survivor.Customer} under {rule}.", inputs);
            LoyaltyTelemetry.Merges.Add(1);
        }

        var added = new List<Identifier>();
        foreach (var identifier in incoming)
        {
            if (!links.Exists(l => l.Identifier == identifier))
            {
                links.Add(new IdentityLink(identifier, e.Id, context.Now, CoOccurrenceRule));
                added.Add(identifier);
            }
        }

        if (e.OccurredAt < firstSeen && e.Identifiers.Count > 0)
        {
            firstSeen = e.OccurredAt;
        }

        // The event's identifiers are an edge of the graph a split replays. An event that only repeats identifiers the
        // customer holds is recorded when no earlier record already ties all of them (rarely: the same combinations repeat).
        var tie = evidence.Count > 1 && (absorbed.Count > 0 || added.Count > 0 || !IdentityGraph.Covers(edges, evidence));
        if (tie)
        {
            edges.Add(new LinkEvidence(e.Id, evidence.ToArray(), context.Now, absorbed.Count == 0 ? CoOccurrenceRule : rule));
        }

        var result = survivor with { Links = links, Evidence = edges, Merges = merges, FirstSeen = firstSeen };
        if (absorbed.Count > 0 || added.Count > 0 || tie || firstSeen != survivor.FirstSeen)
        {
            await repository.SaveAsync(result, survivor.Version, cancellationToken).ConfigureAwait(false);
            result = result with { Version = survivor.Version + 1 };
        }

        foreach (var identifier in added)
        {
            context.Decide(Capabilities.Identity, "identifier_linked", CoOccurrenceRule, $"Linked {identifier}: seen on the same event as a known identifier.",
                new Dictionary<string, string> { ["identifier"] = identifier.ToString() });
        }

        foreach (var a in absorbed)
        {
            foreach (var participant in participants)
            {
                await participant.OnMergedAsync(new CustomerMerged(context, survivor.Customer, a.Customer), cancellationToken).ConfigureAwait(false);
            }
        }

        return result;
    }

    // Whether an event resolved to one customer links, records or moves anything (first seen included).
    private static bool AddsAnything(CustomerIdentity survivor, IReadOnlyList<Identifier> incoming, IReadOnlyList<Identifier> evidence, Events.LoyaltyEvent e)
    {
        foreach (var identifier in incoming)
        {
            var held = false;
            foreach (var link in survivor.Links)
            {
                if (link.Identifier == identifier)
                {
                    held = true;
                    break;
                }
            }

            if (!held)
            {
                return true;
            }
        }

        return (e.OccurredAt < survivor.FirstSeen && e.Identifiers.Count > 0) || (evidence.Count > 1 && !IdentityGraph.Covers(survivor.Evidence, evidence));
    }

    /// <summary>A customer id derived from the tenant and the id of the event that created it, so that replaying the
    /// same history yields the same ids.</summary>
    public static CustomerId NewCustomerId(TenantId tenant, EventId createdBy)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{tenant.Value}\n{createdBy.Value}"), hash);
        return new CustomerId("cus_" + Convert.ToHexStringLower(hash[..10]));
    }
}
