using System.Globalization;
using System.Text.Json.Nodes;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Identity.Matching.Engine;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Segments;
using NodaTime;

namespace Loyalty.Sdk.Simulation;

/// <summary>The services of the capabilities registered in the engine that the report reads.</summary>
public sealed record ReportInputs
{
    /// <summary>Inputs of the predictive section.</summary>
    public PredictiveReportInputs? Predictive { get; init; }

    /// <summary>The ledger service.</summary>
    public ILedgerService? Ledger { get; init; }

    /// <summary>The consent service.</summary>
    public Consent.IConsentService? Consent { get; init; }

    /// <summary>The segment service.</summary>
    public ISegmentService? Segments { get; init; }

    /// <summary>Probabilistic duplicate detection.</summary>
    public IDuplicateDetectionService? Duplicates { get; init; }

    /// <summary>The journey service.</summary>
    public Journeys.IJourneyService? Journeys { get; init; }
}

/// <summary>
/// Builds <c>report.json</c>: one top-level section per capability (<c>identity</c>, <c>ledger</c>, <c>segments</c>,
/// <c>consent</c>, <c>journeys</c>, <c>predictive</c>) plus <c>kpis</c>, scored against the generator's ground truth
/// when there is one. A capability that is not registered says so in its section instead of inventing numbers.
/// </summary>
public static class ReportBuilder
{
    /// <summary>Builds the report.</summary>
    /// <param name="engine">The engine the events went through.</param>
    /// <param name="program">The tenant's program.</param>
    /// <param name="tenant">The tenant.</param>
    /// <param name="events">The events streamed, in order.</param>
    /// <param name="log">What ingestion produced.</param>
    /// <param name="truth">The generator's truth, when the history is synthetic.</param>
    /// <param name="source">What produced the history (e.g. <c>loyalty simulate</c>).</param>
    /// <param name="inputs">The services of the capabilities registered in the engine, for their sections.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static async Task<JsonObject> BuildAsync(
        ILoyaltyEngine engine, LoyaltyProgram program, TenantId tenant, IReadOnlyList<LoyaltyEvent> events, IngestLog log, GeneratedShop? truth, string source,
        ReportInputs? inputs = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(log);

        // Final customers: every customer id the engine returned, followed through merges.
        var finalOf = new Dictionary<CustomerId, CustomerId>();
        var profiles = new Dictionary<CustomerId, CustomerProfile?>();
        var identifiers = new Dictionary<CustomerId, int>();
        var mergeCount = 0;
        var blocked = 0;
        var autoBlocked = 0;
        var refused = 0;
        var splits = 0;
        foreach (var r in log.Results)
        {
            mergeCount += r.Merged.Count;
            blocked += r.Decisions.Count(d => d.Action == "identifier_blocked");
            autoBlocked += r.Decisions.Count(d => d.Action == "identifier_auto_blocked");
            refused += r.Decisions.Count(d => d.Action == "link_refused");
            splits += r.Decisions.Count(d => d.Action is "split" or "unmerged");
            if (r.Customer is { } c && !finalOf.ContainsKey(c))
            {
                var view = await engine.GetCustomerAsync(tenant, c, cancellationToken).ConfigureAwait(false);
                var final = view?.Identity.Customer ?? c;
                finalOf[c] = final;
                if (view is not null && !profiles.ContainsKey(final))
                {
                    profiles[final] = view.Profile;
                    identifiers[final] = view.Identity.Links.Count;
                }
            }
        }

        var report = new JsonObject
        {
            ["source"] = source,
            ["tenant"] = tenant.Value,
            ["program"] = new JsonObject { ["id"] = program.Id, ["version"] = program.Version, ["baseCurrency"] = program.BaseCurrency.Code },
        };
        if (truth is not null)
        {
            report["settings"] = new JsonObject
            {
                ["customers"] = truth.Settings.Customers,
                ["days"] = truth.Settings.Days,
                ["seed"] = truth.Settings.Seed,
                ["start"] = truth.Settings.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            };
        }

        var predictive = inputs?.Predictive;
        var ledger = inputs?.Ledger;
        var duplicates = inputs?.Duplicates;
        var identity = Identity(log, finalOf, identifiers, mergeCount, blocked, truth);
        identity["splits"] = splits;
        identity["autoBlockedValues"] = autoBlocked;
        identity["linksRefused"] = refused;
        identity["duplicateSuggestions"] = duplicates is null
            ? NotYet("Probabilistic duplicate detection is not registered in this engine (AddDuplicateDetection()).")
            : await DuplicateSuggestionsAsync(duplicates, tenant, log, finalOf, truth, cancellationToken).ConfigureAwait(false);
        report["identity"] = identity;
        report["ledger"] = ledger is null
            ? NotYet("The points ledger capability is not registered in this engine yet.")
            : await Ledger(ledger, program, tenant, profiles.Keys, cancellationToken).ConfigureAwait(false);
        report["segments"] = inputs?.Segments is not { } segments
            ? NotYet("The segmentation capability is not registered in this engine yet.")
            : await SegmentsAsync(engine, segments, tenant, log, finalOf, truth, cancellationToken).ConfigureAwait(false);
        report["consent"] = inputs?.Consent is { } consent
            ? await ConsentReport.BuildAsync(consent, program, tenant, profiles.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!.FirstSeen), events, cancellationToken).ConfigureAwait(false)
            : NotYet("The consent capability is not registered in this engine yet.");
        report["journeys"] = inputs?.Journeys is { } journeys
            ? await JourneysAsync(journeys, tenant, cancellationToken).ConfigureAwait(false)
            : NotYet("The journey capability is not registered in this engine yet.");
        report["predictive"] = predictive is null
            ? NotYet("The predictive capability is not registered in this engine.")
            : await PredictiveSection.BuildAsync(predictive.Service, predictive.Checkpoint, tenant, predictive.End, truth is null ? null : MajorityPerson(log, finalOf, truth), truth, cancellationToken).ConfigureAwait(false);
        var customerOfEvent = log.Results.Where(r => r.Outcome == IngestOutcome.Applied && r.Customer is not null)
            .ToDictionary(r => r.EventId, r => finalOf[r.Customer!.Value]);
        report["kpis"] = Kpis(program, events, log, profiles, customerOfEvent, truth);
        report["ingest"] = new JsonObject
        {
            ["events"] = events.Count,
            ["applied"] = log.Results.Count(r => r.Outcome == IngestOutcome.Applied),
            ["duplicates"] = log.Results.Count(r => r.Outcome == IngestOutcome.Duplicate),
            ["rejected"] = log.Rejected.Count,
            ["rejections"] = new JsonArray(log.Rejected.Take(20).Select(x => (JsonNode)new JsonObject
            {
                ["eventId"] = x.Event.Id.Value,
                ["errors"] = new JsonArray(x.Errors.Select(e => (JsonNode)JsonValue.Create(e.ToString())!).ToArray()),
            }).ToArray()),
        };
        return report;
    }

    private static async Task<JsonObject> JourneysAsync(Journeys.IJourneyService service, TenantId tenant, CancellationToken cancellationToken)
    {
        static JsonObject Map(IReadOnlyDictionary<string, long> values) => new(values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        static double R(double v) => double.IsNaN(v) || double.IsInfinity(v) ? 0 : Math.Round(v, 4);
        var reports = await service.GetReportAsync(tenant, cancellationToken).ConfigureAwait(false);
        return new JsonObject
        {
            ["available"] = true,
            ["journeys"] = new JsonArray(reports.Select(r => (JsonNode)new JsonObject
            {
                ["id"] = r.Journey,
                ["entries"] = r.Entries,
                ["funnel"] = Map(r.Steps),
                ["exits"] = Map(r.Exits),
                ["sent"] = r.Sent,
                ["sentByChannel"] = Map(r.SentByChannel),
                ["deferred"] = r.Deferred,
                ["skipped"] = Map(r.Skipped),
                ["globalControl"] = r.GlobalControl,
                ["uplift"] = new JsonObject
                {
                    ["treated"] = r.Uplift.Treated,
                    ["treatedConversions"] = r.Uplift.TreatedConversions,
                    ["holdout"] = r.Uplift.Holdout,
                    ["holdoutConversions"] = r.Uplift.HoldoutConversions,
                    ["treatedRate"] = R(r.Uplift.TreatedRate),
                    ["holdoutRate"] = R(r.Uplift.HoldoutRate),
                    ["uplift"] = R(r.Uplift.Uplift),
                    ["ciLow"] = R(r.Uplift.Low),
                    ["ciHigh"] = R(r.Uplift.High),
                    ["significant"] = r.Uplift.Significant,
                },
            }).ToArray()),
        };
    }

    private static async Task<JsonObject> Ledger(ILedgerService ledger, LoyaltyProgram program, TenantId tenant, IEnumerable<CustomerId> customers, CancellationToken cancellationToken)
    {
        var code = program.Ledger?.PrimaryCurrency ?? "points";
        var liability = (await ledger.GetLiabilityAsync(tenant, cancellationToken).ConfigureAwait(false)).FirstOrDefault(l => l.Ledger == code);
        var reconciliation = await ledger.ReconcileAsync(tenant, cancellationToken).ConfigureAwait(false);
        if (liability is null)
        {
            return NotYet($"The program has no point currency '{code}'.");
        }

        var tiers = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in customers)
        {
            var tier = (await ledger.GetTierAsync(tenant, c, cancellationToken).ConfigureAwait(false)).Status.Tier ?? "none";
            tiers[tier] = tiers.GetValueOrDefault(tier) + 1;
        }

        var tierNode = new JsonObject();
        foreach (var level in program.Ledger?.Tiers?.Levels.Select(l => l.Id) ?? [])
        {
            tierNode[level] = tiers.GetValueOrDefault(level);
        }

        foreach (var (tier, count) in tiers.Where(t => tierNode[t.Key] is null))
        {
            tierNode[tier] = count;
        }

        var identity = liability.Issued - liability.Redeemed - liability.Expired - liability.Reversed + liability.Adjusted + liability.Converted;
        return new JsonObject
        {
            ["available"] = true,
            ["currency"] = code,
            ["issued"] = liability.Issued,
            ["redeemed"] = liability.Redeemed,
            ["expired"] = liability.Expired,
            ["reversed"] = liability.Reversed,
            ["adjusted"] = liability.Adjusted,
            ["converted"] = liability.Converted,
            ["outstanding"] = liability.Outstanding,
            ["reconciles"] = identity == liability.Outstanding && reconciliation.Balanced,
            ["journalEntries"] = reconciliation.Transfers,
            ["availablePoints"] = liability.Available,
            ["pending"] = liability.Pending,
            ["reserved"] = liability.Reserved,
            ["valuePerPoint"] = liability.ValuePerPoint,
            ["liabilityValue"] = liability.Value,
            ["liabilityByExpiryMonth"] = new JsonArray(liability.ByExpiryMonth.Select(b => (JsonNode)new JsonObject { ["month"] = b.Month, ["points"] = b.Points, ["value"] = b.Value }).ToArray()),
            ["tiers"] = tierNode,
            ["redemptionRate"] = liability.RedemptionRate,
            ["averageDaysToRedeem"] = liability.AverageDaysToRedeem,
            ["breakageRate"] = liability.BreakageRate,
            ["expectedBreakage"] = liability.ExpectedBreakage,
            ["liabilityNetOfBreakage"] = liability.ValueNetOfBreakage,
        };
    }

    private static async Task<JsonObject> SegmentsAsync(
        ILoyaltyEngine engine, ISegmentService service, TenantId tenant, IngestLog log, Dictionary<CustomerId, CustomerId> finalOf, GeneratedShop? truth, CancellationToken cancellationToken)
    {
        var sizes = await service.GetSizesAsync(tenant, cancellationToken).ConfigureAwait(false);
        var list = new JsonArray();
        var histories = new Dictionary<string, IReadOnlyList<SegmentSizePoint>>(StringComparer.Ordinal);
        foreach (var definition in service.GetSegments(tenant))
        {
            histories[definition.Id] = await service.GetSizeHistoryAsync(tenant, definition.Id, cancellationToken).ConfigureAwait(false);
        }

        // Every segment on the same weekly axis (a segment without members yet has size 0).
        var axis = histories.Values.SelectMany(h => h.Select(p => p.At)).Distinct().Order().ToArray();
        foreach (var definition in service.GetSegments(tenant))
        {
            // A store kept between runs (replay into the same file) can hold several points for one instant: each
            // recording took its own flows out of the counters, so flows add up and the last size stands.
            var known = histories[definition.Id].GroupBy(p => p.At)
                .ToDictionary(g => g.Key, g => new SegmentSizePoint(g.Key, g.Last().Size, g.Sum(p => p.Entered), g.Sum(p => p.Exited)));
            var history = axis.Select(at => known.GetValueOrDefault(at) ?? new SegmentSizePoint(at, 0, 0, 0)).ToArray();
            list.Add(new JsonObject
            {
                ["id"] = definition.Id,
                ["name"] = definition.Name,
                ["rule"] = definition.Rule,
                ["size"] = sizes.GetValueOrDefault(definition.Id),
                ["entered"] = history.Sum(h => h.Entered),
                ["exited"] = history.Sum(h => h.Exited),
                ["weekly"] = new JsonArray(history.Select(h => (JsonNode)new JsonObject
                {
                    ["date"] = h.At.InUtc().Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["size"] = h.Size,
                    ["entered"] = h.Entered,
                    ["exited"] = h.Exited,
                }).ToArray()),
            });
        }

        var section = new JsonObject { ["available"] = true, ["segments"] = list };
        var ids = service.GetSegments(tenant).Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        if (ids.Contains("vip") && ids.Contains("email_responsive"))
        {
            var overlap = await service.GetOverlapAsync(tenant, "vip", "email_responsive", cancellationToken).ConfigureAwait(false);
            section["overlap"] = new JsonObject { ["a"] = overlap.A, ["b"] = overlap.B, ["both"] = overlap.Both, ["jaccard"] = Round(overlap.Jaccard, 4) };
        }

        if (truth is not null && ids.Contains("at_risk"))
        {
            // A true churner stops buying at ChurnedAt (their last order). Did the at-risk segment pick them up
            // after that and before the end of the history?
            var customersOfPerson = new Dictionary<int, HashSet<CustomerId>>();
            foreach (var r in log.Results.Where(r => r.Outcome == IngestOutcome.Applied && r.Customer is not null))
            {
                var person = truth.PersonOfEvent[r.EventId];
                (customersOfPerson.TryGetValue(person, out var set) ? set : customersOfPerson[person] = []).Add(finalOf[r.Customer!.Value]);
            }

            var entries = new Dictionary<CustomerId, List<NodaTime.Instant>>();
            foreach (var customer in finalOf.Values.Distinct())
            {
                var trail = await engine.GetDecisionTrailAsync(tenant, customer, 0, 100_000, cancellationToken).ConfigureAwait(false);
                entries[customer] = trail.Where(d => d.Action == "segment_entered" && d.Rule == "segment.at_risk").Select(d => d.DecidedAt).ToList();
            }

            var churners = truth.People.Where(p => p.ChurnedAt is not null).ToList();
            var caught = churners.Count(p => customersOfPerson.TryGetValue(p.Index, out var cs) && cs.Any(c => entries.GetValueOrDefault(c)?.Any(at => at > p.ChurnedAt && at <= truth.End) == true));
            var eligible = churners.Count(p => p.Orders >= 2);
            var caughtEligible = churners.Where(p => p.Orders >= 2).Count(p => customersOfPerson.TryGetValue(p.Index, out var cs) && cs.Any(c => entries.GetValueOrDefault(c)?.Any(at => at > p.ChurnedAt && at <= truth.End) == true));
            var loyal = truth.People.Where(p => p.ChurnedAt is null && p.Orders >= 2).ToList();
            var falseAlarms = loyal.Count(p => customersOfPerson.TryGetValue(p.Index, out var cs) && cs.Any(c => entries.GetValueOrDefault(c)?.Count > 0));
            section["churnDetection"] = new JsonObject
            {
                ["trueChurners"] = churners.Count,
                ["passedThroughAtRisk"] = caught,
                ["share"] = Round(churners.Count == 0 ? 0 : caught / (double)churners.Count, 4),
                ["repeatBuyerChurners"] = eligible,
                ["repeatBuyerChurnersCaught"] = caughtEligible,
                ["repeatBuyerShare"] = Round(eligible == 0 ? 0 : caughtEligible / (double)eligible, 4),
                ["nonChurnersFlagged"] = falseAlarms,
                ["nonChurnerRepeatBuyers"] = loyal.Count,
                ["note"] = "A churner counts when one of their customer profiles entered 'at_risk' after their last order and before the end of the history. The at_risk rule needs at least 2 orders, so one-order churners cannot be caught.",
            };
        }

        return section;
    }

    /// <summary>The section of a capability that is not registered.</summary>
    public static JsonObject NotYet(string reason) => new() { ["available"] = false, ["reason"] = reason };

    // The person behind each final customer: the one who caused most of its events.
    private static Dictionary<CustomerId, int> MajorityPerson(IngestLog log, Dictionary<CustomerId, CustomerId> finalOf, GeneratedShop truth) =>
        log.Results.Where(r => r.Outcome == IngestOutcome.Applied && r.Customer is not null)
            .GroupBy(r => finalOf[r.Customer!.Value])
            .ToDictionary(g => g.Key, g => g.GroupBy(r => truth.PersonOfEvent[r.EventId]).OrderByDescending(p => p.Count()).ThenBy(p => p.Key).First().Key);

    private static JsonObject Identity(IngestLog log, Dictionary<CustomerId, CustomerId> finalOf, Dictionary<CustomerId, int> identifiers, int merges, int blocked, GeneratedShop? truth)
    {
        var customers = identifiers.Count;
        var section = new JsonObject
        {
            ["available"] = true,
            ["customersResolved"] = customers,
            ["identifiersPerCustomer"] = Round(customers == 0 ? 0 : identifiers.Values.Average(), 3),
            ["merges"] = merges,
            ["splits"] = 0,
            ["blockedValues"] = blocked,
            ["newCustomers"] = log.Results.Count(r => r.NewCustomer),
        };
        if (truth is null)
        {
            return section;
        }

        // Pairwise scoring over applied events: two events are a true pair when the same person caused them, a
        // predicted pair when they resolved to the same final customer.
        var cells = new Dictionary<(int Person, CustomerId Customer), long>();
        var byPerson = new Dictionary<int, long>();
        var byCustomer = new Dictionary<CustomerId, long>();
        var customersOfPerson = new Dictionary<int, HashSet<CustomerId>>();
        var peopleOfCustomer = new Dictionary<CustomerId, HashSet<int>>();
        foreach (var r in log.Results.Where(r => r.Outcome == IngestOutcome.Applied && r.Customer is not null))
        {
            var person = truth.PersonOfEvent[r.EventId];
            var customer = finalOf[r.Customer!.Value];
            cells[(person, customer)] = cells.GetValueOrDefault((person, customer)) + 1;
            byPerson[person] = byPerson.GetValueOrDefault(person) + 1;
            byCustomer[customer] = byCustomer.GetValueOrDefault(customer) + 1;
            (customersOfPerson.TryGetValue(person, out var cs) ? cs : customersOfPerson[person] = []).Add(customer);
            (peopleOfCustomer.TryGetValue(customer, out var ps) ? ps : peopleOfCustomer[customer] = []).Add(person);
        }

        static double Pairs(long n) => n * (n - 1) / 2.0;
        var tp = cells.Values.Sum(Pairs);
        var predicted = byCustomer.Values.Sum(Pairs);
        var actual = byPerson.Values.Sum(Pairs);
        var precision = predicted == 0 ? 1 : tp / predicted;
        var recall = actual == 0 ? 1 : tp / actual;
        section["truePeople"] = truth.People.Count;
        section["peopleSplitAcrossCustomers"] = customersOfPerson.Values.Count(s => s.Count > 1);
        section["customersJoiningSeveralPeople"] = peopleOfCustomer.Values.Count(s => s.Count > 1);
        section["pairwisePrecision"] = Round(precision, 4);
        section["pairwiseRecall"] = Round(recall, 4);
        section["pairwiseF1"] = Round(precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall), 4);
        return section;
    }

    private static async Task<JsonObject> DuplicateSuggestionsAsync(
        IDuplicateDetectionService duplicates, TenantId tenant, IngestLog log, Dictionary<CustomerId, CustomerId> finalOf, GeneratedShop? truth, CancellationToken cancellationToken)
    {
        var found = await duplicates.FindAsync(tenant, cancellationToken).ConfigureAwait(false);
        var section = new JsonObject
        {
            ["available"] = true,
            ["customersCompared"] = found.CustomersCompared,
            ["count"] = found.Candidates.Count,
            ["clusterGuardTriggered"] = found.ClusterGuardTriggered,
        };
        if (found.ModelRejected is not null)
        {
            section["modelRejected"] = found.ModelRejected;
        }
        if (truth is not null)
        {
            // A suggestion is right when both customers are mostly the same true person.
            var person = MajorityPerson(log, finalOf, truth);
            var scored = found.Candidates.Where(c => person.ContainsKey(c.Left) && person.ContainsKey(c.Right)).ToList();
            var right = scored.Count(c => person[c.Left] == person[c.Right]);
            section["scored"] = scored.Count;
            section["correct"] = right;
            section["precision"] = scored.Count == 0 ? null : Round(right / (double)scored.Count, 4);
        }

        section["top"] = new JsonArray(found.Candidates.Take(5).Select(c => (JsonNode)new JsonObject
        {
            ["left"] = c.Left.Value,
            ["right"] = c.Right.Value,
            ["probability"] = Round(c.Probability, 4),
            ["weight"] = Round(c.Weight, 2),
        }).ToArray());
        return section;
    }

    private static JsonObject Kpis(LoyaltyProgram program, IReadOnlyList<LoyaltyEvent> events, IngestLog log, Dictionary<CustomerId, CustomerProfile?> profiles, Dictionary<EventId, CustomerId> customerOfEvent, GeneratedShop? truth)
    {
        var seen = new HashSet<EventId>();
        var orders = events.OfType<OrderPlaced>().Where(o => customerOfEvent.ContainsKey(o.Id) && seen.Add(o.Id)).ToList();
        decimal ToBase(OrderPlaced o, decimal amount) => o.Currency == program.BaseCurrency ? amount : amount * program.ExchangeRates[o.Currency.Code];

        var traits = profiles.Values.Where(p => p is not null).Select(p => p!.Traits).ToList();
        var buyers = traits.Count(t => t.Orders > 0);
        var gross = traits.Sum(t => t.GrossSpend);
        var returned = traits.Sum(t => t.ReturnedValue);
        var orderCount = traits.Sum(t => t.Orders);

        var byMonth = orders
            .GroupBy(o => o.OccurredAt.InUtc().Date.ToString("yyyy-MM", CultureInfo.InvariantCulture))
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (JsonNode)new JsonObject
            {
                ["month"] = g.Key,
                ["orders"] = g.Count(),
                ["revenue"] = decimal.Round(g.Sum(o => ToBase(o, o.Subtotal - o.Discount)), 2),
                ["activeBuyers"] = g.Select(o => customerOfEvent[o.Id]).Distinct().Count(),
            }).ToArray();
        var byChannel = new JsonObject();
        foreach (var g in orders.GroupBy(o => o.Channel).OrderBy(g => g.Key))
        {
            byChannel[g.Key.ToString().ToLowerInvariant()] = g.Count();
        }

        var byCategory = new JsonObject();
        foreach (var g in orders.SelectMany(o => o.Lines.Select(l => (o, l))).GroupBy(x => x.l.Category ?? "other").OrderByDescending(g => g.Sum(x => x.l.LineTotal)).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            byCategory[g.Key] = decimal.Round(g.Sum(x => ToBase(x.o, x.l.LineTotal)), 2);
        }

        var bins = new[] { 0m, 25m, 50m, 75m, 100m, 150m, 200m, 300m, 500m };
        var histogram = new JsonArray(bins.Select((low, i) =>
        {
            var high = i + 1 < bins.Length ? bins[i + 1] : decimal.MaxValue;
            return (JsonNode)new JsonObject
            {
                ["from"] = low,
                ["to"] = i + 1 < bins.Length ? high : null,
                ["orders"] = orders.Count(o => ToBase(o, o.Total) >= low && ToBase(o, o.Total) < high),
            };
        }).ToArray());

        var kpis = new JsonObject
        {
            ["customers"] = profiles.Count,
            ["buyers"] = buyers,
            ["orders"] = orderCount,
            ["grossRevenue"] = decimal.Round(gross, 2),
            ["returnedValue"] = decimal.Round(returned, 2),
            ["netRevenue"] = decimal.Round(gross - returned, 2),
            ["averageOrderValue"] = orderCount == 0 ? 0 : decimal.Round(gross / orderCount, 2),
            ["repeatPurchaseRate"] = Round(buyers == 0 ? 0 : traits.Count(t => t.Orders > 1) / (double)buyers, 4),
            ["returnRate"] = Round(orderCount == 0 ? 0 : traits.Sum(t => t.Returns) / (double)orderCount, 4),
            ["signUps"] = events.OfType<SignedUp>().Where(e => customerOfEvent.ContainsKey(e.Id)).Select(e => e.Id).Distinct().Count(),
            ["ordersByChannel"] = byChannel,
            ["revenueByCategory"] = byCategory,
            ["orderValueHistogram"] = histogram,
            ["monthly"] = new JsonArray(byMonth),
        };
        if (truth is not null)
        {
            kpis["trueChurners"] = truth.People.Count(p => p.ChurnedAt is not null);
        }

        return kpis;
    }

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);
}
