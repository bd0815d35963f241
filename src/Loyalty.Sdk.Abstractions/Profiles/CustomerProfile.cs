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
