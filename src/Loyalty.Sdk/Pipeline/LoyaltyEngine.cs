using System.Diagnostics;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Telemetry;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Loyalty.Sdk.Pipeline;

/// <summary>
/// The ingest pipeline: validates, de-duplicates by event id, runs identity → profile and traits → consent → ledger → segments →
/// journeys → outbox in one unit of work, and keeps every decision in the customer's trail. Stages that no capability
/// has registered are skipped.
/// </summary>
public sealed class LoyaltyEngine : ILoyaltyEngine
{
    private readonly ILoyaltyStore store;
    private readonly IProgramProvider programs;
    private readonly IClock clock;
    private readonly IIngestStage[] stages;
    private readonly LoyaltyOptions options;
    private readonly ILogger logger;

    /// <summary>Creates the engine; the dependency-injection container normally does this. Without a logger (no
    /// logging registered) nothing is logged.</summary>
    public LoyaltyEngine(
        ILoyaltyStore store,
        IProgramProvider programs,
        IClock clock,
        IIdentityStage identity,
        IProfileStage profile,
        IEnumerable<ITraitStage> traits,
        IEnumerable<Consent.IConsentStage> consent,
        IEnumerable<ILedgerStage> ledger,
        IEnumerable<ISegmentStage> segments,
        IEnumerable<IJourneyStage> journeys,
        IEnumerable<IOutboxStage> outbox,
        IOptions<LoyaltyOptions> options,
        ILogger<LoyaltyEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.store = store ?? throw new ArgumentNullException(nameof(store));
        this.programs = programs ?? throw new ArgumentNullException(nameof(programs));
        this.clock = clock ?? throw new ArgumentNullException(nameof(clock));
        this.options = options.Value;
        this.logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<LoyaltyEngine>.Instance;
        stages = [identity, profile, .. traits, .. consent, .. ledger, .. segments, .. journeys, .. outbox];
    }

    /// <summary>The stages in the order they run.</summary>
    public IReadOnlyList<IIngestStage> Stages => stages;

    /// <inheritdoc />
    public async ValueTask<IngestResult> IngestAsync(LoyaltyEvent @event, CancellationToken cancellationToken = default)
    {
        var results = await IngestBatchCoreAsync([@event], single: true, cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<IngestResult>> IngestBatchAsync(IReadOnlyList<LoyaltyEvent> events, CancellationToken cancellationToken = default) =>
        IngestBatchCoreAsync(events, single: false, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<CustomerId?> ResolveAsync(TenantId tenant, Identifier identifier, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var program = programs.GetProgram(tenant);
        var normalized = IdentifierNormalizer.Normalize(identifier, program.DefaultRegion);
        if (normalized.Identifier is null)
        {
            return null;
        }

        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var holder = await session.Identity.FindByIdentifierAsync(normalized.Identifier, cancellationToken).ConfigureAwait(false);
        return holder is null ? null : (await IdentityStage.FollowAsync(session.Identity, holder.Value, cancellationToken).ConfigureAwait(false))?.Customer;
    }

    /// <inheritdoc />
    public async ValueTask<CustomerView?> GetCustomerAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default)
    {
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var identity = await IdentityStage.FollowAsync(session.Identity, customer, cancellationToken).ConfigureAwait(false);
        if (identity is null)
        {
            return null;
        }

        var profile = await session.Profiles.GetAsync(identity.Customer, cancellationToken).ConfigureAwait(false);
        return new CustomerView(identity, profile);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<Decision>> GetDecisionTrailAsync(TenantId tenant, CustomerId customer, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(take);
        var session = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var identity = await IdentityStage.FollowAsync(session.Identity, customer, cancellationToken).ConfigureAwait(false);
        if (identity is null || identity.Merges.Count == 0)
        {
            return await session.Decisions.ListAsync(identity?.Customer ?? customer, skip, take, cancellationToken).ConfigureAwait(false);
        }

        // A merged customer's trail includes the decisions made about the customers it absorbed.
        var all = new List<Decision>();
        foreach (var id in identity.Merges.Select(m => m.Absorbed).Prepend(identity.Customer).Distinct())
        {
            all.AddRange(await session.Decisions.ListAsync(id, 0, int.MaxValue, cancellationToken).ConfigureAwait(false));
        }

        return all.OrderBy(d => d.DecidedAt).Skip(skip).Take(take).ToArray();
    }

    private async ValueTask<IReadOnlyList<IngestResult>> IngestBatchCoreAsync(IReadOnlyList<LoyaltyEvent> events, bool single, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count > options.MaxBatchSize)
        {
            throw new EventValidationException([new ValidationError("$", "batch_too_large", $"A batch holds at most {options.MaxBatchSize} events; this one has {events.Count}.")]);
        }

        var started = Stopwatch.GetTimestamp();
        using var activity = LoyaltyTelemetry.ActivitySource.StartActivity(single ? "loyalty.ingest" : "loyalty.ingest_batch");
        var now = clock.GetCurrentInstant();

        // 1. Validate everything first: an invalid event anywhere means nothing is applied.
        var programsByEvent = new LoyaltyProgram[events.Count];
        var errors = new List<ValidationError>();
        for (var i = 0; i < events.Count; i++)
        {
            var prefix = single ? "$" : $"$[{i}]";
            var e = events[i];
            if (e is null)
            {
                errors.Add(new ValidationError(prefix, "required", "An event cannot be null."));
                continue;
            }

            if (e.Tenant.Value is null)
            {
                errors.Add(new ValidationError($"{prefix}.tenant", "required", "The tenant is required."));
                continue;
            }

            programsByEvent[i] = programs.GetProgram(e.Tenant);
            errors.AddRange(EventValidator.Validate(e, programsByEvent[i], now, options.MaxFutureSkew, prefix));
        }

        if (errors.Count > 0)
        {
            Reject(events.Count == 1 ? events[0] : null, errors);
        }

        // 2. Apply, again from the start while the commit loses a race with another writer (nothing of a lost attempt is
        //    applied; the next attempt reads what the winner wrote, so events the winner ingested become duplicates).
        IngestResult[] results;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                results = await ApplyBatchAsync(events, programsByEvent, single, now, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (ConcurrencyConflictException) when (attempt < options.MaxConflictRetries)
            {
                LoyaltyTelemetry.ConflictRetries.Add(1);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 << Math.Min(attempt, 6))), cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var r in results)
        {
            LoyaltyTelemetry.EventsIngested.Add(1, new KeyValuePair<string, object?>("outcome", r.Outcome == IngestOutcome.Applied ? "applied" : "duplicate"));
        }

        LoyaltyTelemetry.IngestDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return results;
    }

    private async ValueTask<IngestResult[]> ApplyBatchAsync(IReadOnlyList<LoyaltyEvent> events, LoyaltyProgram[] programsByEvent, bool single, Instant now, CancellationToken cancellationToken)
    {
        // One unit of work per tenant, opened in a fixed order so that concurrent batches cannot deadlock.
        var sessions = new SortedDictionary<string, ILoyaltyStoreSession>(StringComparer.Ordinal);
        var results = new IngestResult[events.Count];
        try
        {
            foreach (var tenant in events.Select(e => e.Tenant).Distinct().OrderBy(t => t.Value, StringComparer.Ordinal))
            {
                sessions[tenant.Value] = await store.OpenSessionAsync(tenant, cancellationToken).ConfigureAwait(false);
            }

            foreach (var (tenant, session) in sessions)
            {
                if (session is IReadAheadSession readAhead)
                {
                    await readAhead.ReadAheadAsync(ReadAhead(events, programsByEvent, tenant), cancellationToken).ConfigureAwait(false);
                }
            }

            for (var i = 0; i < events.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    results[i] = await ApplyAsync(events[i], programsByEvent[i], sessions[events[i].Tenant.Value], now, cancellationToken).ConfigureAwait(false);
                }
                catch (EventValidationException ex) when (!single)
                {
                    var prefixed = ex.Errors.Select(x => x with { Path = $"$[{i}]" + x.Path[1..] }).ToArray();
                    Reject(events[i], prefixed);
                }
                catch (EventValidationException ex)
                {
                    Reject(events[i], ex.Errors);
                }
            }

            foreach (var session in sessions.Values)
            {
                await session.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var session in sessions.Values)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }

        return results;
    }

    /// <summary>What the events of <paramref name="tenant"/> will be looked up by: their ids, their identifiers as
    /// identity resolution normalizes them, and the orders they name.</summary>
    private static ReadAheadRequest ReadAhead(IReadOnlyList<LoyaltyEvent> events, LoyaltyProgram[] programsByEvent, string tenant)
    {
        var ids = new List<EventId>();
        var identifiers = new List<Identifier>();
        var orders = new List<string>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (!string.Equals(e.Tenant.Value, tenant, StringComparison.Ordinal))
            {
                continue;
            }

            ids.Add(e.Id);
            var program = programsByEvent[i];
            foreach (var raw in e.Identifiers)
            {
                if (IdentifierNormalizer.Normalize(raw, program.DefaultRegion, program.Identity.For(raw.Type)) is { Identifier: { } normalized, Error: null, Blocked: false })
                {
                    identifiers.Add(normalized);
                }
            }

            if (e switch { OrderPlaced o => o.OrderId, OrderCompleted c => c.OrderId, OrderReturned r => r.OrderId, OrderCancelled x => x.OrderId, _ => null } is { } order)
            {
                orders.Add(order);
            }
        }

        return new ReadAheadRequest { EventIds = ids, Identifiers = identifiers, OrderIds = orders };
    }

    private async ValueTask<IngestResult> ApplyAsync(LoyaltyEvent e, LoyaltyProgram program, ILoyaltyStoreSession session, Instant now, CancellationToken cancellationToken)
    {
        if (await session.Events.FindAsync(e.Id, cancellationToken).ConfigureAwait(false) is { } earlier)
        {
            Log.Duplicate(logger, e.Id.Value, e.Tenant.Value);
            CustomerId? customer = earlier.Customer is { } c
                ? (await IdentityStage.FollowAsync(session.Identity, c, cancellationToken).ConfigureAwait(false))?.Customer ?? c
                : null;
            return new IngestResult { EventId = e.Id, Tenant = e.Tenant, Outcome = IngestOutcome.Duplicate, Customer = customer };
        }

        var context = new IngestContext(e, program, session, now);
        foreach (var stage in stages)
        {
            await stage.ProcessAsync(context, cancellationToken).ConfigureAwait(false);
        }

        await session.Events.AddAsync(new ProcessedEvent(e.Id, context.Customer, now), cancellationToken).ConfigureAwait(false);
        if (context.Decisions.Count > 0)
        {
            await session.Decisions.AppendAsync(context.Decisions, cancellationToken).ConfigureAwait(false);
        }

        foreach (var absorbed in context.Merged)
        {
            Log.Merged(logger, absorbed.Value, context.RequireCustomer().Value, e.Tenant.Value, e.Id.Value);
        }

        Log.Ingested(logger, e.Kind, e.Id.Value, e.Tenant.Value, context.Customer?.Value);
        return new IngestResult
        {
            EventId = e.Id,
            Tenant = e.Tenant,
            Outcome = IngestOutcome.Applied,
            Customer = context.Customer,
            NewCustomer = context.NewCustomer,
            Merged = context.Merged.ToArray(),
            PointsPosted = context.PointsPosted,
            Segments = context.SegmentChanges.ToArray(),
            Actions = context.Actions.ToArray(),
            Decisions = context.Decisions.ToArray(),
        };
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Reject(LoyaltyEvent? e, IReadOnlyList<ValidationError> errors)
    {
        LoyaltyTelemetry.EventsIngested.Add(1, new KeyValuePair<string, object?>("outcome", "rejected"));
        Log.Rejected(logger, e?.Id.Value, e?.Tenant.Value, string.Join("; ", errors));
        throw new EventValidationException(errors);
    }
}
