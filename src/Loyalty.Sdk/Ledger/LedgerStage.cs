using System.Globalization;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Storage;

namespace Loyalty.Sdk.Ledger;

/// <summary>
/// The ledger's ingest stage: an order earns (one lot per rule, pending for the return window) after the points it
/// was paid with are redeemed (capturing a checkout reservation named after the order when there is one); completion
/// starts the window; returns and cancellations claw back in proportion and give back points paid; a merge moves
/// lots to the survivor. Every posting is a decision in the customer's trail.
/// </summary>
public sealed class LedgerStage(LedgerEngines engines) : ILedgerStage, ICustomerMergeParticipant, ICustomerSplitParticipant
{
    /// <summary>Action of earning decisions.</summary>
    public const string PointsPosted = "points_posted";

    private readonly LedgerEngines engines = engines ?? throw new ArgumentNullException(nameof(engines));

    /// <inheritdoc />
    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Program.Ledger is null)
        {
            return;
        }

        switch (context.Event)
        {
            case OrderPlaced o:
                await PlaceAsync(context, o, cancellationToken).ConfigureAwait(false);
                break;
            case OrderCompleted c:
                await CompleteAsync(context, c, cancellationToken).ConfigureAwait(false);
                break;
            case OrderReturned r:
                await ReturnAsync(context, r.OrderId, $"return:{r.OrderId}:{r.ReturnId}", cancellation: false, cancellationToken).ConfigureAwait(false);
                break;
            case OrderCancelled x:
                await ReturnAsync(context, x.OrderId, $"cancel:{x.OrderId}:{x.Id.Value}", cancellation: true, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async ValueTask PlaceAsync(IngestContext context, OrderPlaced o, CancellationToken cancellationToken)
    {
        var repo = context.Session.Ledger;
        if (await repo.GetOrderAsync(o.OrderId, cancellationToken).ConfigureAwait(false) is not null)
        {
            context.Decide(Capabilities.Ledger, "points_not_posted", "ledger.order_natural_key", $"Order {o.OrderId} already earned; nothing posted again.",
                new Dictionary<string, string> { ["orderId"] = o.OrderId });
            return;
        }

        var engine = engines.For(context.Program);
        var customer = context.RequireCustomer();
        var state = await repo.GetAsync(customer, cancellationToken).ConfigureAwait(false) ?? new CustomerLedger(customer);
        var expected = state.Version;
        var posting = engine.Begin($"order:{o.OrderId}", context.Now, state);
        long paid = 0;
        if (o.PointsRedeemed > 0)
        {
            paid = engine.CaptureForOrder(posting, state, o.OrderId, o.PointsRedeemed, o.Id);
            if (paid < o.PointsRedeemed)
            {
                paid += engine.RedeemForOrder(posting, state, o.OrderId, o.PointsRedeemed - paid, o.Id);
            }

            var inputs = new Dictionary<string, string> { ["orderId"] = o.OrderId, ["requested"] = Str(o.PointsRedeemed), ["redeemed"] = Str(paid) };
            context.Decide(Capabilities.Ledger, "points_redeemed", "ledger.order_paid_with_points",
                paid == o.PointsRedeemed ? $"{paid} points paid for order {o.OrderId}." : $"Order {o.OrderId} asked to pay {o.PointsRedeemed} points; only {paid} were spendable and redeemed.",
                inputs);
        }

        var first = (context.Profile?.Traits.Orders ?? 1) <= 1;
        var facts = new EarningFacts { Profile = context.Profile, ProfileIncludesOrder = true, Segments = engine.ConditionsUseSegments ? await SegmentsAsync(context.Session, customer, cancellationToken).ConfigureAwait(false) : EmptySegments };
        var evaluation = engine.EvaluateOrder(o, state, context.Profile?.BirthDate, first, facts);
        var order = engine.PostOrder(posting, state, o, evaluation, o.Id, paid);
        await repo.SaveAsync(state, expected, posting.Transfers, cancellationToken).ConfigureAwait(false);
        await repo.SaveOrderAsync(order, 0, cancellationToken).ConfigureAwait(false);
        var pending = posting.Transfers.Any(t => t.Kind == TransferKind.Earn && t.Credit.Kind == AccountKind.Pending);
        foreach (var c in evaluation.Components)
        {
            context.Decide(Capabilities.Ledger, PointsPosted, c.Rule,
                $"{c.Points} {c.Ledger} {(pending ? "pending" : "available")} for order {o.OrderId}: {c.Explanation}.",
                new Dictionary<string, string>
                {
                    ["orderId"] = o.OrderId, ["points"] = Str(c.Points), ["ledger"] = c.Ledger, ["ruleVersion"] = Str(c.RuleVersion),
                    ["eligibleValue"] = evaluation.EligibleValue.ToString(CultureInfo.InvariantCulture), ["state"] = pending ? "pending" : "available",
                });
            context.PointsPosted += c.Points;
        }

        if (evaluation.Capped > 0)
        {
            context.Decide(Capabilities.Ledger, "points_capped", "ledger.caps", $"{evaluation.Capped} points of order {o.OrderId} were over an earning cap.",
                new Dictionary<string, string> { ["orderId"] = o.OrderId, ["capped"] = Str(evaluation.Capped) });
        }

        DecideTier(context, posting);
    }

    private async ValueTask CompleteAsync(IngestContext context, OrderCompleted c, CancellationToken cancellationToken)
    {
        var repo = context.Session.Ledger;
        if (await repo.GetOrderAsync(c.OrderId, cancellationToken).ConfigureAwait(false) is not { } order || order.CompletedAt is not null)
        {
            return;
        }

        var engine = engines.For(context.Program);
        var customer = await OwnerAsync(context, order, cancellationToken).ConfigureAwait(false);
        var state = await repo.GetAsync(customer, cancellationToken).ConfigureAwait(false) ?? new CustomerLedger(customer);
        var expected = state.Version;
        var posting = engine.Begin($"complete:{c.OrderId}", context.Now, state);
        var updated = engine.CompleteOrder(posting, state, order, c.Id);
        await repo.SaveAsync(state, expected, posting.Transfers, cancellationToken).ConfigureAwait(false);
        await repo.SaveOrderAsync(updated, order.Version, cancellationToken).ConfigureAwait(false);
        var activated = posting.Transfers.Where(t => t.Kind == TransferKind.Activate).Sum(t => t.Amount);
        context.Decide(Capabilities.Ledger, activated > 0 ? "points_activated" : "pending_window_started", LedgerEngine.ActivationRule,
            activated > 0 ? $"{activated} points of order {c.OrderId} are available on completion." : $"Return window of order {c.OrderId} started; points become available after {engine.Settings.Pending.Days} days.",
            new Dictionary<string, string> { ["orderId"] = c.OrderId, ["windowDays"] = Str(engine.Settings.Pending.Days) });
    }

    private static async ValueTask<CustomerId> OwnerAsync(IngestContext context, LedgerOrder order, CancellationToken cancellationToken) =>
        (await IdentityStage.FollowAsync(context.Session.Identity, order.Customer, cancellationToken).ConfigureAwait(false))?.Customer ?? order.Customer;

    private async ValueTask ReturnAsync(IngestContext context, string orderId, string key, bool cancellation, CancellationToken cancellationToken)
    {
        var repo = context.Session.Ledger;
        if (await repo.GetOrderAsync(orderId, cancellationToken).ConfigureAwait(false) is not { } order)
        {
            return;
        }

        // The profile stage (which runs first) has applied the return to the order record, once per return id.
        var record = await context.Session.Orders.GetAsync(orderId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return;
        }

        var returned = record.ReturnedQuantities;
        if (returned.Count == order.ReturnedByLine.Count && returned.All(kv => order.ReturnedByLine.GetValueOrDefault(kv.Key) == kv.Value))
        {
            return;
        }

        var subtotal = record.Lines.Sum(l => l.LineTotal);
        var value = record.Lines.Sum(l => Math.Min(returned.GetValueOrDefault(l.LineId), l.Quantity) * l.UnitPrice);
        var share = subtotal == 0 ? 1m : value / subtotal;
        var engine = engines.For(context.Program);
        var customer = await OwnerAsync(context, order, cancellationToken).ConfigureAwait(false);
        var state = await repo.GetAsync(customer, cancellationToken).ConfigureAwait(false) ?? new CustomerLedger(customer);
        var expected = state.Version;
        var posting = engine.Begin(key, context.Now, state);
        var updated = engine.ApplyReturn(posting, state, order, returned, share, context.Event.Id, cancellation);
        await repo.SaveAsync(state, expected, posting.Transfers, cancellationToken).ConfigureAwait(false);
        await repo.SaveOrderAsync(updated, order.Version, cancellationToken).ConfigureAwait(false);
        var clawed = posting.Transfers.Where(t => t.Kind == TransferKind.Clawback).Sum(t => t.Amount);
        var refunded = posting.Transfers.Where(t => t.Kind == TransferKind.Refund).Sum(t => t.Amount);
        var recovered = posting.Transfers.Where(t => t.Kind is TransferKind.Recover or TransferKind.SettleDebt).Sum(t => t.Amount);
        context.Decide(Capabilities.Ledger, "points_clawed_back", LedgerEngine.ReturnRule,
            $"{(cancellation ? "Cancellation" : "Return")} on order {orderId}: {clawed} points taken back{(posting.Shortfall > 0 ? $", {posting.Shortfall} short (recorded)" : string.Empty)}{(refunded > 0 ? $", {refunded} points paid given back" : string.Empty)}{(recovered > 0 ? $", {recovered} settled against earlier shortfalls" : string.Empty)}.",
            new Dictionary<string, string>
            {
                ["orderId"] = orderId, ["returnedShare"] = decimal.Round(share, 4).ToString(CultureInfo.InvariantCulture), ["clawedBack"] = Str(clawed),
                ["shortfall"] = Str(posting.Shortfall), ["refunded"] = Str(refunded), ["policy"] = engine.Settings.Returns.Mode.ToString(),
            });
        context.PointsPosted -= clawed;
        DecideTier(context, posting);
    }

    private static void DecideTier(IngestContext context, LedgerPosting posting)
    {
        foreach (var s in posting.Signals.Where(s => s.Kind == LedgerSignalKind.TierChanged))
        {
            context.Decide(Capabilities.Ledger, "tier_changed", "tier.upgrade", $"Tier {s.PreviousTier ?? "none"} → {s.Tier}.",
                new Dictionary<string, string> { ["from"] = s.PreviousTier ?? string.Empty, ["to"] = s.Tier ?? string.Empty });
        }
    }

    /// <inheritdoc />
    public async ValueTask OnMergedAsync(CustomerMerged merge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(merge);
        var repo = merge.Context.Session.Ledger;
        var absorbed = await repo.GetAsync(merge.Absorbed, cancellationToken).ConfigureAwait(false);
        if (absorbed is null)
        {
            return;
        }

        var survivor = await repo.GetAsync(merge.Survivor, cancellationToken).ConfigureAwait(false) ?? new CustomerLedger(merge.Survivor);
        var (ea, es) = (absorbed.Version, survivor.Version);
        var engine = engines.For(merge.Context.Program);
        var mergeId = $"{merge.Absorbed.Value}>{merge.Survivor.Value}";
        var posting = engine.Merge(absorbed, survivor, mergeId, merge.Context.Now);
        await repo.SaveAsync(absorbed, ea, posting.Transfers, cancellationToken).ConfigureAwait(false);
        await repo.SaveAsync(survivor, es, [], cancellationToken).ConfigureAwait(false);
        var moved = posting.Transfers.Where(t => t.Kind == TransferKind.Merge).Sum(t => t.Amount);
        if (moved > 0 && merge.Context.Customer is not null)
        {
            merge.Context.Decide(Capabilities.Ledger, "points_merged", "ledger.merge", $"{moved} points in {posting.Transfers.Count(t => t.Kind == TransferKind.Merge)} lots moved from {merge.Absorbed} to {merge.Survivor} (merge {mergeId}).",
                new Dictionary<string, string> { ["absorbed"] = merge.Absorbed.Value, ["survivor"] = merge.Survivor.Value, ["points"] = Str(moved), ["mergeId"] = mergeId });
        }
    }

    /// <summary>
    /// An unmerge gives the absorbed customer back what the merge moved (<see cref="LedgerEngine.Unmerge"/>). A split of
    /// identifiers moves the points of the orders that follow the identifiers (<see cref="LedgerEngine.MoveOrders"/>):
    /// orders placed with an identifier that left and none the survivor keeps, as the profile moves them.
    /// </summary>
    public async ValueTask OnSplitAsync(CustomerSplit split, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (split.Merge is not { } merge)
        {
            await MoveOrdersAsync(split, cancellationToken).ConfigureAwait(false);
            return;
        }

        var repo = split.Session.Ledger;
        var survivor = await repo.GetAsync(split.Survivor, cancellationToken).ConfigureAwait(false);
        if (survivor is null)
        {
            return;
        }

        var absorbed = await repo.GetAsync(split.SplitOff, cancellationToken).ConfigureAwait(false) ?? new CustomerLedger(split.SplitOff);
        var (es, ea) = (survivor.Version, absorbed.Version);
        var survivorJournal = await JournalAsync(repo, split.Survivor, cancellationToken).ConfigureAwait(false);
        var absorbedJournal = await JournalAsync(repo, split.SplitOff, cancellationToken).ConfigureAwait(false);
        var mergeId = $"{merge.Absorbed.Value}>{merge.Survivor.Value}";
        var posting = engines.For(split.Program).Unmerge(survivor, absorbed, mergeId, merge.MergedAt, survivorJournal, absorbedJournal, split.At, split.Actor, split.Reason);
        await repo.SaveAsync(survivor, es, posting.Transfers, cancellationToken).ConfigureAwait(false);
        await repo.SaveAsync(absorbed, ea, [], cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask MoveOrdersAsync(CustomerSplit split, CancellationToken cancellationToken)
    {
        var session = split.Session;
        var repo = session.Ledger;
        if (await repo.GetAsync(split.Survivor, cancellationToken).ConfigureAwait(false) is not { } survivor)
        {
            return;
        }

        var kept = (await session.Identity.GetAsync(split.Survivor, cancellationToken).ConfigureAwait(false))?.Links.Select(l => l.Identifier).ToHashSet() ?? [];
        var leaving = split.Identifiers.ToHashSet();
        var orders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var customer in new[] { split.SplitOff, split.Survivor })
        {
            foreach (var order in await session.Orders.ListByCustomerAsync(customer, cancellationToken).ConfigureAwait(false))
            {
                if (await session.Orders.GetAsync(order.OrderId, cancellationToken).ConfigureAwait(false) is { } current
                    && (current.Customer == split.SplitOff || (current.Customer == split.Survivor && Profiles.ProfileStage.LeavesWith(current, leaving, kept))))
                {
                    orders.Add(current.OrderId);
                }
            }
        }

        if (orders.Count == 0)
        {
            return;
        }

        var splitOff = await repo.GetAsync(split.SplitOff, cancellationToken).ConfigureAwait(false) ?? new CustomerLedger(split.SplitOff);
        var (es, eo) = (survivor.Version, splitOff.Version);
        var journal = await JournalAsync(repo, split.Survivor, cancellationToken).ConfigureAwait(false);
        var key = $"split:{split.Survivor.Value}>{split.SplitOff.Value}";
        var posting = engines.For(split.Program).MoveOrders(survivor, splitOff, orders, journal, key, split.At, split.Actor, split.Reason);
        await repo.SaveAsync(survivor, es, posting.Transfers, cancellationToken).ConfigureAwait(false);
        await repo.SaveAsync(splitOff, eo, [], cancellationToken).ConfigureAwait(false);
        foreach (var id in orders.Order(StringComparer.Ordinal))
        {
            if (await repo.GetOrderAsync(id, cancellationToken).ConfigureAwait(false) is { } order && order.Customer != split.SplitOff)
            {
                await repo.SaveOrderAsync(order with { Customer = split.SplitOff }, order.Version, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask<List<LedgerTransfer>> JournalAsync(ILedgerRepository repo, CustomerId customer, CancellationToken cancellationToken)
    {
        const int page = 1000;
        var all = new List<LedgerTransfer>();
        for (var skip = 0; ; skip += page)
        {
            var batch = await repo.ListTransfersAsync(customer, skip, page, cancellationToken).ConfigureAwait(false);
            all.AddRange(batch);
            if (batch.Count < page)
            {
                return all;
            }
        }
    }

    private static readonly HashSet<string> EmptySegments = new(StringComparer.Ordinal);

    /// <summary>The segments a customer is in (for earning-rule conditions that use <c>in_segment</c>).</summary>
    internal static async ValueTask<IReadOnlySet<string>> SegmentsAsync(ILoyaltyStoreSession session, CustomerId customer, CancellationToken cancellationToken)
    {
        var state = await session.Segments.GetAsync(customer, cancellationToken).ConfigureAwait(false);
        return state is null ? EmptySegments : new HashSet<string>(state.Memberships.Keys, StringComparer.Ordinal);
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}
