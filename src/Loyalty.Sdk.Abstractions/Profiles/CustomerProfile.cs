using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Profiles;

/// <summary>A customer's profile: what they told us and what we computed from what they did.</summary>
public sealed record CustomerProfile
{
    /// <summary>The customer.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>When the customer was first seen.</summary>
    public required Instant FirstSeen { get; init; }

    /// <summary>When the customer was last seen.</summary>
    public required Instant LastSeen { get; init; }

    /// <summary>Given name.</summary>
    public string? GivenName { get; init; }

    /// <summary>Family name.</summary>
    public string? FamilyName { get; init; }

    /// <summary>Birth date.</summary>
    public LocalDate? BirthDate { get; init; }

    /// <summary>IANA time zone id.</summary>
    public string? TimeZone { get; init; }

    /// <summary>BCP-47 locale.</summary>
    public string? Locale { get; init; }

    /// <summary>Postal address.</summary>
    public PostalAddress? Address { get; init; }

    /// <summary>When the customer signed up for the program, if they did.</summary>
    public Instant? SignedUpAt { get; init; }

    /// <summary>Traits computed incrementally from events.</summary>
    public CustomerTraits Traits { get; init; } = new();

    /// <summary>Which identifiers the profile's fields and activity came with, so that a split of the customer sends
    /// them with those identifiers; <c>null</c> until an event records any (and for profiles written before it was kept).</summary>
    public ProfileAttribution? Attribution { get; init; }

    /// <summary>Optimistic-concurrency version (incremented on every save).</summary>
    public long Version { get; init; }
}

/// <summary>Traits computed incrementally from events, in O(1) per event. Money is in the program's base currency.</summary>
public sealed record CustomerTraits
{
    /// <summary>Orders placed (cancelled orders included).</summary>
    public int Orders { get; init; }

    /// <summary>Orders cancelled in full.</summary>
    public int CancelledOrders { get; init; }

    /// <summary>Returns received.</summary>
    public int Returns { get; init; }

    /// <summary>Gross merchandise spend of placed orders.</summary>
    public decimal GrossSpend { get; init; }

    /// <summary>Value returned or cancelled.</summary>
    public decimal ReturnedValue { get; init; }

    /// <summary>Net spend: gross minus returned and cancelled.</summary>
    public decimal NetSpend => GrossSpend - ReturnedValue;

    /// <summary>First order.</summary>
    public Instant? FirstOrderAt { get; init; }

    /// <summary>Last order.</summary>
    public Instant? LastOrderAt { get; init; }

    /// <summary>Average order value (gross).</summary>
    public decimal AverageOrderValue => Orders == 0 ? 0m : decimal.Round(GrossSpend / Orders, 2);

    /// <summary>Message interactions and visits.</summary>
    public int Interactions { get; init; }

    /// <summary>Last interaction.</summary>
    public Instant? LastInteractionAt { get; init; }

    /// <summary>Carts abandoned.</summary>
    public int AbandonedCarts { get; init; }

    /// <summary>Support tickets opened.</summary>
    public int SupportTickets { get; init; }

    /// <summary>Reviews submitted.</summary>
    public int Reviews { get; init; }

    /// <summary>The channel of the last event.</summary>
    public Channel? LastChannel { get; init; }
}

/// <summary>
/// Where a profile's history came from: for each profile field, the identifiers of the event that last set it, and the
/// interactions, abandoned carts, support tickets and reviews counted per combination of identifiers their events were
/// resolved with. A split of identifiers moves what came only with identifiers that left (none the survivor keeps).
/// Activity not attributed here (recorded before attribution was kept, or beyond <see cref="MaxActivityTallies"/>)
/// stays with the customer. Compared by content.
/// </summary>
public sealed record ProfileAttribution
{
    /// <summary>Most activity tallies kept per customer; beyond it the least recently active is dropped (its counts stay
    /// in the traits, unattributed).</summary>
    public const int MaxActivityTallies = 64;

    private static readonly IReadOnlyDictionary<string, IReadOnlyList<Identifier>> NoSources = new Dictionary<string, IReadOnlyList<Identifier>>();

    /// <summary>The identifiers of the event that last set each field, by field name (<c>givenName</c>,
    /// <c>familyName</c>, <c>birthDate</c>, <c>timeZone</c>, <c>locale</c>, <c>address</c>, <c>signedUpAt</c>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Identifier>> FieldSources { get; init => field = value ?? NoSources; } = NoSources;

    /// <summary>Activity counted per combination of identifiers.</summary>
    public IReadOnlyList<ActivityTally> Activity { get; init => field = value ?? []; } = [];

    /// <inheritdoc />
    public bool Equals(ProfileAttribution? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || FieldSources.Count != other.FieldSources.Count || !Activity.SequenceEqual(other.Activity))
        {
            return false;
        }

        foreach (var (name, ids) in FieldSources)
        {
            if (!other.FieldSources.TryGetValue(name, out var theirs) || !ids.SequenceEqual(theirs))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(FieldSources.Count, Activity.Count);
}

/// <summary>Activity of one customer that came with one combination of identifiers. Compared by content.</summary>
public sealed record ActivityTally
{
    /// <summary>The normalized identifiers the events were resolved with.</summary>
    public IReadOnlyList<Identifier> Identifiers { get; init => field = value ?? []; } = [];

    /// <summary>Message interactions and visits.</summary>
    public int Interactions { get; init; }

    /// <summary>The last of them.</summary>
    public Instant? LastInteractionAt { get; init; }

    /// <summary>Carts abandoned.</summary>
    public int AbandonedCarts { get; init; }

    /// <summary>Support tickets opened.</summary>
    public int SupportTickets { get; init; }

    /// <summary>Reviews submitted.</summary>
    public int Reviews { get; init; }

    /// <summary>The first event counted.</summary>
    public Instant FirstAt { get; init; }

    /// <summary>The last event counted.</summary>
    public Instant LastAt { get; init; }

    /// <inheritdoc />
    public bool Equals(ActivityTally? other) =>
        ReferenceEquals(this, other)
        || (other is not null && Interactions == other.Interactions && LastInteractionAt == other.LastInteractionAt && AbandonedCarts == other.AbandonedCarts
            && SupportTickets == other.SupportTickets && Reviews == other.Reviews && FirstAt == other.FirstAt && LastAt == other.LastAt && Identifiers.SequenceEqual(other.Identifiers));

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Interactions, AbandonedCarts, SupportTickets, Reviews, FirstAt, LastAt, Identifiers.Count);
}
