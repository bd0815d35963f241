using System.Text.Json;
using System.Text.Json.Nodes;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>
/// GDPR export and erasure over every store: the core repositories (identity, profile and traits, orders, decision
/// trail, processed events, outbox) and every registered <see cref="IPersonalDataContributor"/> (consent and whatever
/// other capabilities register).
/// </summary>
public sealed class PersonalDataService(ILoyaltyStore store, IProgramProvider programs, IClock clock, AddressHasher hasher, IEnumerable<IPersonalDataContributor> contributors) : IPersonalDataService
{
    private readonly ILoyaltyStore store = store ?? throw new ArgumentNullException(nameof(store));
    private readonly IProgramProvider programs = programs ?? throw new ArgumentNullException(nameof(programs));
    private readonly IClock clock = clock ?? throw new ArgumentNullException(nameof(clock));
    private readonly AddressHasher hasher = hasher ?? throw new ArgumentNullException(nameof(hasher));
    private readonly IPersonalDataContributor[] contributors = (contributors ?? throw new ArgumentNullException(nameof(contributors))).ToArray();

    /// <inheritdoc />
    public async ValueTask<JsonObject> ExportAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default)
    {
        var now = clock.GetCurrentInstant();
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var context = await ContextAsync(session, customer, now, null, cancellationToken).ConfigureAwait(false);
        var identity = (await session.Identity.GetAsync(context.Customer, cancellationToken).ConfigureAwait(false))!;
        var profile = await session.Profiles.GetAsync(context.Customer, cancellationToken).ConfigureAwait(false);
        var orders = new List<OrderRecord>();
        var decisions = new List<Decision>();
        foreach (var id in context.AllIds)
        {
            orders.AddRange(await session.Orders.ListByCustomerAsync(id, cancellationToken).ConfigureAwait(false));
            for (var skip = 0; ; skip += 500)
            {
                var page = await session.Decisions.ListAsync(id, skip, 500, cancellationToken).ConfigureAwait(false);
                decisions.AddRange(page);
                if (page.Count < 500)
                {
                    break;
                }
            }
        }

        var document = new JsonObject
        {
            ["format"] = "loyalty-sdk.personal-data-export/1",
            ["exportedAt"] = now.ToString(),
            ["tenant"] = tenant.Value,
            ["customer"] = context.Customer.Value,
            ["customerIds"] = new JsonArray(context.AllIds.Select(i => (JsonNode)JsonValue.Create(i.Value)!).ToArray()),
            ["identifiers"] = new JsonArray(identity.Links.Select(l => (JsonNode)new JsonObject
            {
                ["type"] = l.Identifier.Type.Name, ["value"] = l.Identifier.Value, ["linkedAt"] = l.LinkedAt.ToString(), ["rule"] = l.Rule, ["source"] = l.Source.Value,
            }).ToArray()),
            ["identity"] = ToNode(identity),
            ["profile"] = profile is null ? null : ToNode(profile),
            ["traits"] = profile is null ? null : ToNode(profile.Traits),
            ["orders"] = ToNode<IReadOnlyList<OrderRecord>>(orders),
            ["decisionTrail"] = ToNode<IReadOnlyList<Decision>>(decisions),
        };
        foreach (var contributor in contributors)
        {
            document[contributor.Section] = await contributor.ExportAsync(context, cancellationToken).ConfigureAwait(false);
        }

        return document;
    }

    /// <inheritdoc />
    public async ValueTask<ErasureReceipt> EraseAsync(TenantId tenant, CustomerId customer, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        var now = clock.GetCurrentInstant();
        var program = programs.GetProgram(tenant);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var scope = session.ConfigureAwait(false);
        var probe = await ContextAsync(session, customer, now, null, cancellationToken).ConfigureAwait(false);
        var pseudonym = hasher.Pseudonym(tenant, probe.Customer);
        var context = probe with { Pseudonym = pseudonym };

        // The addresses stay suppressed as salted hashes, so an import cannot bring the person back into marketing.
        var suppressed = 0;
        foreach (var identifier in context.Identifiers.Where(i => AddressHasher.ChannelsOf(i.Type).Count > 0))
        {
            await session.Consent.AddAddressSuppressionAsync(new AddressSuppression { AddressHash = hasher.Hash(tenant, identifier), List = SuppressionList.Erased, Since = now }, cancellationToken).ConfigureAwait(false);
            suppressed++;
        }

        var sections = new List<string>();
        foreach (var contributor in contributors)
        {
            await contributor.EraseAsync(context, cancellationToken).ConfigureAwait(false);
            sections.Add(contributor.Section);
        }

        foreach (var id in context.AllIds)
        {
            await session.IdentityControls.EraseCustomerAsync(id, context.Identifiers, cancellationToken).ConfigureAwait(false);
            await session.Identity.EraseAsync(id, cancellationToken).ConfigureAwait(false);
            await session.Profiles.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
            await session.Orders.AnonymizeCustomerAsync(id, pseudonym, cancellationToken).ConfigureAwait(false);
            await session.Decisions.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
            await session.Events.AnonymizeCustomerAsync(id, cancellationToken).ConfigureAwait(false);
            await session.Outbox.CancelForCustomerAsync(id, cancellationToken).ConfigureAwait(false);
        }

        var receipt = new ErasureReceipt
        {
            Pseudonym = pseudonym,
            ErasedAt = now,
            CustomerIds = context.AllIds.Count,
            Identifiers = context.Identifiers.Count,
            SuppressedAddresses = suppressed,
            Sections = ["identity", "identityControls", "profile", "orders", "decisionTrail", "events", "outbox", .. sections],
        };
        await session.Decisions.AppendAsync(
            [new Decision
            {
                Capability = Capabilities.Consent, Action = "customer_erased", Rule = "consent.gdpr_erasure", RuleVersion = program.Version,
                Summary = $"Personal data erased on request ({actor}); {receipt.SuppressedAddresses} address hash(es) suppressed; orders kept anonymized.",
                Customer = pseudonym, CausedBy = new EventId("erasure:" + pseudonym.Value), DecidedAt = now,
                Inputs = new Dictionary<string, string>
                {
                    ["customerIds"] = receipt.CustomerIds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["identifiers"] = receipt.Identifiers.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["suppressedAddresses"] = suppressed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["sections"] = string.Join(",", receipt.Sections),
                    ["actor"] = actor,
                },
            }],
            cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return receipt;
    }

    internal static JsonNode? ToNode<T>(T value) => JsonSerializer.SerializeToNode(value, LoyaltyJson.Options.GetTypeInfo(typeof(T)));

    private static async ValueTask<PersonalDataContext> ContextAsync(ILoyaltyStoreSession session, CustomerId customer, Instant now, CustomerId? pseudonym, CancellationToken cancellationToken)
    {
        var identity = await ContactStateLoader.RequireIdentityAsync(session, customer, cancellationToken).ConfigureAwait(false);
        var ids = new List<CustomerId> { identity.Customer };
        var queue = new Queue<CustomerId>(identity.Merges.Select(m => m.Absorbed));
        while (queue.TryDequeue(out var id))
        {
            if (!ids.Contains(id))
            {
                ids.Add(id);
                if (await session.Identity.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } absorbed)
                {
                    foreach (var m in absorbed.Merges)
                    {
                        queue.Enqueue(m.Absorbed);
                    }
                }
            }
        }

        return new PersonalDataContext
        {
            Session = session, Customer = identity.Customer, AllIds = ids, Identifiers = identity.Links.Select(l => l.Identifier).Distinct().ToArray(), Pseudonym = pseudonym, At = now,
        };
    }
}

/// <summary>The consent capability's part of a GDPR export and erasure.</summary>
public sealed class ConsentPersonalData(IProgramProvider programs) : IPersonalDataContributor
{
    private readonly IProgramProvider programs = programs ?? throw new ArgumentNullException(nameof(programs));

    /// <inheritdoc />
    public string Section => "consent";

    /// <inheritdoc />
    public async ValueTask<JsonNode?> ExportAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var repo = context.Session.Consent;
        var policy = CompiledConsentPolicy.For(programs.GetProgram(context.Session.Tenant));
        var records = new List<ConsentRecord>();
        var suppressions = new List<SuppressionEntry>();
        var sends = new List<SendRecord>();
        var preferences = new JsonArray();
        foreach (var id in context.AllIds)
        {
            records.AddRange(await repo.GetHistoryAsync(id, cancellationToken).ConfigureAwait(false));
            suppressions.AddRange(await repo.GetSuppressionsAsync(id, cancellationToken).ConfigureAwait(false));
            sends.AddRange((await repo.GetSendLogAsync(id, cancellationToken).ConfigureAwait(false)).Sends);
            if (await repo.GetPreferencesAsync(id, cancellationToken).ConfigureAwait(false) is { } p)
            {
                preferences.Add(PersonalDataService.ToNode(p));
            }
        }

        return new JsonObject
        {
            ["states"] = PersonalDataService.ToNode(ConsentEngine.Fold(records, context.At, policy.DoubleOptInTimeout)),
            ["records"] = PersonalDataService.ToNode<IReadOnlyList<ConsentRecord>>(records),
            ["preferences"] = preferences,
            ["suppressions"] = PersonalDataService.ToNode<IReadOnlyList<SuppressionEntry>>(suppressions),
            ["sends"] = PersonalDataService.ToNode<IReadOnlyList<SendRecord>>(sends),
        };
    }

    /// <inheritdoc />
    public async ValueTask EraseAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var pseudonym = context.Pseudonym ?? throw new ArgumentException("An erasure needs a pseudonym.", nameof(context));
        foreach (var id in context.AllIds)
        {
            await context.Session.Consent.EraseCustomerAsync(id, pseudonym, cancellationToken).ConfigureAwait(false);
        }
    }
}
