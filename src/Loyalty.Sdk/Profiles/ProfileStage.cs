using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Profiles;

/// <summary>
/// Keeps the profile (what the customer told us) and the basic computed traits (orders, spend, returns, recency,
/// engagement) up to date, in O(1) per event, and keeps the orders needed to apply returns by line.
/// </summary>
public sealed class ProfileStage : IProfileStage, ICustomerMergeParticipant, ICustomerSplitParticipant
{
    /// <inheritdoc />
    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var customer = context.RequireCustomer();
        var session = context.Session;
        var e = context.Event;
        var stored = await session.Profiles.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        var profile = stored ?? new CustomerProfile { Customer = customer, FirstSeen = e.OccurredAt, LastSeen = e.OccurredAt };
        profile = profile with
        {
            FirstSeen = e.OccurredAt < profile.FirstSeen ? e.OccurredAt : profile.FirstSeen,
            LastSeen = e.OccurredAt > profile.LastSeen ? e.OccurredAt : profile.LastSeen,
        };
        var traits = profile.Traits with { LastChannel = e.Channel };

        switch (e)
        {
            case SignedUp s:
                profile = Attribute(Apply(profile, s.Profile) with { SignedUpAt = profile.SignedUpAt ?? e.OccurredAt }, s.Profile, profile.SignedUpAt is null, context.ResolvedIdentifiers);
                break;
            case ProfileUpdated p:
                profile = Attribute(Apply(profile, p.Profile), p.Profile, signedUp: false, context.ResolvedIdentifiers);
                break;
            case OrderPlaced o:
                if (await session.Orders.GetAsync(o.OrderId, cancellationToken).ConfigureAwait(false) is not null)
                {
                    context.OrderAlreadyPlaced = true;
                    context.Decide(Capabilities.Profile, "order_ignored", "profile.order_natural_key", $"Order {o.OrderId} was already placed under another event id; counted once.",
                        new Dictionary<string, string> { ["orderId"] = o.OrderId });
                    break;
                }

                await session.Orders.SaveAsync(
                    new OrderRecord
                    {
                        OrderId = o.OrderId, Customer = customer, PlacedAt = o.OccurredAt, Currency = o.Currency, Lines = o.Lines, Total = o.Total, Discount = o.Discount,
                        Identifiers = context.ResolvedIdentifiers,
                    },
                    0,
                    cancellationToken).ConfigureAwait(false);
                var value = ToBase(context.Program, o.Currency, o.Subtotal - o.Discount);
                traits = traits with
                {
                    Orders = traits.Orders + 1,
                    GrossSpend = traits.GrossSpend + value,
                    FirstOrderAt = Min(traits.FirstOrderAt, o.OccurredAt),
                    LastOrderAt = Max(traits.LastOrderAt, o.OccurredAt),
                };
                break;
            case OrderCompleted c:
                var completed = await RequireOrderAsync(session, c.OrderId, cancellationToken).ConfigureAwait(false);
                await session.Orders.SaveAsync(completed with { Completed = true }, completed.Version, cancellationToken).ConfigureAwait(false);
                break;
            case OrderReturned r:
                traits = await ApplyReturnAsync(context, r.OrderId, r.ReturnId, r.Lines, cancellation: false, traits, cancellationToken).ConfigureAwait(false);
                break;
            case OrderCancelled c:
                traits = await ApplyReturnAsync(context, c.OrderId, "cancel:" + c.Id.Value, c.Lines, cancellation: true, traits, cancellationToken).ConfigureAwait(false);
                break;
            case Interaction:
                traits = traits with { Interactions = traits.Interactions + 1, LastInteractionAt = Max(traits.LastInteractionAt, e.OccurredAt) };
                profile = Tally(profile, context.ResolvedIdentifiers, new ActivityTally { Interactions = 1, LastInteractionAt = e.OccurredAt, FirstAt = e.OccurredAt, LastAt = e.OccurredAt });
                break;
            case CartAbandoned:
                traits = traits with { AbandonedCarts = traits.AbandonedCarts + 1 };
                profile = Tally(profile, context.ResolvedIdentifiers, new ActivityTally { AbandonedCarts = 1, FirstAt = e.OccurredAt, LastAt = e.OccurredAt });
                break;
            case SupportTicket { Status: TicketStatus.Opened }:
                traits = traits with { SupportTickets = traits.SupportTickets + 1 };
                profile = Tally(profile, context.ResolvedIdentifiers, new ActivityTally { SupportTickets = 1, FirstAt = e.OccurredAt, LastAt = e.OccurredAt });
                break;
            case ReviewSubmitted:
                traits = traits with { Reviews = traits.Reviews + 1 };
                profile = Tally(profile, context.ResolvedIdentifiers, new ActivityTally { Reviews = 1, FirstAt = e.OccurredAt, LastAt = e.OccurredAt });
                break;
        }

        profile = profile with { Traits = traits };
        await session.Profiles.SaveAsync(profile, stored?.Version ?? 0, cancellationToken).ConfigureAwait(false);
        context.Profile = profile with { Version = (stored?.Version ?? 0) + 1 };
    }

    /// <inheritdoc />
    public async ValueTask OnMergedAsync(CustomerMerged merge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(merge);
        var profiles = merge.Context.Session.Profiles;
        var absorbed = await profiles.GetAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
        if (absorbed is null)
        {
            return;
        }

        var survivor = await profiles.GetAsync(merge.Survivor, cancellationToken).ConfigureAwait(false);
        if (survivor is null)
        {
            await profiles.SaveAsync(absorbed with { Customer = merge.Survivor }, 0, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var a = absorbed.Traits;
            var s = survivor.Traits;
            var merged = survivor with
            {
                FirstSeen = absorbed.FirstSeen < survivor.FirstSeen ? absorbed.FirstSeen : survivor.FirstSeen,
                LastSeen = absorbed.LastSeen > survivor.LastSeen ? absorbed.LastSeen : survivor.LastSeen,
                GivenName = survivor.GivenName ?? absorbed.GivenName,
                FamilyName = survivor.FamilyName ?? absorbed.FamilyName,
                BirthDate = survivor.BirthDate ?? absorbed.BirthDate,
                TimeZone = survivor.TimeZone ?? absorbed.TimeZone,
                Locale = survivor.Locale ?? absorbed.Locale,
                Address = survivor.Address ?? absorbed.Address,
                SignedUpAt = Min(survivor.SignedUpAt, absorbed.SignedUpAt),
                Attribution = MergeAttribution(survivor, absorbed),
                Traits = new CustomerTraits
                {
                    Orders = s.Orders + a.Orders,
                    CancelledOrders = s.CancelledOrders + a.CancelledOrders,
                    Returns = s.Returns + a.Returns,
                    GrossSpend = s.GrossSpend + a.GrossSpend,
                    ReturnedValue = s.ReturnedValue + a.ReturnedValue,
                    FirstOrderAt = Min(s.FirstOrderAt, a.FirstOrderAt),
                    LastOrderAt = Max(s.LastOrderAt, a.LastOrderAt),
                    Interactions = s.Interactions + a.Interactions,
                    LastInteractionAt = Max(s.LastInteractionAt, a.LastInteractionAt),
                    AbandonedCarts = s.AbandonedCarts + a.AbandonedCarts,
                    SupportTickets = s.SupportTickets + a.SupportTickets,
                    Reviews = s.Reviews + a.Reviews,
                    LastChannel = s.LastChannel ?? a.LastChannel,
                },
            };
            await profiles.SaveAsync(merged, survivor.Version, cancellationToken).ConfigureAwait(false);
        }

        await profiles.DeleteAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>History follows the identifiers it came with. An unmerge restores the absorbed profile snapshot kept in
    /// the merge record, subtracts its counters, spend and activity tallies from the survivor, and takes off the survivor
    /// the profile fields last set only with the identifiers the absorbed customer takes back (activity after the merge
    /// stays with the survivor). A split of identifiers moves the orders placed only with identifiers that left (none of
    /// the survivor's remaining ones), with their counts, spend and returns; the interactions, abandoned carts, support
    /// tickets and reviews counted under such identifiers (<see cref="ProfileAttribution.Activity"/>); and the profile
    /// fields whose last source was such identifiers (<see cref="ProfileAttribution.FieldSources"/>): the split-off
    /// customer takes each value unless it has one, and the survivor's field is emptied, its earlier value having been
    /// overwritten. Activity and fields recorded before attribution was kept stay with the survivor.</remarks>
    public async ValueTask OnSplitAsync(CustomerSplit split, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (split.Merge is null)
        {
            await MoveOrdersAsync(split, cancellationToken).ConfigureAwait(false);
            await MoveAttributedAsync(split, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (split.Merge.AbsorbedProfile is not { } snapshot)
        {
            return;
        }

        var profiles = split.Session.Profiles;
        var current = await profiles.GetAsync(split.SplitOff, cancellationToken).ConfigureAwait(false);
        await profiles.SaveAsync(snapshot with { Customer = split.SplitOff }, current?.Version ?? 0, cancellationToken).ConfigureAwait(false);
        var survivor = await profiles.GetAsync(split.Survivor, cancellationToken).ConfigureAwait(false);
        if (survivor is null)
        {
            return;
        }

        var a = snapshot.Traits;
        var s = survivor.Traits;
        var restored = survivor with
        {
            Traits = s with
            {
                Orders = Math.Max(0, s.Orders - a.Orders),
                CancelledOrders = Math.Max(0, s.CancelledOrders - a.CancelledOrders),
                Returns = Math.Max(0, s.Returns - a.Returns),
                GrossSpend = Math.Max(0, s.GrossSpend - a.GrossSpend),
                ReturnedValue = Math.Max(0, s.ReturnedValue - a.ReturnedValue),
                Interactions = Math.Max(0, s.Interactions - a.Interactions),
                AbandonedCarts = Math.Max(0, s.AbandonedCarts - a.AbandonedCarts),
                SupportTickets = Math.Max(0, s.SupportTickets - a.SupportTickets),
                Reviews = Math.Max(0, s.Reviews - a.Reviews),
            },
            Attribution = Subtract(survivor.Attribution, snapshot.Attribution),
        };
        await profiles.SaveAsync(restored, survivor.Version, cancellationToken).ConfigureAwait(false);

        // The fields the survivor holds that came only with the identifiers the absorbed customer takes back go back with them.
        await MoveFieldsAsync(split, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>History follows identifiers: an order belongs to the split-off customer when it was placed with at
    /// least one of the identifiers that moved there and none the survivor keeps. Orders recorded without identifiers
    /// stay. (The ledger moves those orders' points by the same rule.)</summary>
    internal static bool LeavesWith(OrderRecord order, IReadOnlySet<Identifier> leaving, IReadOnlySet<Identifier> kept) =>
        order.Identifiers.Count > 0 && order.Identifiers.Any(leaving.Contains) && !order.Identifiers.Any(kept.Contains);

    private static async ValueTask MoveOrdersAsync(CustomerSplit split, CancellationToken cancellationToken)
    {
        var session = split.Session;
        var kept = (await session.Identity.GetAsync(split.Survivor, cancellationToken).ConfigureAwait(false))?.Links.Select(l => l.Identifier).ToHashSet() ?? [];
        var leaving = split.Identifiers.ToHashSet();
        var remaining = new List<OrderRecord>();
        var moved = new List<OrderRecord>();
        foreach (var listed in await session.Orders.ListByCustomerAsync(split.Survivor, cancellationToken).ConfigureAwait(false))
        {
            // Read through the session: an earlier split-off of the same split may have taken the order already.
            if (await session.Orders.GetAsync(listed.OrderId, cancellationToken).ConfigureAwait(false) is not { } order || order.Customer != split.Survivor)
            {
                continue;
            }

            if (LeavesWith(order, leaving, kept))
            {
                moved.Add(order);
            }
            else
            {
                remaining.Add(order);
            }
        }

        if (moved.Count == 0)
        {
            return;
        }

        foreach (var order in moved)
        {
            await session.Orders.SaveAsync(order with { Customer = split.SplitOff }, order.Version, cancellationToken).ConfigureAwait(false);
        }

        var delta = OrderTraits(split.Program, moved);
        var profiles = session.Profiles;
        if (await profiles.GetAsync(split.Survivor, cancellationToken).ConfigureAwait(false) is { } survivor)
        {
            var s = survivor.Traits;
            await profiles.SaveAsync(
                survivor with
                {
                    Traits = s with
                    {
                        Orders = Math.Max(0, s.Orders - delta.Orders),
                        CancelledOrders = Math.Max(0, s.CancelledOrders - delta.CancelledOrders),
                        Returns = Math.Max(0, s.Returns - delta.Returns),
                        GrossSpend = Math.Max(0, s.GrossSpend - delta.GrossSpend),
                        ReturnedValue = Math.Max(0, s.ReturnedValue - delta.ReturnedValue),
                        FirstOrderAt = remaining.Count == 0 ? null : remaining.Min(o => o.PlacedAt),
                        LastOrderAt = remaining.Count == 0 ? null : remaining.Max(o => o.PlacedAt),
                    },
                },
                survivor.Version,
                cancellationToken).ConfigureAwait(false);
        }

        var first = moved.Min(o => o.PlacedAt);
        var last = moved.Max(o => o.PlacedAt);
        var existing = await profiles.GetAsync(split.SplitOff, cancellationToken).ConfigureAwait(false);
        var profile = existing ?? new CustomerProfile { Customer = split.SplitOff, FirstSeen = first, LastSeen = last };
        var t = profile.Traits;
        await profiles.SaveAsync(
            profile with
            {
                FirstSeen = first < profile.FirstSeen ? first : profile.FirstSeen,
                LastSeen = last > profile.LastSeen ? last : profile.LastSeen,
                Traits = t with
                {
                    Orders = t.Orders + delta.Orders,
                    CancelledOrders = t.CancelledOrders + delta.CancelledOrders,
                    Returns = t.Returns + delta.Returns,
                    GrossSpend = t.GrossSpend + delta.GrossSpend,
                    ReturnedValue = t.ReturnedValue + delta.ReturnedValue,
                    FirstOrderAt = Min(t.FirstOrderAt, first),
                    LastOrderAt = Max(t.LastOrderAt, last),
                },
            },
            existing?.Version ?? 0,
            cancellationToken).ConfigureAwait(false);
    }

    // The survivor's identifiers after the split, and those that left to the split-off customer.
    private static async ValueTask<(HashSet<Identifier> Leaving, HashSet<Identifier> Kept)> SidesAsync(CustomerSplit split, CancellationToken cancellationToken)
    {
        var kept = (await split.Session.Identity.GetAsync(split.Survivor, cancellationToken).ConfigureAwait(false))?.Links.Select(l => l.Identifier).ToHashSet() ?? [];
        return (split.Identifiers.ToHashSet(), kept);
    }

    // History follows identifiers (the rule of LeavesWith): at least one that left, none the survivor keeps.
    private static bool Leaves(IReadOnlyList<Identifier> identifiers, HashSet<Identifier> leaving, HashSet<Identifier> kept) =>
        identifiers.Count > 0 && identifiers.Any(leaving.Contains) && !identifiers.Any(kept.Contains);

    /// <summary>A split of identifiers moves the activity tallies (interactions, carts, tickets, reviews) that came only
    /// with identifiers that left, and the profile fields last set by an event that came only with them.</summary>
    private static async ValueTask MoveAttributedAsync(CustomerSplit split, CancellationToken cancellationToken)
    {
        var profiles = split.Session.Profiles;
        if (await profiles.GetAsync(split.Survivor, cancellationToken).ConfigureAwait(false) is not { Attribution: { } attribution } survivor)
        {
            return;
        }

        var (leaving, kept) = await SidesAsync(split, cancellationToken).ConfigureAwait(false);
        var moving = attribution.Activity.Where(t => Leaves(t.Identifiers, leaving, kept)).ToArray();
        if (moving.Length > 0)
        {
            var staying = attribution.Activity.Where(t => !Leaves(t.Identifiers, leaving, kept)).ToArray();
            var delta = moving.Aggregate(new ActivityTally(), Add);
            var s = survivor.Traits;
            var interactionsLeft = Math.Max(0, s.Interactions - delta.Interactions);

            // The last interaction is known again when every remaining one is attributed; otherwise it is kept.
            var lastInteraction = interactionsLeft == 0 ? null
                : staying.Sum(t => t.Interactions) == interactionsLeft ? staying.Max(t => t.LastInteractionAt)
                : s.LastInteractionAt;
            survivor = survivor with
            {
                Traits = s with
                {
                    Interactions = interactionsLeft,
                    LastInteractionAt = lastInteraction,
                    AbandonedCarts = Math.Max(0, s.AbandonedCarts - delta.AbandonedCarts),
                    SupportTickets = Math.Max(0, s.SupportTickets - delta.SupportTickets),
                    Reviews = Math.Max(0, s.Reviews - delta.Reviews),
                },
                Attribution = attribution with { Activity = staying },
            };
            await profiles.SaveAsync(survivor, survivor.Version, cancellationToken).ConfigureAwait(false);

            var existing = await profiles.GetAsync(split.SplitOff, cancellationToken).ConfigureAwait(false);
            var profile = existing ?? new CustomerProfile { Customer = split.SplitOff, FirstSeen = delta.FirstAt, LastSeen = delta.LastAt };
            var t = profile.Traits;
            var activity = profile.Attribution?.Activity ?? [];
            foreach (var tally in moving)
            {
                activity = Combine(activity, tally);
            }

            await profiles.SaveAsync(
                profile with
                {
                    FirstSeen = delta.FirstAt < profile.FirstSeen ? delta.FirstAt : profile.FirstSeen,
                    LastSeen = delta.LastAt > profile.LastSeen ? delta.LastAt : profile.LastSeen,
                    Traits = t with
                    {
                        Interactions = t.Interactions + delta.Interactions,
                        LastInteractionAt = Max(t.LastInteractionAt, delta.LastInteractionAt),
                        AbandonedCarts = t.AbandonedCarts + delta.AbandonedCarts,
                        SupportTickets = t.SupportTickets + delta.SupportTickets,
                        Reviews = t.Reviews + delta.Reviews,
                    },
                    Attribution = (profile.Attribution ?? new ProfileAttribution()) with { Activity = activity },
                },
                existing?.Version ?? 0,
                cancellationToken).ConfigureAwait(false);
        }

        await MoveFieldsAsync(split, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves the survivor's profile fields whose last source was only identifiers that left: the split-off
    /// customer takes the value when it has none, and the survivor's field is emptied (the value it had before was
    /// overwritten and is not kept; leaving another person's name or address on it would be worse).</summary>
    private static async ValueTask MoveFieldsAsync(CustomerSplit split, CancellationToken cancellationToken)
    {
        var profiles = split.Session.Profiles;
        if (await profiles.GetAsync(split.Survivor, cancellationToken).ConfigureAwait(false) is not { Attribution: { } attribution } survivor)
        {
            return;
        }

        var (leaving, kept) = await SidesAsync(split, cancellationToken).ConfigureAwait(false);
        var moving = attribution.FieldSources.Where(kv => Leaves(kv.Value, leaving, kept) && HasField(survivor, kv.Key)).Select(kv => kv.Key).ToArray();
        if (moving.Length == 0)
        {
            return;
        }

        var existing = await profiles.GetAsync(split.SplitOff, cancellationToken).ConfigureAwait(false);
        var profile = existing ?? new CustomerProfile { Customer = split.SplitOff, FirstSeen = survivor.FirstSeen, LastSeen = survivor.LastSeen };
        var sources = new Dictionary<string, IReadOnlyList<Identifier>>(profile.Attribution?.FieldSources ?? new Dictionary<string, IReadOnlyList<Identifier>>(), StringComparer.Ordinal);
        var remaining = new Dictionary<string, IReadOnlyList<Identifier>>(attribution.FieldSources, StringComparer.Ordinal);
        var cleared = survivor;
        foreach (var name in moving)
        {
            if (!HasField(profile, name))
            {
                profile = CopyField(profile, survivor, name);
                sources[name] = attribution.FieldSources[name];
            }

            cleared = ClearField(cleared, name);
            remaining.Remove(name);
        }

        await profiles.SaveAsync(cleared with { Attribution = attribution with { FieldSources = remaining } }, survivor.Version, cancellationToken).ConfigureAwait(false);
        await profiles.SaveAsync(
            profile with { Attribution = (profile.Attribution ?? new ProfileAttribution()) with { FieldSources = sources } }, existing?.Version ?? 0, cancellationToken).ConfigureAwait(false);
    }

    private static readonly string[] FieldNames = ["givenName", "familyName", "birthDate", "timeZone", "locale", "address", "signedUpAt"];

    private static bool HasField(CustomerProfile p, string name) => name switch
    {
        "givenName" => p.GivenName is not null,
        "familyName" => p.FamilyName is not null,
        "birthDate" => p.BirthDate is not null,
        "timeZone" => p.TimeZone is not null,
        "locale" => p.Locale is not null,
        "address" => p.Address is not null,
        "signedUpAt" => p.SignedUpAt is not null,
        _ => false,
    };

    private static CustomerProfile CopyField(CustomerProfile to, CustomerProfile from, string name) => name switch
    {
        "givenName" => to with { GivenName = from.GivenName },
        "familyName" => to with { FamilyName = from.FamilyName },
        "birthDate" => to with { BirthDate = from.BirthDate },
        "timeZone" => to with { TimeZone = from.TimeZone },
        "locale" => to with { Locale = from.Locale },
        "address" => to with { Address = from.Address },
        "signedUpAt" => to with { SignedUpAt = from.SignedUpAt },
        _ => to,
    };

    private static CustomerProfile ClearField(CustomerProfile p, string name) => name switch
    {
        "givenName" => p with { GivenName = null },
        "familyName" => p with { FamilyName = null },
        "birthDate" => p with { BirthDate = null },
        "timeZone" => p with { TimeZone = null },
        "locale" => p with { Locale = null },
        "address" => p with { Address = null },
        "signedUpAt" => p with { SignedUpAt = null },
        _ => p,
    };

    // Records the identifiers of the event that set the fields present in data (and the sign-up).
    private static CustomerProfile Attribute(CustomerProfile profile, ProfileData? data, bool signedUp, IReadOnlyList<Identifier> identifiers)
    {
        var set = new List<string>(FieldNames.Length);
        if (data is not null)
        {
            AddIf(data.GivenName is not null, "givenName");
            AddIf(data.FamilyName is not null, "familyName");
            AddIf(data.BirthDate is not null, "birthDate");
            AddIf(data.TimeZone is not null, "timeZone");
            AddIf(data.Locale is not null, "locale");
            AddIf(data.Address is not null, "address");
        }

        AddIf(signedUp, "signedUpAt");
        if (set.Count == 0 || (identifiers.Count == 0 && profile.Attribution is null))
        {
            return profile;
        }

        var attribution = profile.Attribution ?? new ProfileAttribution();
        var sources = new Dictionary<string, IReadOnlyList<Identifier>>(attribution.FieldSources, StringComparer.Ordinal);
        foreach (var name in set)
        {
            // An event without resolved identifiers leaves the field without a known source.
            if (identifiers.Count == 0)
            {
                sources.Remove(name);
            }
            else
            {
                sources[name] = identifiers;
            }
        }

        return profile with { Attribution = attribution with { FieldSources = sources } };

        void AddIf(bool condition, string name)
        {
            if (condition)
            {
                set.Add(name);
            }
        }
    }

    // Counts one event's activity under the identifiers it was resolved with.
    private static CustomerProfile Tally(CustomerProfile profile, IReadOnlyList<Identifier> identifiers, ActivityTally one)
    {
        if (identifiers.Count == 0)
        {
            return profile;
        }

        var attribution = profile.Attribution ?? new ProfileAttribution();
        return profile with { Attribution = attribution with { Activity = Combine(attribution.Activity, one with { Identifiers = identifiers }) } };
    }

    // Adds a tally to a list: into the tally of the same identifiers, or as a new one (the least recently active is
    // dropped beyond the cap; its counts stay in the traits, unattributed).
    private static IReadOnlyList<ActivityTally> Combine(IReadOnlyList<ActivityTally> activity, ActivityTally tally)
    {
        var list = new List<ActivityTally>(activity.Count + 1);
        var found = false;
        foreach (var t in activity)
        {
            if (!found && SameSet(t.Identifiers, tally.Identifiers))
            {
                list.Add(Add(t, tally) with { Identifiers = t.Identifiers });
                found = true;
            }
            else
            {
                list.Add(t);
            }
        }

        if (!found)
        {
            list.Add(tally);
            if (list.Count > ProfileAttribution.MaxActivityTallies)
            {
                var oldest = 0;
                for (var i = 1; i < list.Count; i++)
                {
                    oldest = list[i].LastAt < list[oldest].LastAt ? i : oldest;
                }

                list.RemoveAt(oldest);
            }
        }

        return list;
    }

    private static ActivityTally Add(ActivityTally a, ActivityTally b) => a.Interactions + a.AbandonedCarts + a.SupportTickets + a.Reviews == 0 && a.Identifiers.Count == 0
        ? b
        : a with
        {
            Interactions = a.Interactions + b.Interactions,
            LastInteractionAt = Max(a.LastInteractionAt, b.LastInteractionAt),
            AbandonedCarts = a.AbandonedCarts + b.AbandonedCarts,
            SupportTickets = a.SupportTickets + b.SupportTickets,
            Reviews = a.Reviews + b.Reviews,
            FirstAt = b.FirstAt < a.FirstAt ? b.FirstAt : a.FirstAt,
            LastAt = b.LastAt > a.LastAt ? b.LastAt : a.LastAt,
        };

    private static bool SameSet(IReadOnlyList<Identifier> a, IReadOnlyList<Identifier> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            var found = false;
            for (var j = 0; j < b.Count && !found; j++)
            {
                found = a[i] == b[j];
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }

    // On a merge the survivor's fields win (their sources with them), the absorbed fills the gaps (with its sources),
    // and the activity of both is kept per combination of identifiers.
    private static ProfileAttribution? MergeAttribution(CustomerProfile survivor, CustomerProfile absorbed)
    {
        if (survivor.Attribution is null && absorbed.Attribution is null)
        {
            return null;
        }

        var sources = new Dictionary<string, IReadOnlyList<Identifier>>(StringComparer.Ordinal);
        foreach (var name in FieldNames)
        {
            var from = HasField(survivor, name) ? survivor : HasField(absorbed, name) ? absorbed : null;
            if (from?.Attribution?.FieldSources.TryGetValue(name, out var ids) == true)
            {
                sources[name] = ids;
            }
        }

        var activity = survivor.Attribution?.Activity ?? [];
        foreach (var tally in absorbed.Attribution?.Activity ?? [])
        {
            activity = Combine(activity, tally);
        }

        return new ProfileAttribution { FieldSources = sources, Activity = activity };
    }

    // An unmerge takes the absorbed customer's activity (as it was when absorbed) back off the survivor's tallies.
    private static ProfileAttribution? Subtract(ProfileAttribution? survivor, ProfileAttribution? absorbed)
    {
        if (survivor is null || absorbed is null || absorbed.Activity.Count == 0)
        {
            return survivor;
        }

        var activity = new List<ActivityTally>();
        foreach (var t in survivor.Activity)
        {
            var back = absorbed.Activity.FirstOrDefault(a => SameSet(a.Identifiers, t.Identifiers));
            if (back is null)
            {
                activity.Add(t);
                continue;
            }

            var left = t with
            {
                Interactions = Math.Max(0, t.Interactions - back.Interactions),
                AbandonedCarts = Math.Max(0, t.AbandonedCarts - back.AbandonedCarts),
                SupportTickets = Math.Max(0, t.SupportTickets - back.SupportTickets),
                Reviews = Math.Max(0, t.Reviews - back.Reviews),
            };
            if (left.Interactions + left.AbandonedCarts + left.SupportTickets + left.Reviews > 0)
            {
                activity.Add(left.Interactions == 0 ? left with { LastInteractionAt = null } : left);
            }
        }

        return survivor with { Activity = activity };
    }

    // The order counters as ProcessAsync and ApplyReturnAsync counted them (at today's exchange rates for other
    // currencies; a whole cancellation is recognised as every line returned with a cancellation among the returns).
    private static CustomerTraits OrderTraits(LoyaltyProgram program, IReadOnlyList<OrderRecord> orders)
    {
        var traits = new CustomerTraits();
        foreach (var o in orders)
        {
            var subtotal = o.Lines.Sum(l => l.LineTotal);
            var returnedGross = o.Lines.Sum(l => o.ReturnedQuantities.GetValueOrDefault(l.LineId) * l.UnitPrice);
            var whole = o.Lines.Count > 0 && o.Lines.All(l => o.ReturnedQuantities.GetValueOrDefault(l.LineId) >= l.Quantity);
            var returnedNet = subtotal == 0 ? 0 : returnedGross == subtotal ? subtotal - o.Discount : decimal.Round(returnedGross * (subtotal - o.Discount) / subtotal, o.Currency.MinorUnits);
            traits = traits with
            {
                Orders = traits.Orders + 1,
                GrossSpend = traits.GrossSpend + ToBase(program, o.Currency, subtotal - o.Discount),
                Returns = traits.Returns + o.AppliedReturns.Count(r => !r.StartsWith("cancel:", StringComparison.Ordinal)),
                CancelledOrders = traits.CancelledOrders + (whole && o.AppliedReturns.Any(r => r.StartsWith("cancel:", StringComparison.Ordinal)) ? 1 : 0),
                ReturnedValue = traits.ReturnedValue + ToBase(program, o.Currency, returnedNet),
            };
        }

        return traits;
    }

    private static async ValueTask<CustomerTraits> ApplyReturnAsync(
        IngestContext context, string orderId, string returnId, IReadOnlyList<OrderLineQuantity> lines, bool cancellation, CustomerTraits traits, CancellationToken cancellationToken)
    {
        var session = context.Session;
        var order = await RequireOrderAsync(session, orderId, cancellationToken).ConfigureAwait(false);
        if (order.AppliedReturns.Contains(returnId))
        {
            return traits;
        }

        var returned = new Dictionary<string, int>(order.ReturnedQuantities, StringComparer.Ordinal);
        var requested = lines.Count == 0
            ? order.Lines.Select(l => new OrderLineQuantity { LineId = l.LineId, Quantity = l.Quantity - returned.GetValueOrDefault(l.LineId) }).Where(l => l.Quantity > 0).ToList()
            : lines.ToList();
        var errors = new List<ValidationError>();
        decimal value = 0;
        for (var i = 0; i < requested.Count; i++)
        {
            var req = requested[i];
            var line = order.Lines.FirstOrDefault(l => l.LineId == req.LineId);
            if (line is null)
            {
                errors.Add(new ValidationError($"$.lines[{i}].lineId", "unknown_line", $"Order {orderId} has no line '{req.LineId}'."));
                continue;
            }

            var left = line.Quantity - returned.GetValueOrDefault(line.LineId);
            if (req.Quantity > left)
            {
                errors.Add(new ValidationError($"$.lines[{i}].quantity", "exceeds_remaining", $"Only {left} unit(s) of line '{line.LineId}' remain to return or cancel."));
                continue;
            }

            returned[line.LineId] = returned.GetValueOrDefault(line.LineId) + req.Quantity;
            value += req.Quantity * line.UnitPrice;
        }

        if (errors.Count > 0)
        {
            throw new EventValidationException(errors);
        }

        var whole = order.Lines.All(l => returned.GetValueOrDefault(l.LineId) >= l.Quantity);
        await session.Orders.SaveAsync(order with { ReturnedQuantities = returned, AppliedReturns = [.. order.AppliedReturns, returnId] }, order.Version, cancellationToken).ConfigureAwait(false);
        // Spread the order discount over the lines: net(gross) is the paid merchandise value of 'gross' worth of
        // lines; taking the difference of cumulative values makes the returns of a whole order add up exactly to what
        // was counted in GrossSpend.
        var subtotal = order.Lines.Sum(l => l.LineTotal);
        decimal Net(decimal gross) => subtotal == 0 ? 0 : ToBase(context.Program, order.Currency, gross == subtotal ? subtotal - order.Discount : decimal.Round(gross * (subtotal - order.Discount) / subtotal, order.Currency.MinorUnits));
        var before = order.Lines.Sum(l => order.ReturnedQuantities.GetValueOrDefault(l.LineId) * l.UnitPrice);
        var baseValue = Net(before + value) - Net(before);
        return traits with
        {
            Returns = traits.Returns + (cancellation ? 0 : 1),
            CancelledOrders = traits.CancelledOrders + (cancellation && whole ? 1 : 0),
            ReturnedValue = traits.ReturnedValue + baseValue,
        };
    }

    private static async ValueTask<OrderRecord> RequireOrderAsync(ILoyaltyStoreSession session, string orderId, CancellationToken cancellationToken) =>
        await session.Orders.GetAsync(orderId, cancellationToken).ConfigureAwait(false)
        ?? throw new EventValidationException([new ValidationError("$.orderId", "unknown_order", $"No order '{orderId}' was placed.")]);

    private static decimal ToBase(LoyaltyProgram program, Currency currency, decimal amount) =>
        currency == program.BaseCurrency ? amount : decimal.Round(amount * program.ExchangeRates[currency.Code], program.BaseCurrency.MinorUnits);

    private static CustomerProfile Apply(CustomerProfile profile, ProfileData? data) => data is null
        ? profile
        : profile with
        {
            GivenName = data.GivenName ?? profile.GivenName,
            FamilyName = data.FamilyName ?? profile.FamilyName,
            BirthDate = data.BirthDate ?? profile.BirthDate,
            TimeZone = data.TimeZone ?? profile.TimeZone,
            Locale = data.Locale ?? profile.Locale,
            Address = data.Address ?? profile.Address,
        };

    private static Instant? Min(Instant? a, Instant? b) => a is null ? b : b is null ? a : (a < b ? a : b);

    private static Instant? Max(Instant? a, Instant? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
