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
                profile = Apply(profile, s.Profile) with { SignedUpAt = profile.SignedUpAt ?? e.OccurredAt };
                break;
            case ProfileUpdated p:
                profile = Apply(profile, p.Profile);
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
                break;
            case CartAbandoned:
                traits = traits with { AbandonedCarts = traits.AbandonedCarts + 1 };
                break;
            case SupportTicket { Status: TicketStatus.Opened }:
                traits = traits with { SupportTickets = traits.SupportTickets + 1 };
                break;
            case ReviewSubmitted:
                traits = traits with { Reviews = traits.Reviews + 1 };
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
    /// <remarks>An unmerge restores the absorbed profile snapshot kept in the merge record and subtracts its counters
    /// and spend from the survivor; the survivor keeps its profile fields (which side a filled gap came from is not known).
    /// Activity after the merge stays with the survivor. A split of identifiers moves the orders placed only with
    /// identifiers that left (none of the survivor's remaining ones), with their counts, spend and returns; the other
    /// counters (interactions, carts, tickets, reviews) and the profile fields are not kept per identifier and stay.</remarks>
    public async ValueTask OnSplitAsync(CustomerSplit split, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (split.Merge is null)
        {
            await MoveOrdersAsync(split, cancellationToken).ConfigureAwait(false);
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
        };
        await profiles.SaveAsync(restored, survivor.Version, cancellationToken).ConfigureAwait(false);
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
