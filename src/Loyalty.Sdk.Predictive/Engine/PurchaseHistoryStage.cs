using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using NodaTime;

namespace Loyalty.Sdk.Predictive.Engine;

/// <summary>
/// Keeps each customer's <see cref="PurchaseHistory"/> from order events in O(1): purchase days in the customer's own
/// time zone (profile, else the program's default), spend net of order discounts in the base currency.
/// </summary>
public sealed class PurchaseHistoryStage : ITraitStage, ICustomerMergeParticipant
{
    /// <inheritdoc />
    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Event is not OrderPlaced order || context.OrderAlreadyPlaced)
        {
            return;
        }

        var customer = context.RequireCustomer();
        var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(context.Profile?.TimeZone ?? context.Program.DefaultTimeZone) ?? DateTimeZone.Utc;
        var day = order.OccurredAt.InZone(zone).Date;
        var amount = order.Subtotal - order.Discount;
        if (order.Currency != context.Program.BaseCurrency)
        {
            amount *= context.Program.ExchangeRates[order.Currency.Code];
        }

        var repository = context.Session.Predictive;
        var stored = await repository.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        PurchaseHistory next;
        if (stored is null)
        {
            next = new PurchaseHistory { Customer = customer, FirstPurchase = day, LastPurchase = day, PurchaseDays = 1, FirstDaySpend = amount, TotalSpend = amount };
        }
        else if (day < stored.LastPurchase)
        {
            // The summary keeps no list of days, so a late order cannot be placed exactly: it is counted as spend only
            // and said so.
            next = stored with { TotalSpend = stored.TotalSpend + amount, LateOrders = stored.LateOrders + 1 };
            context.Decide(Capabilities.Profile, "late_order", "predictive.purchase_history", $"Order {order.OrderId} is dated before the latest purchase; its day is not counted as a new purchase.",
                new Dictionary<string, string> { ["orderDay"] = day.ToString("uuuu-MM-dd", null), ["lastPurchase"] = stored.LastPurchase.ToString("uuuu-MM-dd", null) });
        }
        else if (day == stored.LastPurchase)
        {
            next = stored with { TotalSpend = stored.TotalSpend + amount, FirstDaySpend = stored.PurchaseDays == 1 ? stored.FirstDaySpend + amount : stored.FirstDaySpend };
        }
        else
        {
            next = stored with { LastPurchase = day, PurchaseDays = stored.PurchaseDays + 1, TotalSpend = stored.TotalSpend + amount };
        }

        await repository.SaveAsync(next, stored?.Version ?? 0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Combines two histories: the earliest first purchase and its spend, the latest last purchase, purchase
    /// days added (days both bought on count twice, which is rare for two profiles of one person).</summary>
    public async ValueTask OnMergedAsync(CustomerMerged merge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(merge);
        var repository = merge.Context.Session.Predictive;
        var absorbed = await repository.GetAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
        if (absorbed is null)
        {
            return;
        }

        var survivor = await repository.GetAsync(merge.Survivor, cancellationToken).ConfigureAwait(false);
        var combined = survivor is null
            ? absorbed with { Customer = merge.Survivor, Version = 0 }
            : survivor with
            {
                FirstPurchase = absorbed.FirstPurchase < survivor.FirstPurchase ? absorbed.FirstPurchase : survivor.FirstPurchase,
                FirstDaySpend = absorbed.FirstPurchase < survivor.FirstPurchase ? absorbed.FirstDaySpend : survivor.FirstDaySpend,
                LastPurchase = absorbed.LastPurchase > survivor.LastPurchase ? absorbed.LastPurchase : survivor.LastPurchase,
                PurchaseDays = survivor.PurchaseDays + absorbed.PurchaseDays,
                TotalSpend = survivor.TotalSpend + absorbed.TotalSpend,
                LateOrders = survivor.LateOrders + absorbed.LateOrders,
            };
        await repository.SaveAsync(combined, survivor?.Version ?? 0, cancellationToken).ConfigureAwait(false);
        await repository.DeleteAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
    }
}
