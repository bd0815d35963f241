using System.Runtime.CompilerServices;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Validation;
using NodaTime;
using NodaTime.Text;

namespace Loyalty.Sdk.Consent;

/// <summary>
/// A <see cref="ConsentPolicy"/> checked and prepared for the send gate: tags as bits, windows as local times, cap
/// rules as flat structs. Build it with <see cref="Compile"/> or <see cref="For(LoyaltyProgram)"/> (cached per program).
/// </summary>
public sealed class CompiledConsentPolicy
{
    private static readonly ConditionalWeakTable<LoyaltyProgram, CompiledConsentPolicy> Cache = new();
    private static readonly LocalTimePattern HourMinute = LocalTimePattern.CreateWithInvariantCulture("HH:mm");
    private static readonly int ChannelCount = Enum.GetValues<ContactChannel>().Length;

    private CompiledConsentPolicy(ConsentPolicy source, string defaultTimeZone)
    {
        Source = source;
        DefaultZone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(defaultTimeZone) ?? DateTimeZone.Utc;
        TagBits = new Dictionary<string, ulong>(StringComparer.Ordinal);
        for (var i = 0; i < source.Tags.Count; i++)
        {
            TagBits[source.Tags[i]] = 1UL << i;
        }

        Caps = source.Caps.Select(c => new CapRule(
            c.Id, c.Channel is { } ch ? (int)ch : -1, c.Tag is null ? 0 : TagBits[c.Tag], c.Max, c.Window == CapWindowKind.Rolling, c.Days, Duration.FromDays(c.Days))).ToArray();
        Classes = source.MessageClasses.ToDictionary(
            m => m.Id,
            m => new CompiledClass(
                m,
                m.Tags.Aggregate(0UL, (mask, t) => mask | TagBits[t]),
                m.Purpose == ConsentPurpose.Transactional,
                m.RespectQuietHours ?? m.Purpose != ConsentPurpose.Transactional,
                Duration.FromHours(m.DeferHorizonHours ?? 24)),
            StringComparer.Ordinal);
        Blocked = new BlockedWindow[ChannelCount][];
        var quiet = source.QuietHours is { } q ? new BlockedWindow(Parse(q.Start), Parse(q.End)) : (BlockedWindow?)null;
        for (var c = 0; c < ChannelCount; c++)
        {
            var list = new List<BlockedWindow>();
            if (quiet is { } qw)
            {
                list.Add(qw);
            }

            foreach (var w in source.SendWindows.Where(w => (int)w.Channel == c))
            {
                list.Add(new BlockedWindow(Parse(w.To), Parse(w.From)));
            }

            Blocked[c] = [.. list];
        }

        DoubleOptInTimeout = Duration.FromHours(source.DoubleOptIn.TimeoutHours ?? 72);
        DoubleOptInChannels = new bool[ChannelCount];
        foreach (var c in source.DoubleOptIn.Channels)
        {
            DoubleOptInChannels[(int)c] = true;
        }

        var maxCalendar = Caps.Where(c => !c.Rolling).Select(c => c.Days).DefaultIfEmpty(0).Max();
        StableSpan = Duration.FromDays(Math.Max(maxCalendar, 31) + 2);
    }

    /// <summary>The policy as written.</summary>
    public ConsentPolicy Source { get; }

    /// <summary>The program's default time zone (the last fallback).</summary>
    public DateTimeZone DefaultZone { get; }

    /// <summary>How long a pending double opt-in can be confirmed.</summary>
    public Duration DoubleOptInTimeout { get; }

    internal Dictionary<string, ulong> TagBits { get; }

    internal CapRule[] Caps { get; }

    internal Dictionary<string, CompiledClass> Classes { get; }

    internal BlockedWindow[][] Blocked { get; }

    internal bool[] DoubleOptInChannels { get; }

    /// <summary>Span around an instant over which a fixed UTC offset lets local arithmetic skip zone lookups.</summary>
    internal Duration StableSpan { get; }

    /// <summary>Whether new marketing grants on <paramref name="channel"/> start as pending double opt-in.</summary>
    public bool RequiresDoubleOptIn(ContactChannel channel) => (uint)channel < (uint)DoubleOptInChannels.Length && DoubleOptInChannels[(int)channel];

    /// <summary>The message class, or null.</summary>
    public MessageClassDefinition? FindClass(string id) => Classes.TryGetValue(id, out var c) ? c.Definition : null;

    /// <summary>The tag mask of <paramref name="tags"/>; unknown tags are ignored.</summary>
    public ulong MaskOf(IEnumerable<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var mask = 0UL;
        foreach (var t in tags)
        {
            mask |= TagBits.GetValueOrDefault(t);
        }

        return mask;
    }

    /// <summary>The compiled consent policy of a program (its <c>consent</c> section or the default), cached.</summary>
    /// <exception cref="ProgramValidationException">The section is invalid.</exception>
    public static CompiledConsentPolicy For(LoyaltyProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return Cache.GetValue(program, p => Compile(p.Consent ?? ConsentPolicy.Default, p.DefaultTimeZone));
    }

    /// <summary>Checks and compiles a policy.</summary>
    /// <exception cref="ProgramValidationException">The policy is invalid; every problem is listed by path.</exception>
    public static CompiledConsentPolicy Compile(ConsentPolicy policy, string defaultTimeZone = "UTC")
    {
        ArgumentNullException.ThrowIfNull(policy);
        var errors = Validate(policy);
        if (errors.Count > 0)
        {
            throw new ProgramValidationException(errors);
        }

        return new CompiledConsentPolicy(policy, defaultTimeZone);
    }

    /// <summary>Checks a policy; every problem with its path under <paramref name="path"/>.</summary>
    public static IReadOnlyList<ValidationError> Validate(ConsentPolicy policy, string path = "$.consent")
    {
        ArgumentNullException.ThrowIfNull(policy);
        var errors = new List<ValidationError>();
        void Add(string p, string code, string message) => errors.Add(new ValidationError(p, code, message));

        var tags = policy.Tags ?? [];
        if (tags.Count > 64)
        {
            Add($"{path}.tags", "too_many", "At most 64 tags.");
        }

        for (var i = 0; i < tags.Count; i++)
        {
            if (!IdentifierType.IsValidName(tags[i]))
            {
                Add($"{path}.tags[{i}]", "invalid_name", "A tag is 1 to 40 lower-case letters, digits or '_'.");
            }
            else if (tags.Take(i).Contains(tags[i]))
            {
                Add($"{path}.tags[{i}]", "duplicate", $"Tag '{tags[i]}' is listed twice.");
            }
        }

        var topics = policy.Topics ?? [];
        for (var i = 0; i < topics.Count; i++)
        {
            if (!IdentifierType.IsValidName(topics[i].Id))
            {
                Add($"{path}.topics[{i}].id", "invalid_name", "A topic id is 1 to 40 lower-case letters, digits or '_'.");
            }
            else if (topics.Take(i).Any(t => t.Id == topics[i].Id))
            {
                Add($"{path}.topics[{i}].id", "duplicate", $"Topic '{topics[i].Id}' is defined twice.");
            }

            if (string.IsNullOrWhiteSpace(topics[i].Name))
            {
                Add($"{path}.topics[{i}].name", "required", "A topic needs a name.");
            }
        }

        var caps = policy.Caps ?? [];
        for (var i = 0; i < caps.Count; i++)
        {
            var c = caps[i];
            var p = $"{path}.caps[{i}]";
            if (!IdentifierType.IsValidName(c.Id?.Replace('.', '_').Replace('-', '_')))
            {
                Add($"{p}.id", "invalid_name", "A cap id is 1 to 40 lower-case letters, digits, '_', '-' or '.'.");
            }
            else if (caps.Take(i).Any(x => x.Id == c.Id))
            {
                Add($"{p}.id", "duplicate", $"Cap '{c.Id}' is defined twice.");
            }

            if (c.Channel is { } ch && !Enum.IsDefined(ch))
            {
                Add($"{p}.channel", ConsentErrorCodes.UnknownChannel, "Unknown channel.");
            }

            if (c.Tag is not null && !tags.Contains(c.Tag))
            {
                Add($"{p}.tag", "undeclared", $"Tag '{c.Tag}' is not declared in {path}.tags.");
            }

            if (c.Max < 1)
            {
                Add($"{p}.max", "out_of_range", "A cap allows at least 1 message.");
            }

            if (c.Days is < 1 or > 366)
            {
                Add($"{p}.days", "out_of_range", "A cap window is 1 to 366 days.");
            }

            if (!Enum.IsDefined(c.Window))
            {
                Add($"{p}.window", "invalid_value", "The window is rolling or calendar_days.");
            }
        }

        BlockedWindow? quiet = null;
        if (policy.QuietHours is { } q)
        {
            var start = TryParse(q.Start, $"{path}.quietHours.start", errors);
            var end = TryParse(q.End, $"{path}.quietHours.end", errors);
            if (start is { } s && end is { } e)
            {
                if (s == e)
                {
                    Add($"{path}.quietHours", "swallows_day", "Quiet hours that start when they end cover the whole day.");
                }
                else
                {
                    quiet = new BlockedWindow(s, e);
                }
            }
        }

        var windows = policy.SendWindows ?? [];
        for (var i = 0; i < windows.Count; i++)
        {
            var w = windows[i];
            var p = $"{path}.sendWindows[{i}]";
            if (!Enum.IsDefined(w.Channel))
            {
                Add($"{p}.channel", ConsentErrorCodes.UnknownChannel, "Unknown channel.");
                continue;
            }

            if (windows.Take(i).Any(x => x.Channel == w.Channel))
            {
                Add($"{p}.channel", "duplicate", $"Channel {w.Channel} has two send windows.");
            }

            var from = TryParse(w.From, $"{p}.from", errors);
            var to = TryParse(w.To, $"{p}.to", errors);
            if (from is { } f && to is { } t)
            {
                if (f == t)
                {
                    Add(p, "swallows_day", "A send window that opens when it closes leaves no time (or all of it); remove it instead.");
                }
                else if (quiet is { } qw && FreeMinutes([qw, new BlockedWindow(t, f)]) == 0)
                {
                    Add(p, "swallows_day", $"With the quiet hours, the send window of {w.Channel} leaves no minute of the day to send.");
                }
            }
        }

        var doi = policy.DoubleOptIn ?? new DoubleOptInPolicy();
        if (doi.TimeoutHours is < 1 or > 8760)
        {
            Add($"{path}.doubleOptIn.timeoutHours", "out_of_range", "The double opt-in timeout is 1 to 8760 hours.");
        }

        for (var i = 0; i < doi.Channels.Count; i++)
        {
            if (!Enum.IsDefined(doi.Channels[i]))
            {
                Add($"{path}.doubleOptIn.channels[{i}]", ConsentErrorCodes.UnknownChannel, "Unknown channel.");
            }
        }

        var classes = policy.MessageClasses ?? [];
        if (classes.Count == 0)
        {
            Add($"{path}.messageClasses", "required", "Declare at least one message class.");
        }

        for (var i = 0; i < classes.Count; i++)
        {
            var m = classes[i];
            var p = $"{path}.messageClasses[{i}]";
            if (!IdentifierType.IsValidName(m.Id))
            {
                Add($"{p}.id", "invalid_name", "A class id is 1 to 40 lower-case letters, digits or '_'.");
            }
            else if (classes.Take(i).Any(x => x.Id == m.Id))
            {
                Add($"{p}.id", "duplicate", $"Class '{m.Id}' is defined twice.");
            }

            if (!Enum.IsDefined(m.Purpose))
            {
                Add($"{p}.purpose", ConsentErrorCodes.UnknownPurpose, "Unknown purpose.");
            }

            for (var t = 0; t < m.Tags.Count; t++)
            {
                if (!tags.Contains(m.Tags[t]))
                {
                    Add($"{p}.tags[{t}]", "undeclared", $"Tag '{m.Tags[t]}' is not declared in {path}.tags.");
                }
            }

            if (m.Topic is not null && !topics.Any(x => x.Id == m.Topic))
            {
                Add($"{p}.topic", "undeclared", $"Topic '{m.Topic}' is not declared in {path}.topics.");
            }

            if (m.DeferHorizonHours is < 0 or > 720)
            {
                Add($"{p}.deferHorizonHours", "out_of_range", "The deferral horizon is 0 to 720 hours.");
            }

            if (!Enum.IsDefined(m.OnCapReached))
            {
                Add($"{p}.onCapReached", "invalid_value", "onCapReached is skip or defer.");
            }
        }

        if (policy.Holdout is { } h)
        {
            if (double.IsNaN(h.Percent) || h.Percent is < 0 or > 50)
            {
                Add($"{path}.holdout.percent", "out_of_range", "The holdout is 0 to 50 percent of customers.");
            }

            if (string.IsNullOrEmpty(h.Salt))
            {
                Add($"{path}.holdout.salt", "required", "The holdout needs a salt.");
            }
        }

        return errors;
    }

    private static LocalTime Parse(string text) => HourMinute.Parse(text).Value;

    private static LocalTime? TryParse(string? text, string path, List<ValidationError> errors)
    {
        var result = text is null ? null : HourMinute.Parse(text);
        if (result is null || !result.Success)
        {
            errors.Add(new ValidationError(path, "invalid_time", $"'{text}' is not a local time HH:mm (00:00 to 23:59)."));
            return null;
        }

        return result.Value;
    }

    /// <summary>Minutes of a day (without DST) not covered by any blocked window.</summary>
    private static int FreeMinutes(IEnumerable<BlockedWindow> windows)
    {
        var blocked = new bool[1440];
        foreach (var w in windows)
        {
            var s = (w.Start.Hour * 60) + w.Start.Minute;
            var e = (w.End.Hour * 60) + w.End.Minute;
            for (var m = s; m != e; m = (m + 1) % 1440)
            {
                blocked[m] = true;
            }
        }

        return blocked.Count(b => !b);
    }
}

/// <summary>A cap rule prepared for the gate.</summary>
internal readonly record struct CapRule(string Id, int Channel, ulong TagBit, int Max, bool Rolling, int Days, Duration Span)
{
    public bool Applies(int channel, ulong tags) => (Channel < 0 || Channel == channel) && (TagBit == 0 || (tags & TagBit) != 0);
}

/// <summary>A message class prepared for the gate.</summary>
internal sealed record CompiledClass(MessageClassDefinition Definition, ulong TagMask, bool Transactional, bool RespectQuietHours, Duration Horizon);

/// <summary>A daily local-time window in which nothing is sent; <see cref="End"/> before or equal to
/// <see cref="Start"/> crosses midnight.</summary>
internal readonly record struct BlockedWindow(LocalTime Start, LocalTime End)
{
    public long StartTicks { get; } = Start.TickOfDay;

    public long EndTicks { get; } = End.TickOfDay;
}
