using System.Text.Json.Nodes;
using Loyalty.Sdk.Consent;
using NodaTime.Text;

namespace Loyalty.Sdk.Ledger;

/// <summary>
/// The ledger's part of a GDPR export and erasure. The export holds, for the customer and every id merged into it,
/// the balances, lots, reservations, tier with its history, the orders earned on and the statement (every transfer
/// with its reason). The erasure keeps anonymized totals so the program's accounts still reconcile: the states,
/// transfers, orders and command records are re-keyed to the pseudonym (<see cref="ILedgerRepository.AnonymizeAsync"/>).
/// </summary>
public sealed class LedgerPersonalData : IPersonalDataContributor
{
    private const int Page = 1000;

    /// <inheritdoc />
    public string Section => "ledger";

    /// <inheritdoc />
    public async ValueTask<JsonNode?> ExportAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var repo = context.Session.Ledger;
        var accounts = new JsonArray();
        var statement = new List<LedgerTransfer>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in context.AllIds)
        {
            if (await repo.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } state)
            {
                accounts.Add(State(state));
            }

            for (var skip = 0; ; skip += Page)
            {
                var page = await repo.ListTransfersAsync(id, skip, Page, cancellationToken).ConfigureAwait(false);
                statement.AddRange(page.Where(t => seen.Add(t.Id)));
                if (page.Count < Page)
                {
                    break;
                }
            }
        }

        if (accounts.Count == 0 && statement.Count == 0)
        {
            return null;
        }

        var orders = new JsonArray();
        foreach (var orderId in statement.Select(t => t.Reason.OrderId).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            if (await repo.GetOrderAsync(orderId, cancellationToken).ConfigureAwait(false) is { } o && context.AllIds.Contains(o.Customer))
            {
                orders.Add(new JsonObject
                {
                    ["orderId"] = o.OrderId, ["customer"] = o.Customer.Value, ["ledger"] = o.Ledger, ["points"] = o.Points, ["pointsRedeemed"] = o.PointsRedeemed,
                    ["pointsRefunded"] = o.PointsRefunded, ["clawedBack"] = o.ClawedBack, ["spend"] = o.Spend, ["placedAt"] = o.PlacedAt.ToString(),
                    ["completedAt"] = o.CompletedAt?.ToString(), ["lots"] = Strings(o.Lots),
                });
            }
        }

        return new JsonObject
        {
            ["accounts"] = accounts,
            ["orders"] = orders,
            ["statement"] = new JsonArray([.. statement.OrderBy(t => t.At).Select(Line)]),
        };
    }

    /// <inheritdoc />
    public async ValueTask EraseAsync(PersonalDataContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var pseudonym = context.Pseudonym ?? throw new ArgumentException("An erasure needs a pseudonym.", nameof(context));
        await context.Session.Ledger.AnonymizeAsync(context.AllIds, pseudonym, cancellationToken).ConfigureAwait(false);
    }

    private static JsonObject State(CustomerLedger s) => new()
    {
        ["customer"] = s.Customer.Value,
        ["balances"] = new JsonArray([.. s.Balances.Select(b => (JsonNode)new JsonObject
        {
            ["ledger"] = b.Ledger, ["available"] = b.Available, ["pending"] = b.Pending, ["reserved"] = b.Reserved, ["lifetimeEarned"] = b.LifetimeEarned,
            ["debt"] = b.Debt, ["owed"] = b.Owed,
        })]),
        ["lots"] = new JsonArray([.. s.Lots.Select(l => (JsonNode)new JsonObject
        {
            ["id"] = l.Id, ["ledger"] = l.Ledger, ["amount"] = l.Amount, ["available"] = l.Available, ["pending"] = l.Pending, ["reserved"] = l.Reserved,
            ["createdAt"] = l.CreatedAt.ToString(), ["activatedAt"] = l.ActivatedAt?.ToString(), ["activatesAt"] = l.ActivatesAt?.ToString(),
            ["expiresAt"] = l.ExpiresAt?.ToString(), ["source"] = Name(l.Source), ["orderId"] = l.OrderId, ["rule"] = l.Rule,
        })]),
        ["reservations"] = new JsonArray([.. s.Reservations.Values.Select(r => (JsonNode)new JsonObject
        {
            ["id"] = r.Id, ["ledger"] = r.Ledger, ["orderId"] = r.OrderId, ["createdAt"] = r.CreatedAt.ToString(), ["expiresAt"] = r.ExpiresAt.ToString(),
            ["amount"] = r.Amount, ["captured"] = r.Captured, ["released"] = r.Released,
        })]),
        ["tier"] = new JsonObject
        {
            ["tier"] = s.Tier.Tier, ["since"] = s.Tier.Since?.ToString(), ["reviewAt"] = s.Tier.ReviewAt?.ToString(), ["graceUntil"] = s.Tier.GraceUntil?.ToString(),
            ["override"] = s.Tier.Override is { } o
                ? new JsonObject { ["tier"] = o.Tier, ["mode"] = o.Mode == TierOverrideMode.Fixed ? "fixed" : "floor", ["until"] = o.Until?.ToString(), ["actor"] = o.Actor, ["note"] = o.Note }
                : null,
        },
        ["tierHistory"] = new JsonArray([.. s.TierHistory.Select(c => (JsonNode)new JsonObject
        {
            ["from"] = c.From, ["to"] = c.To, ["at"] = c.At.ToString(), ["rule"] = c.Rule, ["qualifying"] = c.Qualifying, ["commandKey"] = c.CommandKey,
        })]),
        ["earnings"] = new JsonArray([.. s.EarnBuckets.Select(b => (JsonNode)new JsonObject
        {
            ["ledger"] = b.Ledger, ["day"] = LocalDatePattern.Iso.Format(b.Day), ["points"] = b.Points, ["spend"] = b.Spend,
        })]),
        ["manualEarnings"] = new JsonArray([.. s.ManualEarnBuckets.Select(b => (JsonNode)new JsonObject
        {
            ["ledger"] = b.Ledger, ["day"] = LocalDatePattern.Iso.Format(b.Day), ["points"] = b.Points,
        })]),
        ["lastActivityAt"] = s.LastActivityAt?.ToString(),
        ["inactivityExpiresAt"] = s.InactivityExpiresAt?.ToString(),
    };

    private static JsonNode Line(LedgerTransfer t) => new JsonObject
    {
        ["id"] = t.Id,
        ["at"] = t.At.ToString(),
        ["bookingDate"] = LocalDatePattern.Iso.Format(t.BookingDate),
        ["kind"] = Name(t.Kind),
        ["ledger"] = t.Ledger,
        ["amount"] = t.Amount,
        ["debit"] = t.Debit.ToString(),
        ["credit"] = t.Credit.ToString(),
        ["debitLot"] = t.DebitLot,
        ["creditLot"] = t.CreditLot,
        ["reservationId"] = t.ReservationId,
        ["expiresAt"] = t.ExpiresAt?.ToString(),
        ["shortfall"] = t.Shortfall,
        ["spend"] = t.Spend,
        ["reason"] = new JsonObject
        {
            ["commandKey"] = t.Reason.CommandKey, ["rule"] = t.Reason.Rule, ["ruleVersion"] = t.Reason.RuleVersion, ["orderId"] = t.Reason.OrderId,
            ["eventId"] = t.Reason.EventId?.Value, ["actor"] = t.Reason.Actor, ["note"] = t.Reason.Note, ["mergeId"] = t.Reason.MergeId, ["reverses"] = t.Reason.Reverses,
        },
    };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    private static string Name<T>(T value)
        where T : struct, Enum => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
