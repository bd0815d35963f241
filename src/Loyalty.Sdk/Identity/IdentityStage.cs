using System.Security.Cryptography;
using System.Text;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Telemetry;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Identity;

/// <summary>
/// Deterministic identity resolution: normalizes the event's identifiers, finds the customers that hold them, creates a
/// customer when none does, links new identifiers, and merges customers that the event proves to be one person (the
/// earliest first seen survives; the absorbed id redirects to it).
/// </summary>
public sealed class IdentityStage(IEnumerable<ICustomerMergeParticipant> participants) : IIdentityStage
{
    /// <summary>Rule that creates a customer for identifiers never seen.</summary>
    public const string NewCustomerRule = "identity.new_customer";

    /// <summary>Rule that links identifiers seen together on one event.</summary>
    public const string CoOccurrenceRule = "identity.co_occurrence";

    /// <summary>Rule that merges customers whose identifiers appear on one event.</summary>
    public const string MergeRule = "identity.merge_on_shared_event";

    private readonly ICustomerMergeParticipant[] participants = participants.ToArray();

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

    /// <inheritdoc />
    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var repository = context.Session.Identity;
        var e = context.Event;

        var identifiers = new List<Identifier>(e.Identifiers.Count);
        var blocked = new List<Identifier>();
        var errors = new List<ValidationError>();
        for (var i = 0; i < e.Identifiers.Count; i++)
        {
            var n = IdentifierNormalizer.Normalize(e.Identifiers[i], context.Program.DefaultRegion);
            if (n.Error is not null)
            {
                errors.Add(new ValidationError($"$.identifiers[{i}].value", "invalid_identifier", n.Error));
            }
            else if (n.Blocked)
            {
                blocked.Add(e.Identifiers[i]);
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

        if (identifiers.Count == 0)
        {
            throw new EventValidationException([new ValidationError("$.identifiers", "no_usable_identifier", "Every identifier of the event is a blocked placeholder value.")]);
        }

        // The customers already holding any of the identifiers, following merges.
        var holders = new List<CustomerIdentity>();
        foreach (var identifier in identifiers)
        {
            if (await repository.FindByIdentifierAsync(identifier, cancellationToken).ConfigureAwait(false) is { } holder
                && await FollowAsync(repository, holder, cancellationToken).ConfigureAwait(false) is { } identity
                && !holders.Exists(h => h.Customer == identity.Customer))
            {
                holders.Add(identity);
            }
        }

        CustomerIdentity survivor;
        if (holders.Count == 0)
        {
            survivor = new CustomerIdentity
            {
                Customer = NewCustomerId(context.Tenant, e.Id),
                FirstSeen = e.OccurredAt,
                Links = identifiers.Select(i => new IdentityLink(i, e.Id, context.Now, NewCustomerRule)).ToArray(),
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
            survivor = holders[0];
            context.Customer = survivor.Customer;
            var links = survivor.Links.ToList();
            var merges = survivor.Merges.ToList();
            for (var h = 1; h < holders.Count; h++)
            {
                var absorbed = holders[h];
                links.AddRange(absorbed.Links);
                merges.AddRange(absorbed.Merges);
                merges.Add(new MergeRecord(absorbed.Customer, survivor.Customer, e.Id, context.Now, MergeRule));
                await repository.SaveAsync(absorbed with { Links = [], Merges = [], MergedInto = survivor.Customer }, absorbed.Version, cancellationToken).ConfigureAwait(false);
                context.AddMerged(absorbed.Customer);
                context.Decide(Capabilities.Identity, "merged", MergeRule, $"Merged {absorbed.Customer} into {survivor.Customer}: one event carried identifiers of both.",
                    new Dictionary<string, string>
                    {
                        ["absorbed"] = absorbed.Customer.Value,
                        ["identifiers"] = string.Join(", ", identifiers),
                        ["survivorFirstSeen"] = survivor.FirstSeen.ToString(),
                        ["absorbedFirstSeen"] = absorbed.FirstSeen.ToString(),
                    });
                LoyaltyTelemetry.Merges.Add(1);
            }

            var added = new List<Identifier>();
            foreach (var identifier in identifiers)
            {
                if (!links.Exists(l => l.Identifier == identifier))
                {
                    links.Add(new IdentityLink(identifier, e.Id, context.Now, CoOccurrenceRule));
                    added.Add(identifier);
                }
            }

            if (holders.Count > 1 || added.Count > 0 || e.OccurredAt < survivor.FirstSeen)
            {
                var firstSeen = e.OccurredAt < survivor.FirstSeen ? e.OccurredAt : survivor.FirstSeen;
                await repository.SaveAsync(survivor with { Links = links, Merges = merges, FirstSeen = firstSeen }, survivor.Version, cancellationToken).ConfigureAwait(false);
            }

            foreach (var identifier in added)
            {
                context.Decide(Capabilities.Identity, "identifier_linked", CoOccurrenceRule, $"Linked {identifier}: seen on the same event as a known identifier.",
                    new Dictionary<string, string> { ["identifier"] = identifier.ToString() });
            }

            for (var h = 1; h < holders.Count; h++)
            {
                foreach (var participant in participants)
                {
                    await participant.OnMergedAsync(new CustomerMerged(context, survivor.Customer, holders[h].Customer), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        foreach (var b in blocked)
        {
            context.Decide(Capabilities.Identity, "identifier_blocked", "identity.blocked_value", $"Ignored {b.Type} value '{b.Value}': a placeholder that must never link customers.",
                new Dictionary<string, string> { ["identifier"] = b.ToString() });
        }
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
