using System.Collections.Immutable;
using System.Globalization;
using Loyalty.Sdk.Identity.Matching.Blocking;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;

namespace Loyalty.Sdk.Identity.Matching.Engine;

/// <summary>A probable duplicate: two customers no identifier links, scored by the Fellegi–Sunter model.</summary>
/// <param name="Left">One customer.</param>
/// <param name="Right">The other.</param>
/// <param name="Probability">Match probability.</param>
/// <param name="Weight">Match weight in bits.</param>
/// <param name="Fields">How each field contributed.</param>
/// <param name="Disposition"><c>suggested</c>, <c>queued</c> (review queue), <c>merged</c>, or <c>refused</c> (a
/// protection, "do not link again" rule or limit stopped the merge).</param>
public sealed record DuplicateCandidate(CustomerId Left, CustomerId Right, double Probability, double Weight, IReadOnlyList<FieldContribution> Fields, string Disposition);

/// <summary>What a duplicate detection run found and did.</summary>
/// <param name="CustomersCompared">Active customers turned into person records.</param>
/// <param name="Candidates">Pairs at or above the review threshold, most probable first.</param>
/// <param name="ClusterGuardTriggered">Whether the cluster size guard dropped edges (those pairs are never merged).</param>
/// <param name="ModelRejected">Why the trained model was not trusted (no suggestions are made then), or <c>null</c>.
/// Unsupervised EM has nothing to learn from when deterministic resolution already joined the true duplicates: it then
/// converges to "every candidate pair matches", which the service detects (a prior of one half or more over the
/// blocked candidate pairs, or more expected matches than clusters of the maximum size could hold).</param>
public sealed record DuplicateDetectionResult(int CustomersCompared, IReadOnlyList<DuplicateCandidate> Candidates, bool ClusterGuardTriggered, string? ModelRejected = null)
{
    /// <summary>The model EM trained on the candidate pairs (m, u and λ per field level), or <c>null</c> when fewer than
    /// two customers were compared.</summary>
    public Model.FellegiSunterModel? Model { get; init; }
}

/// <summary>Probabilistic duplicate detection over a tenant's customers.</summary>
public interface IDuplicateDetectionService
{
    /// <summary>Finds probable duplicates without changing anything.</summary>
    ValueTask<DuplicateDetectionResult> FindAsync(TenantId tenant, CancellationToken cancellationToken = default);

    /// <summary>Finds probable duplicates and applies the program's policy: below the review threshold nothing
    /// happens; above it pairs are queued for review, or merged (rule <c>identity.probabilistic</c>) at or above the
    /// auto-merge threshold when the mode is <see cref="ProbabilisticMode.AutoMerge"/>.</summary>
    ValueTask<DuplicateDetectionResult> RunAsync(TenantId tenant, string actor, CancellationToken cancellationToken = default);

    /// <summary>Staff decide a queued pair: approved pairs merge (rule <c>identity.probabilistic</c>, reversible);
    /// rejected pairs get a "do not link again" rule. Throws <see cref="IdentityOperationException"/>
    /// (<c>not_queued</c>, or the merge's own refusals) with nothing changed.</summary>
    ValueTask<MergeReview> DecideReviewAsync(TenantId tenant, CustomerId left, CustomerId right, bool approve, string actor, string reason, CancellationToken cancellationToken = default);
}

/// <summary>
/// Builds one person record per active customer with a name or an e-mail address (given name, family name, birth
/// date, phone, postcode from the profile and identifiers, e-mail), runs <see cref="IdentityMatcher"/> (EM-trained
/// Fellegi–Sunter with blocking and a cluster size guard), and returns candidate pairs with probability, weight and
/// per-field explanation. Merges go through <see cref="IIdentityService.MergeAsync"/>: the same, reversible, merge path.
/// <para>The engine's customers are what deterministic resolution left apart, so true duplicates are few and often
/// share a single field (a mistyped e-mail address on a customer that has nothing else), while namesakes are many.
/// The model is therefore trained with u from random pairs, the blocking rules' own fields treated as missing in
/// training (blocking made them agree), and a prior that keeps m at "matches agree" for fields EM sees too few
/// matches on (<see cref="MatcherSettings.MPriorPairs"/>).</para>
/// </summary>
public sealed class DuplicateDetectionService(ILoyaltyStore store, IProgramProvider programs, IIdentityService identity, IClock clock) : IDuplicateDetectionService
{
    /// <summary>The schema of the person records.</summary>
    public static RecordSchema Schema { get; } = RecordSchema.Create(
        ("given_name", FieldKind.GivenName), ("family_name", FieldKind.Surname), ("birth_date", FieldKind.BirthDate),
        ("phone", FieldKind.Phone), ("postcode", FieldKind.Postcode), ("email", FieldKind.Email));

    /// <summary>
    /// The blocking rules: e-mail prefix and e-mail Soundex (a mistyped address lands next to the right one), names by
    /// Soundex, surname with birth year, birth date, and phone. Postcode alone is not a rule: a city has a handful of
    /// postcodes, so it would pair nearly every customer with every other and drown the few duplicates in non-matches.
    /// </summary>
    public static ImmutableArray<BlockingRule> BlockingRules { get; } =
    [
        BlockingRule.Of(new BlockingKeyPart("email", BlockingTransform.Digits), new BlockingKeyPart("email", BlockingTransform.Domain)),
        BlockingRule.Of(new BlockingKeyPart("given_name", BlockingTransform.Soundex), new BlockingKeyPart("family_name", BlockingTransform.Soundex)),
        BlockingRule.Of(new BlockingKeyPart("family_name"), new BlockingKeyPart("birth_date", BlockingTransform.Year)),
        BlockingRule.Of(new BlockingKeyPart("birth_date")),
        BlockingRule.Of(new BlockingKeyPart("phone")),
    ];

    /// <inheritdoc />
    public async ValueTask<DuplicateDetectionResult> FindAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        var program = programs.GetProgram(tenant);
        var (records, _) = await LoadAsync(tenant, cancellationToken).ConfigureAwait(false);
        return Score(program, records, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<DuplicateDetectionResult> RunAsync(TenantId tenant, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        var program = programs.GetProgram(tenant);
        var policy = program.Identity.Probabilistic;
        var found = await FindAsync(tenant, cancellationToken).ConfigureAwait(false);
        if (policy.Mode == ProbabilisticMode.Suggest)
        {
            return found;
        }

        var done = new List<DuplicateCandidate>(found.Candidates.Count);
        var touched = new HashSet<CustomerId>();
        foreach (var c in found.Candidates)
        {
            var disposition = "queued";
            if (policy.Mode == ProbabilisticMode.AutoMerge && c.Probability >= policy.AutoMergeThreshold && c.Disposition != "guarded" && touched.Add(c.Left) && touched.Add(c.Right))
            {
                try
                {
                    var why = string.Create(CultureInfo.InvariantCulture, $"match probability {c.Probability:0.####} (weight {c.Weight:0.##} bits)");
                    await identity.MergeAsync(tenant, c.Left, c.Right, IdentityStage.ProbabilisticRule, actor, why, cancellationToken).ConfigureAwait(false);
                    disposition = "merged";
                }
                catch (IdentityOperationException)
                {
                    disposition = "refused";
                }
            }

            if (disposition is "queued")
            {
                var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
                await using var scope = session.ConfigureAwait(false);
                await session.IdentityControls.SaveReviewAsync(
                    new MergeReview(c.Left, c.Right, c.Probability, c.Weight, c.Fields.Select(Describe).ToArray(), clock.GetCurrentInstant()), cancellationToken).ConfigureAwait(false);
                await session.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            done.Add(c with { Disposition = disposition });
        }

        return found with { Candidates = done };
    }

    /// <inheritdoc />
    public async ValueTask<MergeReview> DecideReviewAsync(TenantId tenant, CustomerId left, CustomerId right, bool approve, string actor, string reason, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(actor) || string.IsNullOrWhiteSpace(reason))
        {
            throw new IdentityOperationException("required", "Review decisions are audited: give the actor and a reason.");
        }

        MergeReview review;
        {
            var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
            await using var scope = session.ConfigureAwait(false);
            review = (await session.IdentityControls.ListReviewsAsync(cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(r => r.Status == MergeReviewStatus.Pending && ((r.Left == left && r.Right == right) || (r.Left == right && r.Right == left)))
                ?? throw new IdentityOperationException("not_queued", $"No pending review of {left} and {right}.");
        }

        if (approve)
        {
            await identity.MergeAsync(tenant, review.Left, review.Right, IdentityStage.ProbabilisticRule, actor, reason, cancellationToken).ConfigureAwait(false);
        }

        var decided = review with { Status = approve ? MergeReviewStatus.Approved : MergeReviewStatus.Rejected };
        var write = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using (write.ConfigureAwait(false))
        {
            await write.IdentityControls.SaveReviewAsync(decided, cancellationToken).ConfigureAwait(false);
            if (!approve)
            {
                await write.IdentityControls.AddDoNotLinkAsync(new DoNotLinkRule(review.Left, review.Right, actor, reason, clock.GetCurrentInstant()), cancellationToken).ConfigureAwait(false);
            }

            await write.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return decided;
    }

    private static string Describe(FieldContribution f) =>
        string.Create(CultureInfo.InvariantCulture, $"{f.Field}: {f.LevelName ?? "missing"} ({f.PartialWeight:+0.00;-0.00} bits)");

    private static DuplicateDetectionResult Score(LoyaltyProgram program, List<PersonRecord> records, CancellationToken cancellationToken)
    {
        var policy = program.Identity.Probabilistic;
        if (records.Count < 2)
        {
            return new DuplicateDetectionResult(records.Count, [], false);
        }

        var matcher = new IdentityMatcher(new MatcherSettings
        {
            Policy = new MatchPolicy(policy.ReviewThreshold, policy.AutoMergeThreshold),
            MaxClusterSize = policy.MaxClusterSize,
            DefaultPhoneRegion = program.DefaultRegion,
            MinimumReportedProbability = policy.ReviewThreshold,
            MaxDegreeOfParallelism = 1,
            BlockingRules = BlockingRules,
            FixUFromRandomPairs = true,
            MaskBlockingFieldsInTraining = true,
            MPriorPairs = 1000,
        });
        var result = matcher.Deduplicate(new RecordSet(Schema, records), cancellationToken);
        var model = result.Model;
        if (model.Prior >= 0.5 || model.ExpectedMatches > records.Count * (policy.MaxClusterSize - 1) / 2.0)
        {
            return new DuplicateDetectionResult(
                records.Count, [], false,
                string.Create(CultureInfo.InvariantCulture, $"the trained model expects {model.ExpectedMatches:0} matching pairs among {records.Count} customers (prior {model.Prior:0.###} over {model.TrainingPairs} candidate pairs): degenerate, nothing suggested"))
            {
                Model = model,
            };
        }

        var guarded = result.Clustering.DroppedEdges.Select(p => (p.LeftId, p.RightId)).ToHashSet();
        var candidates = result.PairsAbove(policy.ReviewThreshold)
            .OrderByDescending(p => p.MatchProbability).ThenBy(p => p.LeftId, StringComparer.Ordinal).ThenBy(p => p.RightId, StringComparer.Ordinal)
            .Select(p => new DuplicateCandidate(
                new CustomerId(p.LeftId), new CustomerId(p.RightId), p.MatchProbability, p.MatchWeight, result.Explain(p).Fields,
                guarded.Contains((p.LeftId, p.RightId)) ? "guarded" : "suggested"))
            .ToArray();
        return new DuplicateDetectionResult(records.Count, candidates, result.Clustering.GuardTriggered) { Model = model };
    }

    private async ValueTask<(List<PersonRecord> Records, int Skipped)> LoadAsync(TenantId tenant, CancellationToken cancellationToken)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var records = new List<PersonRecord>();
        var skipped = 0;
        for (var skip = 0; ; skip += 1000)
        {
            var page = await session.IdentityControls.ListCustomersAsync(skip, 1000, cancellationToken).ConfigureAwait(false);
            foreach (var c in page)
            {
                var p = await session.Profiles.GetAsync(c.Customer, cancellationToken).ConfigureAwait(false);
                string? First(IdentifierType type) => c.Links.FirstOrDefault(l => l.Identifier.Type == type)?.Identifier.Value;
                var values = ImmutableArray.Create(
                    p?.GivenName, p?.FamilyName, p?.BirthDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), First(IdentifierType.Phone),
                    p?.Address?.PostalCode, First(IdentifierType.Email));

                // A customer is compared when something can tell it apart: a name or an e-mail address. The customer
                // a person's mistyped address created usually has nothing else, and is exactly the duplicate to find.
                if (p?.FamilyName is null && values[5] is null)
                {
                    skipped++;
                    continue;
                }

                records.Add(new PersonRecord(c.Customer.Value, values));
            }

            if (page.Count < 1000)
            {
                break;
            }
        }

        return (records, skipped);
    }
}

/// <summary>Registration of probabilistic duplicate detection.</summary>
public static class DuplicateDetectionServiceCollectionExtensions
{
    /// <summary>Adds <see cref="IDuplicateDetectionService"/>.</summary>
    public static ILoyaltyBuilder AddDuplicateDetection(this ILoyaltyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<IDuplicateDetectionService, DuplicateDetectionService>();
        return builder;
    }
}
