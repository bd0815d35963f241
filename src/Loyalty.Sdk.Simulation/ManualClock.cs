using NodaTime;

namespace Loyalty.Sdk.Simulation;

/// <summary>A clock that a simulation or a replay moves forward explicitly (it never goes back).</summary>
public sealed class ManualClock(Instant start) : IClock
{
    private long ticks = start.ToUnixTimeTicks();

    /// <summary>The current instant.</summary>
    public Instant Now => Instant.FromUnixTimeTicks(Interlocked.Read(ref ticks));

    /// <inheritdoc />
    public Instant GetCurrentInstant() => Now;

    /// <summary>Moves the clock to <paramref name="instant"/> if that is later than now.</summary>
    public void AdvanceTo(Instant instant)
    {
        var target = instant.ToUnixTimeTicks();
        long current;
        do
        {
            current = Interlocked.Read(ref ticks);
            if (target <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref ticks, target, current) != current);
    }
}
