using Loyalty.Sdk.Events;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Pipeline;

/// <summary>
/// One stage of the ingest pipeline. Stages run in a fixed order — identity, profile and traits, ledger, segments,
/// journeys, outbox — each reading and writing through the context's session, so an event is applied whole or not at
/// all. Register your own implementation of a stage interface to replace the built-in one.
/// </summary>
public interface IIngestStage
{
    /// <summary>Processes one event.</summary>
    ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken);
}

/// <summary>Resolves the event's identifiers to one customer, merging customers the event links.</summary>
public interface IIdentityStage : IIngestStage;

/// <summary>Updates the profile and the computed traits.</summary>
public interface IProfileStage : IIngestStage;

/// <summary>Maintains computed traits beyond the profile (e.g. predictive purchase histories); every registered one
/// runs, right after the profile stage.</summary>
public interface ITraitStage : IIngestStage;

/// <summary>Posts points.</summary>
public interface ILedgerStage : IIngestStage;

/// <summary>Re-evaluates segment membership.</summary>
public interface ISegmentStage : IIngestStage;

/// <summary>Advances journeys and decides actions.</summary>
public interface IJourneyStage : IIngestStage;

/// <summary>Writes decided actions to the outbox.</summary>
public interface IOutboxStage : IIngestStage;

/// <summary>The state of one event's trip through the pipeline.</summary>
public sealed class IngestContext
{
    private readonly List<Decision> decisions = [];
    private readonly List<CustomerId> merged = [];
    private readonly List<SegmentChange> segmentChanges = [];
    private readonly List<JourneyActionOutcome> actions = [];

    /// <summary>Creates the context.</summary>
    public IngestContext(LoyaltyEvent @event, LoyaltyProgram program, ILoyaltyStoreSession session, Instant now)
    {
        Event = @event ?? throw new ArgumentNullException(nameof(@event));
        Program = program ?? throw new ArgumentNullException(nameof(program));
        Session = session ?? throw new ArgumentNullException(nameof(session));
        Now = now;
    }

    /// <summary>The event.</summary>
    public LoyaltyEvent Event { get; }

    /// <summary>The tenant's program.</summary>
    public LoyaltyProgram Program { get; }

    /// <summary>The unit of work.</summary>
    public ILoyaltyStoreSession Session { get; }

    /// <summary>The engine clock's instant when ingestion started.</summary>
    public Instant Now { get; }

    /// <summary>The tenant.</summary>
    public TenantId Tenant => Event.Tenant;

    /// <summary>The resolved customer (set by the identity stage).</summary>
    public CustomerId? Customer { get; set; }

    /// <summary>The normalized identifiers the identity stage resolved the event with (blocked and refused ones
    /// left out).</summary>
    public IReadOnlyList<Identifier> ResolvedIdentifiers { get; set; } = [];

    /// <summary>Whether the identity stage created the customer.</summary>
    public bool NewCustomer { get; set; }

    /// <summary>The profile after the profile stage.</summary>
    public CustomerProfile? Profile { get; set; }

    /// <summary>Set by the profile stage when the event is an order whose id was already placed under another event
    /// id: later stages count it once (natural-key idempotency).</summary>
    public bool OrderAlreadyPlaced { get; set; }

    /// <summary>Points posted so far.</summary>
    public long PointsPosted { get; set; }

    /// <summary>Customers absorbed by merges.</summary>
    public IReadOnlyList<CustomerId> Merged => merged;

    /// <summary>Segment changes.</summary>
    public IReadOnlyList<SegmentChange> SegmentChanges => segmentChanges;

    /// <summary>Journey actions.</summary>
    public IReadOnlyList<JourneyActionOutcome> Actions => actions;

    /// <summary>Decisions made so far.</summary>
    public IReadOnlyList<Decision> Decisions => decisions;

    /// <summary>The resolved customer; throws when the identity stage has not run.</summary>
    public CustomerId RequireCustomer() =>
        Customer ?? throw new InvalidOperationException("The identity stage has not resolved a customer yet.");

    /// <summary>Records a merge of <paramref name="absorbed"/> into the context's customer.</summary>
    public void AddMerged(CustomerId absorbed) => merged.Add(absorbed);

    /// <summary>Records a segment change.</summary>
    public void AddSegmentChange(SegmentChange change) => segmentChanges.Add(change);

    /// <summary>Records a journey action.</summary>
    public void AddAction(JourneyActionOutcome outcome) => actions.Add(outcome);

    /// <summary>Records a decision about the context's customer.</summary>
    public Decision Decide(string capability, string action, string rule, string summary, IReadOnlyDictionary<string, string>? inputs = null)
    {
        var decision = new Decision
        {
            Capability = capability,
            Action = action,
            Rule = rule,
            RuleVersion = Program.Version,
            Summary = summary,
            Inputs = inputs ?? new Dictionary<string, string>(),
            Customer = RequireCustomer(),
            CausedBy = Event.Id,
            DecidedAt = Now,
        };
        decisions.Add(decision);
        return decision;
    }
}
