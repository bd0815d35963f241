using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>
/// The pure part of consent: the current state is a fold of the append-only history, and merges resolve conflicts to
/// the most restrictive choice. No I/O, no clock: instants are passed in.
/// </summary>
public static class ConsentEngine
{
    private static readonly int PurposeCount = Enum.GetValues<ConsentPurpose>().Length;

    /// <summary>Index of a channel × purpose in a flat array.</summary>
    internal static int Key(ContactChannel channel, ConsentPurpose purpose) => ((int)channel * PurposeCount) + (int)purpose;

    /// <summary>Number of channel × purpose keys.</summary>
    internal static int KeyCount => Enum.GetValues<ContactChannel>().Length * PurposeCount;

    /// <summary>
    /// Folds a history into the state at <paramref name="at"/>: records effective after <paramref name="at"/> are
    /// ignored; per channel × purpose the latest by effective instant, then by sequence, wins. A pending double opt-in
    /// older than <paramref name="doubleOptInTimeout"/> (counted from the confirmation request, else the capture) is
    /// expired; a grant past its <see cref="ConsentRecord.ExpiresAt"/> is expired.
    /// </summary>
    public static IReadOnlyList<ConsentState> Fold(IEnumerable<ConsentRecord> history, Instant at, Duration doubleOptInTimeout)
    {
        ArgumentNullException.ThrowIfNull(history);
        var latest = new Dictionary<(ContactChannel, ConsentPurpose), ConsentRecord>();
        foreach (var r in history)
        {
            if (r.EffectiveFrom > at)
            {
                continue;
            }

            var key = (r.Channel, r.Purpose);
            if (!latest.TryGetValue(key, out var current) || Later(r, current))
            {
                latest[key] = r;
            }
        }

        return latest.Values
            .OrderBy(r => r.Channel).ThenBy(r => r.Purpose)
            .Select(r => StateOf(r, at, doubleOptInTimeout))
            .ToArray();
    }

    /// <summary>The state a single record gives at <paramref name="at"/>.</summary>
    public static ConsentState StateOf(ConsentRecord record, Instant at, Duration doubleOptInTimeout)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Status == ConsentStatus.Pending)
        {
            var deadline = (record.Evidence?.DoubleOptInSentAt ?? record.CapturedAt) + doubleOptInTimeout;
            return deadline <= at
                ? new ConsentState(record.Channel, record.Purpose, ConsentStatus.Expired, deadline, null, record.RecordId)
                : new ConsentState(record.Channel, record.Purpose, ConsentStatus.Pending, record.EffectiveFrom, deadline, record.RecordId);
        }

        if (record.Status == ConsentStatus.Granted && record.ExpiresAt is { } expires && expires <= at)
        {
            return new ConsentState(record.Channel, record.Purpose, ConsentStatus.Expired, expires, null, record.RecordId);
        }

        return new ConsentState(record.Channel, record.Purpose, record.Status, record.EffectiveFrom, record.Status == ConsentStatus.Granted ? record.ExpiresAt : null, record.RecordId);
    }

    /// <summary>How restrictive a status is: granted 0, pending 1, expired 2, withdrawn 3, denied 4.</summary>
    public static int Restrictiveness(ConsentStatus status) => status switch
    {
        ConsentStatus.Granted => 0,
        ConsentStatus.Pending => 1,
        ConsentStatus.Expired => 2,
        ConsentStatus.Withdrawn => 3,
        ConsentStatus.Denied => 4,
        _ => 4,
    };

    /// <summary>The most restrictive of two choices (a denial beats a grant; equal ranks keep <paramref name="a"/>).</summary>
    public static ConsentStatus MostRestrictive(ConsentStatus a, ConsentStatus b) => Restrictiveness(b) > Restrictiveness(a) ? b : a;

    /// <summary>
    /// When two customers merge: for every channel × purpose where both have a state and the most restrictive differs
    /// from the survivor's, the status the merged customer must have. Both histories are kept by the caller.
    /// </summary>
    public static IReadOnlyList<(ConsentState Survivor, ConsentState Absorbed, ConsentStatus Resolved)> ResolveMerge(
        IReadOnlyList<ConsentState> survivor, IReadOnlyList<ConsentState> absorbed)
    {
        ArgumentNullException.ThrowIfNull(survivor);
        ArgumentNullException.ThrowIfNull(absorbed);
        var result = new List<(ConsentState, ConsentState, ConsentStatus)>();
        foreach (var a in absorbed)
        {
            var s = survivor.FirstOrDefault(x => x.Channel == a.Channel && x.Purpose == a.Purpose);
            if (s is null)
            {
                continue;
            }

            var resolved = MostRestrictive(s.Status, a.Status);
            if (resolved != s.Status || a.Since > s.Since)
            {
                result.Add((s, a, resolved));
            }
        }

        return result;
    }

    private static bool Later(ConsentRecord a, ConsentRecord b) =>
        a.EffectiveFrom != b.EffectiveFrom ? a.EffectiveFrom > b.EffectiveFrom : a.Sequence > b.Sequence;
}
