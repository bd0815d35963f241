using NodaTime;

namespace Loyalty.Sdk.Pipeline;

/// <summary>The capability that made a decision.</summary>
public static class Capabilities
{
    /// <summary>Identity resolution.</summary>
    public const string Identity = "identity";

    /// <summary>Profile and computed traits.</summary>
    public const string Profile = "profile";

    /// <summary>Points ledger.</summary>
    public const string Ledger = "ledger";

    /// <summary>Segmentation.</summary>
    public const string Segments = "segments";

    /// <summary>Consent and contact policy.</summary>
    public const string Consent = "consent";

    /// <summary>Journeys.</summary>
    public const string Journeys = "journeys";

    /// <summary>Outbox.</summary>
    public const string Outbox = "outbox";
}

/// <summary>
/// One automated decision, kept in the customer's decision trail so it can be explained later: what was decided, by
/// which rule (and rule version), on which inputs, because of which event.
/// </summary>
public sealed record Decision
{
    /// <summary>The capability that decided (see <see cref="Capabilities"/>).</summary>
    public required string Capability { get; init; }

    /// <summary>What was decided, e.g. <c>resolved</c>, <c>merged</c>, <c>points_posted</c>, <c>segment_entered</c>.</summary>
    public required string Action { get; init; }

    /// <summary>The rule that decided, e.g. <c>identity.exact_match</c> or an earning rule's id.</summary>
    public required string Rule { get; init; }

    /// <summary>The version of the rule (the program version for rules of a program definition).</summary>
    public int RuleVersion { get; init; }

    /// <summary>One sentence for people.</summary>
    public required string Summary { get; init; }

    /// <summary>The inputs the rule used, by name.</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; init; } = new Dictionary<string, string>();

    /// <summary>The customer concerned.</summary>
    public required CustomerId Customer { get; init; }

    /// <summary>The event that caused the decision.</summary>
    public required EventId CausedBy { get; init; }

    /// <summary>When it was decided (engine clock).</summary>
    public required Instant DecidedAt { get; init; }
}
