using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Segments;

/// <summary>What a trait provider may read to fill the traits of one customer.</summary>
public sealed class CustomerTraitContext
{
    internal CustomerTraitContext(CustomerId customer, CustomerProfile? profile, CustomerIdentity? identity, CustomerSegmentState state, LoyaltyProgram program, Instant now, ILoyaltyStoreSession? session = null)
    {
        Session = session;
        Customer = customer;
        Profile = profile;
        Identity = identity;
        State = state;
        Program = program;
        Now = now;
    }

    /// <summary>The customer.</summary>
    public CustomerId Customer { get; }

    /// <summary>The profile.</summary>
    public CustomerProfile? Profile { get; }

    /// <summary>The identity (identifiers).</summary>
    public CustomerIdentity? Identity { get; }

    /// <summary>The segmentation state (computed traits).</summary>
    public CustomerSegmentState State { get; }

    /// <summary>The tenant's program.</summary>
    public LoyaltyProgram Program { get; }

    /// <summary>The evaluation instant.</summary>
    public Instant Now { get; }

    /// <summary>The unit of work the evaluation runs in, for providers that read their own capability's data in
    /// <see cref="ICustomerTraitProvider.PrepareAsync"/>.</summary>
    public ILoyaltyStoreSession? Session { get; }

    /// <summary>What providers prepared for this customer, keyed by provider (providers are shared singletons, so
    /// per-customer data lives here, not in the provider).</summary>
    public IDictionary<ICustomerTraitProvider, object?> Prepared { get; } = new Dictionary<ICustomerTraitProvider, object?>();
}

/// <summary>
/// Contributes traits that rules can read, with their types: consent and reachability, predictive scores, a ledger
/// tier… Register implementations with <c>TryAddEnumerable</c>; a trait name registered by a provider replaces a built-in
/// trait of the same name. <see cref="Fill"/> runs before a customer's segments are evaluated, so it must be fast and
/// must not block; load what you need in <see cref="PrepareAsync"/>.
/// </summary>
public interface ICustomerTraitProvider
{
    /// <summary>The traits provided, with types, parameters and the event kinds that change them.</summary>
    IReadOnlyList<RuleTraitDefinition> Traits { get; }

    /// <summary>Loads what <see cref="Fill"/> needs (called once per customer evaluation in the pipeline).</summary>
    ValueTask PrepareAsync(CustomerTraitContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Writes the value of <paramref name="slot"/> (one of this provider's traits) into <paramref name="subject"/>.</summary>
    void Fill(CustomerTraitContext context, RuleSubject subject, RuleSlot slot);
}

/// <summary>
/// The <c>reachable(channel)</c> and <c>consent(channel, purpose)</c> traits. A customer is reachable on a channel when
/// they have an identifier of that channel's type (e-mail address; phone number for sms, whatsapp and phone; device id
/// for push and in-app; a postal address) and no hard suppression (hard bounce, staff do-not-contact) covers it.
/// <c>consent</c> is true when the current state of the consent history (see the consent capability) is granted; with
/// no history it is unknown, which reads as <c>false</c>.
/// </summary>
public sealed class ReachabilityTraitProvider : ICustomerTraitProvider
{
    /// <summary>The contact channels, as rule symbols.</summary>
    public static IReadOnlyList<string> ContactChannels { get; } = Enum.GetValues<ContactChannel>().Select(BuiltInTraits.Snake).ToArray();

    /// <summary>The consent purposes, as rule symbols.</summary>
    public static IReadOnlyList<string> Purposes { get; } = Enum.GetValues<ConsentPurpose>().Select(BuiltInTraits.Snake).ToArray();

    /// <inheritdoc />
    public IReadOnlyList<RuleTraitDefinition> Traits { get; } =
    [
        new("reachable", RuleType.Boolean, "Whether the customer can be contacted on the channel (has an identifier of its type).")
        {
            Parameters = [new RuleParameter("channel", ContactChannels)],
            ChangedBy = [EventKinds.SignedUp, EventKinds.ProfileUpdated, EventKinds.OrderPlaced, EventKinds.Interaction, EventKinds.ConsentChanged],
        },
        new("consent", RuleType.Boolean, "Whether the customer consented to the purpose on the channel (unknown = false until a consent capability is registered).")
        {
            Parameters = [new RuleParameter("channel", ContactChannels), new RuleParameter("purpose", Purposes)],
            ChangedBy = [EventKinds.ConsentChanged],
        },
    ];

    /// <inheritdoc />
    public async ValueTask PrepareAsync(CustomerTraitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Session is not { } session)
        {
            return;
        }

        var history = await session.Consent.GetHistoryAsync(context.Customer, cancellationToken).ConfigureAwait(false);
        var suppressions = await session.Consent.GetSuppressionsAsync(context.Customer, cancellationToken).ConfigureAwait(false);
        if (history.Count == 0 && suppressions.Count == 0)
        {
            return;
        }

        var timeout = Duration.FromHours(context.Program.Consent?.DoubleOptIn.TimeoutHours ?? 72);
        var granted = Consent.ConsentEngine.Fold(history, context.Now, timeout)
            .Where(c => c.Status == ConsentStatus.Granted)
            .Select(c => (c.Channel, c.Purpose))
            .ToHashSet();
        var blocked = suppressions
            .Where(x => x.List is Consent.SuppressionList.HardBounce or Consent.SuppressionList.StaffDoNotContact)
            .Select(x => x.Channel)
            .ToList();
        context.Prepared[this] = new ContactFacts(granted, blocked);
    }

    /// <inheritdoc />
    public void Fill(CustomerTraitContext context, RuleSubject subject, RuleSlot slot)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(slot);
        var facts = context.Prepared.TryGetValue(this, out var prepared) ? prepared as ContactFacts : null;
        if (slot.Trait == "consent")
        {
            subject.SetFlag(slot.Index, facts is not null
                && Enum.TryParse<ContactChannel>(slot.Arguments[0].Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var ch)
                && Enum.TryParse<ConsentPurpose>(slot.Arguments[1].Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var purpose)
                && facts.Granted.Contains((ch, purpose)));
            return;
        }

        if (facts is not null && Enum.TryParse<ContactChannel>(slot.Arguments[0].Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var channel)
            && facts.HardSuppressed.Exists(c => c is null || c == channel))
        {
            subject.SetFlag(slot.Index, false);
            return;
        }

        var links = context.Identity?.Links ?? [];
        bool Has(IdentifierType type)
        {
            foreach (var link in links)
            {
                if (link.Identifier.Type == type)
                {
                    return true;
                }
            }

            return false;
        }

        subject.SetFlag(slot.Index, slot.Arguments[0] switch
        {
            "email" => Has(IdentifierType.Email),
            "sms" or "whats_app" or "phone" => Has(IdentifierType.Phone),
            "push" or "in_app" => Has(IdentifierType.DeviceId),
            "postal" => context.Profile?.Address is not null,
            _ => false,
        });
    }

    private sealed record ContactFacts(HashSet<(ContactChannel Channel, ConsentPurpose Purpose)> Granted, List<ContactChannel?> HardSuppressed);
}
