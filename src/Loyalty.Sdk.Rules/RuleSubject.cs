using NodaTime;

namespace Loyalty.Sdk.Rules;

/// <summary>The windowed counters of one customer, as the host keeps them (see <see cref="WindowSeries"/>).</summary>
public interface IRuleWindows
{
    /// <summary>The aggregate of series <paramref name="series"/> over events after <paramref name="fromMs"/> up to
    /// <paramref name="nowMs"/> (Unix milliseconds, at bucket granularity). Count and distinct are 0 without events;
    /// sum is 0; avg, min and max are NaN (null).</summary>
    double Aggregate(int series, AggregateKind kind, long fromMs, long nowMs);

    /// <summary>The earliest instant (Unix milliseconds) after <paramref name="nowMs"/> at which the aggregate over a
    /// window of <paramref name="windowMs"/> can change without a new event (a bucket leaving the window);
    /// <see cref="long.MaxValue"/> if never.</summary>
    long NextExpiry(int series, long windowMs, long nowMs);
}

/// <summary>
/// The values a compiled rule reads for one customer, in slots numbered by the <see cref="RuleSchema"/>. Numbers,
/// money, durations (ms), dates (days since 1970-01-01) and timestamps (Unix ms) are doubles, NaN meaning null. A host
/// fills one subject per customer (or reuses one per thread) and evaluates any number of rules on it without
/// allocating.
/// </summary>
public sealed class RuleSubject
{
    /// <summary>Creates a subject with room for <paramref name="slots"/> slots.</summary>
    public RuleSubject(int slots = 0)
    {
        Numbers = [];
        Texts = [];
        Flags = [];
        Expires = [];
        EnsureCapacity(slots);
    }

    /// <summary>Numeric slots (NaN = null).</summary>
    public double[] Numbers { get; private set; }

    /// <summary>Text slots.</summary>
    public string?[] Texts { get; private set; }

    /// <summary>Boolean slots.</summary>
    public bool[] Flags { get; private set; }

    /// <summary>The customer's time zone (date functions use it).</summary>
    public DateTimeZone Zone { get; set; } = DateTimeZone.Utc;

    /// <summary>Per slot: until when the value of a time-dependent trait holds (Unix ms; <see cref="long.MaxValue"/>:
    /// until an event changes it).</summary>
    public long[] Expires { get; private set; }

    /// <summary>The customer's windowed counters.</summary>
    public IRuleWindows? Windows { get; set; }

    /// <summary>Makes room for <paramref name="slots"/> slots.</summary>
    public void EnsureCapacity(int slots)
    {
        if (slots <= Numbers.Length)
        {
            return;
        }

        var old = Numbers.Length;
        var numbers = Numbers;
        var texts = Texts;
        var flags = Flags;
        var expires = Expires;
        Array.Resize(ref expires, slots);
        Array.Fill(expires, long.MaxValue, old, slots - old);
        Expires = expires;
        Array.Resize(ref numbers, slots);
        Array.Resize(ref texts, slots);
        Array.Resize(ref flags, slots);
        Array.Fill(numbers, double.NaN, old, slots - old);
        Numbers = numbers;
        Texts = texts;
        Flags = flags;
    }

    /// <summary>Resets every slot to null/false.</summary>
    public void Clear()
    {
        Array.Fill(Numbers, double.NaN);
        Array.Clear(Texts);
        Array.Clear(Flags);
        Array.Fill(Expires, long.MaxValue);
    }

    /// <summary>Sets a number or money slot.</summary>
    public void SetNumber(int slot, double? value) => Numbers[slot] = value ?? double.NaN;

    /// <summary>Sets a timestamp slot.</summary>
    public void SetTimestamp(int slot, Instant? value) => Numbers[slot] = value is { } v ? v.ToUnixTimeMilliseconds() : double.NaN;

    /// <summary>Sets a date slot.</summary>
    public void SetDate(int slot, LocalDate? value) => Numbers[slot] = value is { } v ? RuleTime.EpochDay(v) : double.NaN;

    /// <summary>Sets a duration slot.</summary>
    public void SetDuration(int slot, Duration? value) => Numbers[slot] = value is { } v ? v.TotalMilliseconds : double.NaN;

    /// <summary>Sets a text slot.</summary>
    public void SetText(int slot, string? value) => Texts[slot] = value;

    /// <summary>Sets a boolean slot.</summary>
    public void SetFlag(int slot, bool value) => Flags[slot] = value;
}

/// <summary>Time arithmetic of the rule language, allocation-free.</summary>
public static class RuleTime
{
    /// <summary>Milliseconds in a day.</summary>
    public const long DayMs = 86_400_000;

    /// <summary>Milliseconds in an hour.</summary>
    public const long HourMs = 3_600_000;

    private const int UnixEpochDayNumber = 719_162;

    /// <summary>Days since 1970-01-01.</summary>
    public static int EpochDay(LocalDate date) => date.ToDateOnly().DayNumber - UnixEpochDayNumber;

    /// <summary>The date <paramref name="epochDay"/> days after 1970-01-01.</summary>
    public static LocalDate FromEpochDay(int epochDay) => LocalDate.FromDateOnly(DateOnly.FromDayNumber(epochDay + UnixEpochDayNumber));

    /// <summary>The local time of <paramref name="ms"/> in <paramref name="zone"/>, as Unix-like ms.</summary>
    public static long Local(long ms, DateTimeZone zone) =>
        ms + ((long)(zone ?? throw new ArgumentNullException(nameof(zone))).GetUtcOffset(Instant.FromUnixTimeMilliseconds(ms)).Milliseconds);

    /// <summary>The local day number (days since 1970-01-01) of <paramref name="ms"/>.</summary>
    public static long LocalDay(long ms, DateTimeZone zone) => FloorDiv(Local(ms, zone), DayMs);

    /// <summary>The next local midnight after <paramref name="ms"/>, as Unix ms.</summary>
    public static long NextLocalMidnight(long ms, DateTimeZone zone)
    {
        var local = Local(ms, zone);
        return ms + ((FloorDiv(local, DayMs) + 1) * DayMs) - local;
    }

    /// <summary>Floor division.</summary>
    public static long FloorDiv(long a, long b) => a >= 0 ? a / b : ((a - b + 1) / b);
}
