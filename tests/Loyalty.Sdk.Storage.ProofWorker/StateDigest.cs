using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Serialization;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Storage.Proof;

/// <summary>What <see cref="StateDigest.ComputeAsync"/> found.</summary>
public sealed record StateDigestResult
{
    /// <summary>SHA-256 (hex) of <see cref="Text"/>.</summary>
    public required string Sha256 { get; init; }

    /// <summary>The canonical text: one line per fact, stable across runs, processes and backends.</summary>
    public required string Text { get; init; }

    /// <summary>Broken invariants (empty when the store is sound).</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>Distinct event ids in the source.</summary>
    public int DistinctEvents { get; init; }

    /// <summary>Source event ids the store records as processed.</summary>
    public int ProcessedEvents { get; init; }

    /// <summary>Customers (survivors) described.</summary>
    public int Customers { get; init; }

    /// <summary>Outbox messages not yet delivered.</summary>
    public int OutboxPending { get; init; }
}

/// <summary>
/// A digest of a store's final state, read only through public services and ports (the engine, the ledger, consent
/// and segment services, the session's repositories): per event whether it was processed and whom it resolved to;
/// per customer the identity, profile, orders, ledger (balances, tier, lots, statement), consent (history and state),
/// segment state, journeys and decision trail; globally segment sizes and members, program accounts, liability,
/// blocked values, reviews, journey statistics and the outbox. Objects are written as JSON with sorted keys; lists
/// whose order is an artefact of interleaving (the tenant-wide consent log sequence, insertion order of members) are
/// normalized. It also checks the invariants: the ledger reconciles (journal vs. hot state, every ledger sums to
/// zero), program accounts plus customer accounts sum to zero per ledger, segment sizes equal their members.
/// </summary>
public static class StateDigest
{
    private static readonly JsonSerializerOptions Json = CreateOptions();

    /// <summary>The end of time for consent states (after every event).</summary>
    private static readonly Instant End = Instant.FromUtc(2999, 1, 1, 0, 0);

    /// <summary>Computes the digest of the store behind <paramref name="host"/> for the events of <paramref name="events"/>.</summary>
    public static async Task<StateDigestResult> ComputeAsync(ProofHost host, IReadOnlyList<LoyaltyEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(events);
        // Services that answer "as of now" (tier progress, liability) read the engine clock: the end of the history,
        // whatever process asks.
        if (events.Count > 0)
        {
            host.Clock.Set(events.Max(EventClock.IngestionInstant));
        }

        var text = new StringBuilder();
        var problems = new List<string>();
        int distinct = 0, processed = 0, customerCount = 0, pending = 0;
        foreach (var tenant in events.Select(e => e.Tenant).Distinct().OrderBy(t => t.Value, StringComparer.Ordinal))
        {
            var ids = events.Where(e => e.Tenant == tenant).Select(e => e.Id).Distinct().OrderBy(e => e.Value, StringComparer.Ordinal).ToArray();
            distinct += ids.Length;
            var (p, c, o) = await TenantAsync(host, tenant, ids, text, problems, cancellationToken).ConfigureAwait(false);
            processed += p;
            customerCount += c;
            pending += o;
        }

        var canonical = text.ToString();
        return new StateDigestResult
        {
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))),
            Text = canonical,
            Problems = problems,
            DistinctEvents = distinct,
            ProcessedEvents = processed,
            Customers = customerCount,
            OutboxPending = pending,
        };
    }

    /// <summary>Claims every outbox message (destructive: leases them) and returns their keys, in claim order, so that
    /// a caller can check that no message is there twice. Call after <see cref="ComputeAsync"/>.</summary>
    public static async Task<IReadOnlyList<string>> ClaimAllOutboxKeysAsync(ProofHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var keys = new List<string>();
        while (true)
        {
            var claims = await host.Store.Outbox.ClaimDueAsync(End, 500, Duration.FromDays(365), "proof-digest", cancellationToken).ConfigureAwait(false);
            keys.AddRange(claims.Select(c => $"{c.Message.Tenant}/{c.Message.Key}"));
            if (claims.Count < 500)
            {
                return keys;
            }
        }
    }

    private static async Task<(int Processed, int Customers, int Pending)> TenantAsync(ProofHost host, TenantId tenant, EventId[] ids, StringBuilder text, List<string> problems, CancellationToken cancellationToken)
    {
        var engine = host.Engine;
        var ledger = host.Ledger;
        var consent = host.Consent;
        var identity = host.Services.GetRequiredService<IIdentityService>();
        text.Append("tenant ").Append(tenant.Value).Append('\n');

        // Repositories are read in short sessions of their own: a store may serialize a tenant's sessions (the
        // in-memory one does), and the services open theirs.
        async Task<T> Read<T>(Func<ILoyaltyStoreSession, ValueTask<T>> read)
        {
            var session = await host.Store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
            await using var scope = session.ConfigureAwait(false);
            return await read(session).ConfigureAwait(false);
        }

        // Events: processed or not, and the customer each resolved to (followed through merges).
        var customers = new SortedSet<string>(StringComparer.Ordinal);
        var processed = 0;
        foreach (var id in ids)
        {
            var record = await Read(s => s.Events.FindAsync(id, cancellationToken)).ConfigureAwait(false);
            if (record is null)
            {
                text.Append("event ").Append(id.Value).Append(" not-processed\n");
                continue;
            }

            processed++;
            string resolved = "-";
            if (record.Customer is { } c)
            {
                var view = await engine.GetCustomerAsync(tenant, c, cancellationToken).ConfigureAwait(false);
                resolved = view?.Identity.Customer.Value ?? $"{c.Value}(gone)";
                customers.Add(resolved);
            }

            text.Append("event ").Append(id.Value).Append(" -> ").Append(resolved).Append(" at ").Append(record.IngestedAt.ToString()).Append('\n');
        }

        text.Append("processed ").Append(processed.ToString(CultureInfo.InvariantCulture)).Append(" of ").Append(ids.Length.ToString(CultureInfo.InvariantCulture)).Append('\n');

        // Every surviving identity, and every customer the ledger holds a state for.
        for (var skip = 0; ; skip += 1000)
        {
            var page = await Read(s => s.IdentityControls.ListCustomersAsync(skip, 1000, cancellationToken)).ConfigureAwait(false);
            foreach (var i in page)
            {
                customers.Add(i.Customer.Value);
            }

            if (page.Count < 1000)
            {
                break;
            }
        }

        var ledgerCustomers = new SortedSet<string>(StringComparer.Ordinal);
        for (var skip = 0; ; skip += 1000)
        {
            var page = await Read(s => s.Ledger.ListCustomersAsync(skip, 1000, cancellationToken)).ConfigureAwait(false);
            foreach (var c in page)
            {
                ledgerCustomers.Add(c.Value);
            }

            if (page.Count < 1000)
            {
                break;
            }
        }

        text.Append("ledger-customers ").Append(string.Join(',', ledgerCustomers)).Append('\n');

        var customerSum = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var memberships = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var value in customers)
        {
            var customer = new CustomerId(value);
            text.Append("customer ").Append(value).Append('\n');
            var view = await engine.GetCustomerAsync(tenant, customer, cancellationToken).ConfigureAwait(false);
            Line(text, "identity", view?.Identity);
            Line(text, "profile", view?.Profile);
            Line(text, "orders", await Read(s => s.Orders.ListByCustomerAsync(customer, cancellationToken)).ConfigureAwait(false));

            var balances = await ledger.GetBalancesAsync(tenant, customer, cancellationToken).ConfigureAwait(false);
            foreach (var b in balances)
            {
                customerSum[b.Ledger] = customerSum.GetValueOrDefault(b.Ledger) + b.Available + b.Pending + b.Reserved;
            }

            Line(text, "balances", balances.OrderBy(b => b.Ledger, StringComparer.Ordinal));
            Line(text, "tier", await ledger.GetTierAsync(tenant, customer, cancellationToken).ConfigureAwait(false));
            Line(text, "lots", await ledger.GetLotsAsync(tenant, customer, cancellationToken).ConfigureAwait(false));
            Line(text, "statement", await ledger.GetStatementAsync(tenant, customer, 0, int.MaxValue, cancellationToken).ConfigureAwait(false));

            // The consent log's sequence is tenant-wide (its order across customers depends on interleaving); within
            // one customer only the order matters, which the list keeps.
            var history = await consent.GetHistoryAsync(tenant, customer, cancellationToken).ConfigureAwait(false);
            Line(text, "consent-history", history.Select(r => r with { Sequence = 0 }));
            CheckIncreasing(history.Select(r => r.Sequence), $"consent sequence of {value}", problems);
            Line(text, "consent-state", await consent.GetStatesAsync(tenant, customer, End, cancellationToken).ConfigureAwait(false));

            var segment = await Read(s => s.Segments.GetAsync(customer, cancellationToken)).ConfigureAwait(false);
            Line(text, "segments", segment);
            foreach (var s in segment?.Memberships.Keys ?? Enumerable.Empty<string>())
            {
                if (!memberships.TryGetValue(s, out var set))
                {
                    memberships[s] = set = new SortedSet<string>(StringComparer.Ordinal);
                }

                set.Add(value);
            }

            Line(text, "journeys", (await Read(s => s.Journeys.ListForCustomerAsync(customer, cancellationToken)).ConfigureAwait(false)).OrderBy(j => j.Journey, StringComparer.Ordinal));
            var trail = await engine.GetDecisionTrailAsync(tenant, customer, 0, int.MaxValue, cancellationToken).ConfigureAwait(false);
            text.Append("decisions ").Append(trail.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            Line(text, "trail", trail);
        }

        text.Append("customers ").Append(customers.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');

        // Segments: sizes, members, and both against the customers' own memberships.
        var sizes = await host.Segments.GetSizesAsync(tenant, cancellationToken).ConfigureAwait(false);
        foreach (var (segment, size) in sizes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var members = (await Read(s => s.Segments.ListMembersAsync(segment, cancellationToken)).ConfigureAwait(false)).Select(m => m.Value).ToList();
            var distinctMembers = new SortedSet<string>(members, StringComparer.Ordinal);
            var expected = memberships.GetValueOrDefault(segment) ?? [];
            text.Append("segment ").Append(segment).Append(" size ").Append(size.ToString(CultureInfo.InvariantCulture))
                .Append(" members ").Append(string.Join(',', distinctMembers)).Append('\n');
            if (size != members.Count || members.Count != distinctMembers.Count || !distinctMembers.SetEquals(expected))
            {
                // Say who differs, and what the store holds about them, so that a rare race can be diagnosed from one run.
                var details = new List<string>();
                foreach (var id in distinctMembers.Except(expected).Concat(expected.Except(distinctMembers)))
                {
                    var customer = new CustomerId(id);
                    var held = await Read(s => s.Identity.GetAsync(customer, cancellationToken)).ConfigureAwait(false);
                    var state = await Read(s => s.Segments.GetAsync(customer, cancellationToken)).ConfigureAwait(false);
                    var stored = await Read(s => s.Profiles.GetAsync(customer, cancellationToken)).ConfigureAwait(false);
                    details.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{id} (member entry {distinctMembers.Contains(id)}, active {expected.Contains(id)}; identity {(held is null ? "none" : held.MergedInto is { } into ? "merged into " + into.Value : $"v{held.Version} with {held.Links.Count} links")}; segment state {(state is null ? "none" : $"v{state.Version} [{string.Join(',', state.Memberships.Keys)}]")}; profile {(stored is null ? "none" : "v" + stored.Version)})"));
                }

                problems.Add($"Segment {segment}: size {size}, {members.Count} member entries ({distinctMembers.Count} distinct), {expected.Count} customers hold the membership. {string.Join("; ", details)}");
            }
        }

        foreach (var segment in memberships.Keys.Where(s => !sizes.ContainsKey(s)))
        {
            problems.Add($"Segment {segment}: {memberships[segment].Count} customers hold the membership but it has no size.");
        }

        // Ledger: program accounts, the customers' side, liability, reconciliation.
        var program = (await Read(s => s.Ledger.GetProgramBalancesAsync(cancellationToken)).ConfigureAwait(false))
            .OrderBy(a => a.Ledger, StringComparer.Ordinal).ThenBy(a => a.Account).ToArray();
        Line(text, "program-accounts", program);
        foreach (var l in program.Select(a => a.Ledger).Concat(customerSum.Keys).Distinct(StringComparer.Ordinal))
        {
            var sum = program.Where(a => a.Ledger == l).Sum(a => a.Balance) + customerSum.GetValueOrDefault(l);
            if (sum != 0)
            {
                problems.Add($"Ledger {l}: program accounts and customer accounts sum to {sum}, not zero.");
            }
        }

        Line(text, "liability", await ledger.GetLiabilityAsync(tenant, cancellationToken).ConfigureAwait(false));
        var reconciliation = await ledger.ReconcileAsync(tenant, cancellationToken).ConfigureAwait(false);
        text.Append("reconciliation transfers ").Append(reconciliation.Transfers.ToString(CultureInfo.InvariantCulture))
            .Append(" customers ").Append(reconciliation.Customers.ToString(CultureInfo.InvariantCulture))
            .Append(" balanced ").Append(reconciliation.Balanced ? "yes" : "no").Append('\n');
        problems.AddRange(reconciliation.Problems.Select(p => "Reconciliation: " + p));
        foreach (var (l, sum) in reconciliation.SumByLedger)
        {
            if (sum != 0)
            {
                problems.Add($"Reconciliation: ledger {l} sums to {sum}.");
            }
        }

        // Identity controls, journeys, outbox.
        Line(text, "blocked", await identity.ListBlockedValuesAsync(tenant, cancellationToken).ConfigureAwait(false));
        Line(text, "reviews", await Read(s => s.IdentityControls.ListReviewsAsync(cancellationToken)).ConfigureAwait(false));
        Line(text, "journey-stats", await Read(s => s.Journeys.GetStatsAsync(cancellationToken)).ConfigureAwait(false));
        var pending = await host.Store.Outbox.CountPendingAsync(tenant, cancellationToken).ConfigureAwait(false);
        text.Append("outbox-pending ").Append(pending.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return (processed, customers.Count, pending);
    }

    private static void CheckIncreasing(IEnumerable<long> sequence, string what, List<string> problems)
    {
        long? last = null;
        foreach (var s in sequence)
        {
            if (last is { } l && s <= l)
            {
                problems.Add($"The {what} is not increasing ({l} then {s}).");
                return;
            }

            last = s;
        }
    }

    private static void Line<T>(StringBuilder text, string label, T value)
    {
        var node = JsonSerializer.SerializeToNode(value, Json);
        text.Append(label).Append(' ').Append(Canonical(node)?.ToJsonString() ?? "null").Append('\n');
    }

    /// <summary>The same JSON with every object's properties in ordinal order.</summary>
    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Canonical)]),
        null => null,
        _ => JsonNode.Parse(node.ToJsonString()),
    };

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(LoyaltyJson.Options)
        {
            TypeInfoResolver = JsonTypeInfoResolver.Combine(LoyaltyJson.Options.TypeInfoResolver!, new DefaultJsonTypeInfoResolver()),
            WriteIndented = false,
        };
        options.MakeReadOnly();
        return options;
    }
}
