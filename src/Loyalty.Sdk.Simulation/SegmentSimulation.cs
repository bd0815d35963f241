using Loyalty.Sdk.Segments;
using NodaTime;

namespace Loyalty.Sdk.Simulation;

/// <summary>Drives the segments' clock-based work during a simulation: due work at every midnight (UTC) the clock
/// passes, and a size record every week.</summary>
public sealed class SegmentSimulation
{
    private readonly ISegmentService segments;
    private readonly TenantId tenant;
    private readonly ManualClock clock;
    private Instant nextDay;
    private Instant nextWeek;

    /// <summary>Creates the driver, starting at <paramref name="start"/>.</summary>
    public SegmentSimulation(ISegmentService segments, TenantId tenant, ManualClock clock, Instant start)
    {
        this.segments = segments ?? throw new ArgumentNullException(nameof(segments));
        this.clock = clock ?? throw new ArgumentNullException(nameof(clock));
        this.tenant = tenant;
        nextDay = start + Duration.FromDays(1);
        nextWeek = start + Duration.FromDays(7);
    }

    /// <summary>Customers re-evaluated by due work so far.</summary>
    public long DueEvaluations { get; private set; }

    /// <summary>Runs the work due before <paramref name="to"/>.</summary>
    public async Task AdvanceAsync(Instant to, CancellationToken cancellationToken)
    {
        while (nextDay <= to)
        {
            clock.AdvanceTo(nextDay);
            DueEvaluations += (await segments.RunDueWorkAsync(tenant, nextDay, cancellationToken).ConfigureAwait(false)).Customers;
            if (nextDay >= nextWeek)
            {
                await segments.RecordSizesAsync(tenant, nextDay, cancellationToken).ConfigureAwait(false);
                nextWeek += Duration.FromDays(7);
            }

            nextDay += Duration.FromDays(1);
        }
    }

    /// <summary>Runs the due work up to <paramref name="end"/> and records the final sizes.</summary>
    public async Task FinishAsync(Instant end, CancellationToken cancellationToken)
    {
        await AdvanceAsync(end, cancellationToken).ConfigureAwait(false);
        clock.AdvanceTo(end);
        DueEvaluations += (await segments.RunDueWorkAsync(tenant, end, cancellationToken).ConfigureAwait(false)).Customers;
        await segments.RecordSizesAsync(tenant, end, cancellationToken).ConfigureAwait(false);
    }
}
