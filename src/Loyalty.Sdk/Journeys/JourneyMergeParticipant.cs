using System.Globalization;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>
/// Journeys on a customer merge: the absorbed customer's instances (their timers with them) and channel response move
/// to the survivor, in the merge's unit of work, through <see cref="IJourneyRepository"/> only.
/// <list type="bullet">
/// <item>One active instance per journey: when both customers run a journey, the one entered first wins (a tie: the
/// survivor's); the other ends with reason <c>merged</c> (counter <c>exit.merged</c>, decision <c>journey_exited</c>).</item>
/// <item>Re-entry history is combined: the entry number is the higher of the two and the last entry time the later,
/// so a <c>once</c> journey is not entered again and <c>once_per_period</c> counts from the latest entry.</item>
/// <item>An entry keeps its holdout flag and conversion; results of messages it sent before the move still count
/// for it (<see cref="JourneyInstance.MovedFrom"/>).</item>
/// <item>Channel response counts add up per channel.</item>
/// </list>
/// The absorbed customer's journey data is deleted, so running the merge again finds nothing to move.
/// </summary>
internal sealed class JourneyMergeParticipant : ICustomerMergeParticipant
{
    public const string MergedReason = "merged";

    public async ValueTask OnMergedAsync(CustomerMerged merge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(merge);
        if (merge.Survivor == merge.Absorbed)
        {
            return;
        }

        var repo = merge.Context.Session.Journeys;
        var absorbed = await repo.ListForCustomerAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
        var absorbedResponse = await repo.GetResponseAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
        if (absorbed.Count == 0 && absorbedResponse is null)
        {
            return;
        }

        var survivors = new Dictionary<string, JourneyInstance>(StringComparer.Ordinal);
        foreach (var s in await repo.ListForCustomerAsync(merge.Survivor, cancellationToken).ConfigureAwait(false))
        {
            survivors[s.Journey] = s;
        }

        var saves = new List<(JourneyInstance Instance, long Expected)>();
        foreach (var a in absorbed.OrderBy(i => i.Journey, StringComparer.Ordinal))
        {
            var s = survivors.GetValueOrDefault(a.Journey);
            var (merged, loser) = Merge(s, a, merge.Survivor);
            if (loser is not null)
            {
                await repo.CountAsync(loser.Journey, "exit." + MergedReason, 1, cancellationToken).ConfigureAwait(false);
                var from = loser.Customer == merge.Survivor ? "survivor" : "absorbed";
                merge.Context.Decide(
                    Capabilities.Journeys,
                    JourneyRunner.Exited,
                    $"journey.{loser.Journey}.v{loser.JourneyVersion.ToString(CultureInfo.InvariantCulture)}",
                    $"Left journey {loser.Journey} (merged): customer {merge.Absorbed} was merged into {merge.Survivor}, whose instance entered first continues.",
                    new Dictionary<string, string>
                    {
                        ["reason"] = MergedReason,
                        ["instance_of"] = from,
                        ["customer"] = loser.Customer.Value,
                        ["entry"] = loser.Entry.ToString(CultureInfo.InvariantCulture),
                        ["survivor"] = merge.Survivor.Value,
                        ["absorbed"] = merge.Absorbed.Value,
                    });
            }

            saves.Add((merged, s?.Version ?? 0));
        }

        CustomerChannelResponse? response = null;
        long responseVersion = 0;
        if (absorbedResponse is not null)
        {
            var survivorResponse = await repo.GetResponseAsync(merge.Survivor, cancellationToken).ConfigureAwait(false);
            responseVersion = survivorResponse?.Version ?? 0;
            response = Combine(survivorResponse ?? new CustomerChannelResponse { Customer = merge.Survivor }, absorbedResponse);
        }

        // The absorbed customer's instances, timers and response go first; then the survivor's consolidated ones.
        await repo.DeleteCustomerAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
        foreach (var (instance, expected) in saves)
        {
            await repo.SaveAsync(instance, expected, cancellationToken).ConfigureAwait(false);
        }

        if (response is not null)
        {
            await repo.SaveResponseAsync(response, responseVersion, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Consolidates the instances of one journey: the survivor's (if any) and the absorbed customer's. Returns
    /// the survivor's new instance and, when both were active, the instance that ends with reason <c>merged</c>.</summary>
    internal static (JourneyInstance Merged, JourneyInstance? Loser) Merge(JourneyInstance? s, JourneyInstance a, CustomerId survivor)
    {
        if (s is null)
        {
            return (Move(a, survivor, 0), null);
        }

        var entry = Math.Max(s.Entry, a.Entry);
        var lastEntered = Later(s.EnteredAt, a.EnteredAt);
        var sActive = s.Status == JourneyStatus.Active;
        var aActive = a.Status == JourneyStatus.Active;
        if (sActive && aActive)
        {
            // The instance entered first wins (a tie: the survivor's); the other one is exited.
            var absorbedWins = a.EnteredAt is { } ae && s.EnteredAt is { } se && ae < se;
            return absorbedWins ? (Move(a, survivor, s.Entry), s) : (s, a);
        }

        if (sActive)
        {
            return (s, null);
        }

        if (aActive)
        {
            return (Move(a, survivor, s.Entry), null);
        }

        // Neither runs: keep the combined history (the higher entry number, the latest entry time, the outcome of the
        // latest entry) and a pending time trigger (the survivor's, else the absorbed customer's).
        var latest = a.EnteredAt is { } at && (s.EnteredAt is not { } st || at > st) ? a : s;
        var scheduled = s.Status == JourneyStatus.Scheduled ? s : a.Status == JourneyStatus.Scheduled ? a : null;
        return (s with
        {
            Entry = entry,
            EnteredAt = lastEntered,
            JourneyVersion = scheduled?.JourneyVersion ?? latest.JourneyVersion,
            Status = scheduled is null ? JourneyStatus.Ended : JourneyStatus.Scheduled,
            WakeAt = scheduled?.WakeAt,
            Step = latest.Step,
            Holdout = latest.Holdout,
            Converted = latest.Converted,
            ExitReason = latest.ExitReason,
            MovedFrom = latest.MovedFrom,
        }, null);
    }

    /// <summary>The absorbed customer's instance as the survivor's: an entry number above every entry the survivor
    /// had (so outbox keys of its next steps cannot meet the survivor's earlier ones), the outbox key prefix of the
    /// entry before the move kept for delivery results.</summary>
    private static JourneyInstance Move(JourneyInstance a, CustomerId survivor, int survivorEntry) => a with
    {
        Customer = survivor,
        Entry = survivorEntry == 0 ? a.Entry : Math.Max(a.Entry, survivorEntry + 1),
        MovedFrom = a.Status == JourneyStatus.Active && a.Entry > 0 ? a.MovedFrom ?? DeliveryFeedback.EntryPrefix(a) : a.MovedFrom,
    };

    private static Instant? Later(Instant? x, Instant? y) => x is { } a && y is { } b ? (a > b ? a : b) : x ?? y;

    /// <summary>Sends, opens and clicks per channel, added up.</summary>
    internal static CustomerChannelResponse Combine(CustomerChannelResponse survivor, CustomerChannelResponse absorbed)
    {
        var combined = survivor;
        foreach (var c in absorbed.Channels.OrderBy(c => c.Channel))
        {
            combined = combined.With(c.Channel, x => x with { Sent = x.Sent + c.Sent, Opened = x.Opened + c.Opened, Clicked = x.Clicked + c.Clicked });
        }

        return combined;
    }
}
