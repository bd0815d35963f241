using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>
/// Local-time arithmetic in a customer's zone with the documented DST rules:
/// <list type="bullet">
/// <item>a <b>skipped</b> local time (spring forward) maps to the instant the clocks jump, the first valid instant
/// after it;</item>
/// <item>a <b>repeated</b> local time (fall back) maps to its earlier occurrence when a quiet period starts and to its
/// later occurrence when it ends, so DST never shortens quiet hours;</item>
/// <item>a local day starts at its first valid instant.</item>
/// </list>
/// When the zone's offset is constant around the instant of interest, everything is plain offset arithmetic.
/// </summary>
internal readonly struct LocalClock
{
    private const long TicksPerDay = NodaConstants.TicksPerDay;
    private readonly DateTimeZone zone;
    private readonly Offset offset;
    private readonly long offsetTicks;
    private readonly bool fixedOffset;

    private LocalClock(DateTimeZone zone, Offset offset, bool fixedOffset)
    {
        this.zone = zone;
        this.offset = offset;
        offsetTicks = offset.Ticks;
        this.fixedOffset = fixedOffset;
    }

    public DateTimeZone Zone => zone;

    public static LocalClock For(DateTimeZone zone, Instant around, Duration span)
    {
        var interval = zone.GetZoneInterval(around);
        var stable = (!interval.HasStart || interval.Start <= around - span) && (!interval.HasEnd || interval.End > around + span);
        return new LocalClock(zone, interval.WallOffset, stable);
    }

    /// <summary>Like <see cref="For(DateTimeZone, Instant, Duration)"/>, reusing the customer's cached zone interval
    /// when <paramref name="around"/> ± <paramref name="span"/> lies inside it (no zone lookup on the hot path).</summary>
    public static LocalClock For(DateTimeZone zone, Instant around, Duration span, ref StableOffset? cache)
    {
        var ticks = around.ToUnixTimeTicks();
        var spanTicks = span.BclCompatibleTicks;
        var cached = cache;
        if (cached is not null && cached.StartTicks <= ticks - spanTicks && cached.EndTicks > ticks + spanTicks)
        {
            return new LocalClock(zone, cached.Offset, true);
        }

        var interval = zone.GetZoneInterval(around);
        var start = interval.HasStart ? interval.Start.ToUnixTimeTicks() : long.MinValue;
        var end = interval.HasEnd ? interval.End.ToUnixTimeTicks() : long.MaxValue;
        cache = new StableOffset(start, end, interval.WallOffset);
        var stable = start <= ticks - spanTicks && end > ticks + spanTicks;
        return new LocalClock(zone, interval.WallOffset, stable);
    }

    public LocalDateTime ToLocal(Instant instant) => fixedOffset ? instant.WithOffset(offset).LocalDateTime : instant.InZone(zone).LocalDateTime;

    /// <summary>Start of the local day <paramref name="daysBefore"/> days before the local day of
    /// <paramref name="at"/>, in Unix ticks (integer arithmetic when the offset is fixed).</summary>
    public long StartOfDayTicks(Instant at, int daysBefore)
    {
        if (fixedOffset)
        {
            var day = Math.DivRem(at.ToUnixTimeTicks() + offsetTicks, TicksPerDay, out var rem) - (rem < 0 ? 1 : 0);
            return ((day - daysBefore) * TicksPerDay) - offsetTicks;
        }

        return StartOfDay(ToLocal(at).Date.PlusDays(-daysBefore)).ToUnixTimeTicks();
    }

    public Instant StartOfDay(LocalDate date) => fixedOffset ? date.AtMidnight().WithOffset(offset).ToInstant() : zone.AtStartOfDay(date).ToInstant();

    /// <summary>The instant of a local time: skipped → the jump; repeated → earlier unless <paramref name="later"/>.</summary>
    public Instant Resolve(LocalDateTime local, bool later)
    {
        if (fixedOffset)
        {
            return local.WithOffset(offset).ToInstant();
        }

        var mapping = zone.MapLocal(local);
        return mapping.Count switch
        {
            0 => mapping.LateInterval.Start,
            1 => mapping.Single().ToInstant(),
            _ => later ? mapping.Last().ToInstant() : mapping.First().ToInstant(),
        };
    }

    /// <summary>If <paramref name="at"/> falls in a blocked window (or a chain of them), the first instant after;
    /// else null.</summary>
    public Instant? BlockedUntil(BlockedWindow[] windows, Instant at)
    {
        if (windows.Length == 0)
        {
            return null;
        }

        if (fixedOffset)
        {
            return BlockedUntilFixed(windows, at);
        }

        var t = at;
        var blocked = false;
        for (var iteration = 0; iteration < 8; iteration++)
        {
            var moved = false;
            var date = ToLocal(t).Date;
            foreach (var w in windows)
            {
                for (var d = date.PlusDays(-1); d <= date; d = d.PlusDays(1))
                {
                    var start = Resolve(d + w.Start, later: false);
                    var end = Resolve((w.End > w.Start ? d : d.PlusDays(1)) + w.End, later: true);
                    if (start <= t && t < end)
                    {
                        t = end;
                        moved = true;
                    }
                }
            }

            if (!moved)
            {
                break;
            }

            blocked = true;
        }

        return blocked ? t : null;
    }

    private Instant? BlockedUntilFixed(BlockedWindow[] windows, Instant at)
    {
        var local = at.ToUnixTimeTicks() + offsetTicks;
        var t = local;
        for (var iteration = 0; iteration < 8; iteration++)
        {
            var moved = false;
            var day = Math.DivRem(t, TicksPerDay, out var rem) - (rem < 0 ? 1 : 0);
            foreach (var w in windows)
            {
                var startOfDay = w.StartTicks;
                var endOfDay = w.EndTicks;
                for (var d = day - 1; d <= day; d++)
                {
                    var start = (d * TicksPerDay) + startOfDay;
                    var end = ((endOfDay > startOfDay ? d : d + 1) * TicksPerDay) + endOfDay;
                    if (start <= t && t < end)
                    {
                        t = end;
                        moved = true;
                    }
                }
            }

            if (!moved)
            {
                break;
            }
        }

        return t == local ? null : Instant.FromUnixTimeTicks(t - offsetTicks);
    }
}

/// <summary>A zone interval with a constant offset, as Unix ticks (cached per customer state).</summary>
internal sealed record StableOffset(long StartTicks, long EndTicks, Offset Offset);
