using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;

namespace Loyalty.Sdk.Programs;

/// <summary>
/// The <c>identity</c> section of a program: how each identifier type is normalized, limited, prioritized and blocked,
/// how merges are guarded, and how probabilistic duplicate detection acts. Types without a policy use
/// <see cref="IdentifierTypePolicy"/>'s defaults (no limit, priority 50).
/// </summary>
public sealed record IdentityPolicy
{
    /// <summary>Policies by identifier type name (<c>email</c>, <c>phone</c>, <c>loyalty_card</c>, a custom type…).</summary>
    public IReadOnlyDictionary<string, IdentifierTypePolicy> Types { get; init => field = value ?? new Dictionary<string, IdentifierTypePolicy>(); } = new Dictionary<string, IdentifierTypePolicy>();

    /// <summary>A value refused from linking this many distinct customers is blocked for the tenant automatically
    /// (a shared store e-mail, a test card). 0 turns auto-blocking off.</summary>
    public int AutoBlockThreshold { get; init; } = 3;

    /// <summary>Most identifiers one customer may hold; a link or merge beyond it is refused.</summary>
    public int MaxIdentifiersPerCustomer { get; init; } = 50;

    /// <summary>Most merges one customer may absorb; a merge beyond it is refused.</summary>
    public int MaxMergesPerCustomer { get; init; } = 20;

    /// <summary>Probabilistic duplicate detection.</summary>
    public ProbabilisticMatchingPolicy Probabilistic { get; init => field = value ?? new ProbabilisticMatchingPolicy(); } = new();

    /// <summary>The policy of <paramref name="type"/> (defaults when none is configured).</summary>
    public IdentifierTypePolicy For(IdentifierType type) =>
        type.Name is not null && Types.TryGetValue(type.Name, out var policy) ? policy : IdentifierTypePolicy.Default;
}

/// <summary>The policy of one identifier type.</summary>
public sealed record IdentifierTypePolicy
{
    /// <summary>The policy of a type nobody configured.</summary>
    public static IdentifierTypePolicy Default { get; } = new();

    /// <summary>Most values of this type one customer may hold (within <see cref="LimitWindowDays"/> when set);
    /// <c>null</c> for no limit. A link or merge that would exceed it is refused.</summary>
    public int? Limit { get; init; }

    /// <summary>When set, <see cref="Limit"/> counts only values linked within this many days.</summary>
    public int? LimitWindowDays { get; init; }

    /// <summary>Higher wins: when a link is refused, the event's lowest-priority identifier is dropped first.</summary>
    public int Priority { get; init; } = 50;

    /// <summary>Values that never link customers (compared after normalization, case-insensitively), in addition
    /// to the built-in placeholders (empty, <c>null</c>, <c>unknown</c>, <c>-1</c>, all zeros…).</summary>
    public IReadOnlyList<string> Blocked { get; init => field = value ?? []; } = [];

    /// <summary>Regular expressions (.NET syntax, matched against the normalized value) of values that never link.</summary>
    public IReadOnlyList<string> BlockedPatterns { get; init => field = value ?? []; } = [];

    /// <summary>The source system guarantees one value per person: a customer holds at most one value of the type
    /// and its values are never auto-blocked.</summary>
    public bool Unique { get; init; }

    /// <summary>The identifier is an authenticated login: when an event's identifiers conflict, it is kept first.</summary>
    public bool Login { get; init; }

    /// <summary>E-mail only: apply provider rules — dots and <c>+tags</c> removed for Gmail addresses, <c>+tags</c>
    /// removed for every other provider. Off by default (opt in).</summary>
    public bool ProviderRules { get; init; }

    /// <summary>The effective limit (1 for a unique type).</summary>
    [JsonIgnore]
    public int? EffectiveLimit => Unique ? Math.Min(Limit ?? 1, 1) : Limit;

    /// <summary>The priority used to order an event's identifiers (logins first).</summary>
    [JsonIgnore]
    public int EffectivePriority => Login ? Priority + 1_000_000 : Priority;
}

/// <summary>What duplicate detection does with a candidate pair above <see cref="ProbabilisticMatchingPolicy.ReviewThreshold"/>.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ProbabilisticMode>))]
public enum ProbabilisticMode
{
    /// <summary>Only suggest: nothing is stored or merged.</summary>
    Suggest,

    /// <summary>Put pairs in the review queue; staff decide.</summary>
    Review,

    /// <summary>Merge pairs at or above <see cref="ProbabilisticMatchingPolicy.AutoMergeThreshold"/> (rule
    /// <c>identity.probabilistic</c>), queue the rest for review.</summary>
    AutoMerge,
}

/// <summary>Probabilistic (Fellegi–Sunter) duplicate detection over customer profiles.</summary>
public sealed record ProbabilisticMatchingPolicy
{
    /// <summary>Below this match probability nothing is suggested, queued or merged.</summary>
    public double ReviewThreshold { get; init; } = 0.9;

    /// <summary>At or above this probability a pair is merged automatically in <see cref="ProbabilisticMode.AutoMerge"/>.</summary>
    public double AutoMergeThreshold { get; init; } = 0.995;

    /// <summary>What happens to pairs above the review threshold.</summary>
    public ProbabilisticMode Mode { get; init; } = ProbabilisticMode.Review;

    /// <summary>Largest cluster the matcher may form; edges that would grow one beyond it are dropped.</summary>
    public int MaxClusterSize { get; init; } = 10;
}
