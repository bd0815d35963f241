using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;

namespace Loyalty.Sdk.Programs;

/// <summary>
/// What a tenant's program consists of. Built in C# or read from JSON (see <c>docs/program.md</c>); validated before
/// use with every problem listed by path. Each capability owns a section.
/// </summary>
public sealed record LoyaltyProgram
{
    /// <summary>The program's id, e.g. <c>acme-rewards</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Display name.</summary>
    public required string Name { get; init; }

    /// <summary>Version of the definition; decisions record it as the rule version.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The currency of the program's monetary traits and earning rates.</summary>
    public required Currency BaseCurrency { get; init; }

    /// <summary>Rates to convert other order currencies to <see cref="BaseCurrency"/> (1 unit of the key = value units
    /// of the base currency). An order in a currency that is neither the base nor listed here is refused.</summary>
    public IReadOnlyDictionary<string, decimal> ExchangeRates { get; init => field = value ?? new Dictionary<string, decimal>(); } = new Dictionary<string, decimal>();

    /// <summary>IANA time zone used when a customer has none.</summary>
    public string DefaultTimeZone { get; init => field = value ?? "UTC"; } = "UTC";

    /// <summary>ISO 3166-1 region used to read phone numbers without a country code.</summary>
    public string DefaultRegion { get; init => field = value ?? "US"; } = "US";

    /// <summary>Identifier types the host adds to the built-in ones.</summary>
    public IReadOnlyList<IdentifierType> CustomIdentifierTypes { get; init => field = value ?? []; } = [];

    /// <summary>Identity resolution policies: per identifier type normalization, limits, priority and blocked values;
    /// merge protection; probabilistic matching.</summary>
    public IdentityPolicy Identity { get; init => field = value ?? new IdentityPolicy(); } = new();

    /// <summary>Custom event kinds the host registers.</summary>
    public IReadOnlyList<CustomEventDefinition> CustomEvents { get; init => field = value ?? []; } = [];

    /// <summary>The points ledger: currencies, earning rules, expiry, pending window, returns and tiers. Without it,
    /// the ledger posts nothing from orders.</summary>
    public LedgerProgram? Ledger { get; init; }

    /// <summary>Consent and contact policy: caps, quiet hours and send windows, double opt-in, message classes, tags
    /// (<c>$.consent</c>); null means <see cref="Consent.ConsentPolicy.Default"/>.</summary>
    public Consent.ConsentPolicy? Consent { get; init; }

    /// <summary>Segments: named rules in the rule language (see <c>docs/segments.md</c>).</summary>
    public IReadOnlyList<Segments.SegmentDefinition> Segments { get; init; } = [];

    /// <summary>Journeys (<c>$.journeys</c>, see <c>docs/journeys.md</c>): the same shape as
    /// <see cref="Journeys.JourneyDefinition"/>. They run in addition to those registered in code when the journeys
    /// capability is added.</summary>
    public IReadOnlyList<Journeys.JourneyDefinition> Journeys { get; init => field = value ?? []; } = [];

    /// <summary>Whether an identifier type is known to the program (built in or registered).</summary>
    public bool IsKnownIdentifierType(IdentifierType type) => type.IsBuiltIn || CustomIdentifierTypes.Contains(type);
}

/// <summary>The type of a custom event property.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<CustomPropertyType>))]
public enum CustomPropertyType
{
    /// <summary>A JSON string.</summary>
    String,

    /// <summary>A JSON number.</summary>
    Number,

    /// <summary>A JSON boolean.</summary>
    Boolean,
}

/// <summary>A custom event kind registered by the host.</summary>
public sealed record CustomEventDefinition
{
    /// <summary>The event name (lower-case letters, digits and '_').</summary>
    public required string Name { get; init; }

    /// <summary>Declared properties and their types; undeclared properties are refused.</summary>
    public IReadOnlyDictionary<string, CustomPropertyType> Properties { get; init => field = value ?? new Dictionary<string, CustomPropertyType>(); } = new Dictionary<string, CustomPropertyType>();

    /// <summary>Properties that must be present.</summary>
    public IReadOnlyList<string> Required { get; init => field = value ?? []; } = [];
}

/// <summary>Supplies the program of each tenant.</summary>
public interface IProgramProvider
{
    /// <summary>The program of <paramref name="tenant"/>; throws <see cref="Validation.LoyaltyException"/> when the
    /// tenant has none.</summary>
    LoyaltyProgram GetProgram(TenantId tenant);
}
