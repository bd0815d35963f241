using System.Globalization;
using System.Text.Json;
using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Testing.Engine;

/// <summary>One step of the scenario: ingest events (one by one, or as one batch), or run the due work of the day.</summary>
/// <param name="At">The engine clock during the step.</param>
internal abstract record ScenarioStep(Instant At);

/// <summary>Ingests <paramref name="Events"/>: as one batch (one unit of work) or one event at a time.</summary>
internal sealed record IngestStep(Instant At, IReadOnlyList<LoyaltyEvent> Events, bool Batch) : ScenarioStep(At);

/// <summary>Runs the ledger's, segments' and journeys' due work.</summary>
internal sealed record DueWorkStep(Instant At) : ScenarioStep(At);

/// <summary>
/// A small deterministic history of one tenant over 90 days: nine people sign up, consent and withdraw, order on
/// every channel, complete, cancel (whole and by line) and return (by line and whole) orders, open messages, abandon
/// carts, review, complain and bounce; an anonymous visitor and a point-of-sale customer are merged into known
/// customers by events carrying identifiers of both; a family e-mail shared by several accounts gets auto-blocked;
/// events are re-sent (same id) within a day, within a batch and days later, and an order is re-sent under a new
/// event id. The due work of every capability runs each night.
/// </summary>
internal static class EngineScenario
{
    public static readonly Instant Start = Instant.FromUtc(2025, 1, 6, 0, 0);
    public const int Days = 90;
    private const int People = 8;
    private static readonly string[] Categories = ["shoes", "bags", "electronics", "books"];

    public static Identifier Email(int k) => new(IdentifierType.Email, $"c{k}@conformance.example");

    public static Identifier Ecom(int k) => new(IdentifierType.EcomCustomerId, $"E{k:D3}");

    public static Identifier Phone(int k) => new(IdentifierType.Phone, $"+336123456{k:D2}");

    public static readonly Identifier Pos6 = new(IdentifierType.PosCustomerId, "P006");
    public static readonly Identifier Anonymous = new(IdentifierType.DeviceId, "dev-anon-1");
    public static readonly Identifier Family = new(IdentifierType.Email, "family@conformance.example");

    /// <summary>Every identifier the scenario uses.</summary>
    public static IReadOnlyList<Identifier> Identifiers { get; } =
        [.. Enumerable.Range(0, People).SelectMany(k => new[] { Email(k), Ecom(k), Phone(k) }), Pos6, Anonymous, Family];

    public static IReadOnlyList<ScenarioStep> Build(TenantId tenant)
    {
        var steps = new List<ScenarioStep>();
        var history = new List<LoyaltyEvent>();
        var days = Enumerable.Range(0, Days + 10).Select(_ => new List<Func<int, Instant, LoyaltyEvent>>()).ToArray();

        for (var k = 0; k < People; k++)
        {
            Plan(tenant, days, k);
        }

        Extras(tenant, days);

        for (var day = 0; day < Days; day++)
        {
            var dayStart = Start + Duration.FromDays(day);
            if (day > 0)
            {
                steps.Add(new DueWorkStep(dayStart + Duration.FromHours(2)));
            }

            var events = new List<LoyaltyEvent>();
            for (var i = 0; i < days[day].Count; i++)
            {
                events.Add(days[day][i](i, dayStart + Duration.FromHours(9) + Duration.FromMinutes(7 * i)));
            }

            // Re-sends: the first event of the day again at the end of the day (inside the batch on even days), and
            // an event of three days ago.
            if (events.Count > 0 && day % 5 is 3 or 4)
            {
                events.Add(events[0]);
            }

            var last = events.Count == 0 ? dayStart + Duration.FromHours(9) : events.Max(e => e.OccurredAt);
            if (events.Count > 0)
            {
                if (day % 2 == 0 && events.Count > 1)
                {
                    steps.Add(new IngestStep(last + Duration.FromMinutes(1), events, Batch: true));
                }
                else
                {
                    steps.AddRange(events.Select(e => new IngestStep(e.OccurredAt + Duration.FromMinutes(1), [e], Batch: false)));
                }
            }

            if (day % 4 == 1 && history.Count > 0)
            {
                var again = history[(day * 7) % history.Count];
                steps.Add(new IngestStep(last + Duration.FromMinutes(30), [again], Batch: false));
            }

            history.AddRange(events);
        }

        return steps;
    }

    private static void Plan(TenantId tenant, List<Func<int, Instant, LoyaltyEvent>>[] days, int k)
    {
        if (k != 6)
        {
            days[k].Add((i, at) => new SignedUp
            {
                Id = Id($"signup-{k}"), Tenant = tenant, OccurredAt = at, Channel = k % 2 == 0 ? Channel.Web : Channel.App,
                Identifiers = [Email(k), Ecom(k)],
                Profile = new ProfileData
                {
                    GivenName = $"Given{k}", FamilyName = $"Family{k}", BirthDate = new LocalDate(1980 + k, (k % 3) + 1, 10 + k),
                    TimeZone = "Europe/Paris", Locale = "fr-FR",
                },
            });
        }

        if (k % 2 == 0 && k != 6)
        {
            days[k].Add((i, at) => Consent(tenant, $"consent-{k}", at, Email(k), ConsentStatus.Granted));
        }

        if (k is 0 or 4)
        {
            days[50].Add((i, at) => Consent(tenant, $"withdraw-{k}", at, Email(k), ConsentStatus.Withdrawn));
        }

        for (var d = k + 2; d <= 80; d++)
        {
            if ((d + (2 * k)) % 8 != 0)
            {
                continue;
            }

            var day = d;
            var orderId = $"O-{k}-{d}";
            var cancelled = (d + k) % 7 == 0;
            var order = Order(tenant, k, d, orderId);
            days[d].Add((i, at) => order with { OccurredAt = at });
            if (cancelled)
            {
                days[d + 1].Add((i, at) => new OrderCancelled { Id = Id($"cancel-{orderId}"), Tenant = tenant, OccurredAt = at, Identifiers = Ids(k, d), OrderId = orderId });
                continue;
            }

            if ((d + k) % 11 == 0 && order.Lines.Any(l => l.LineId == "l2"))
            {
                days[d + 1].Add((i, at) => new OrderCancelled
                {
                    Id = Id($"cancel-line-{orderId}"), Tenant = tenant, OccurredAt = at, Identifiers = Ids(k, d), OrderId = orderId,
                    Lines = [new OrderLineQuantity { LineId = "l2", Quantity = 1 }],
                });
            }

            if (d + 5 <= Days - 2)
            {
                days[d + 5].Add((i, at) => new OrderCompleted { Id = Id($"complete-{orderId}"), Tenant = tenant, OccurredAt = at, Identifiers = Ids(k, d), OrderId = orderId });
            }

            if ((d + k) % 3 == 0 && d + 8 <= Days - 2)
            {
                days[d + 8].Add((i, at) => new OrderReturned
                {
                    Id = Id($"return-{orderId}"), Tenant = tenant, OccurredAt = at, Identifiers = Ids(k, d), OrderId = orderId, ReturnId = $"R-{orderId}",
                    Lines = [new OrderLineQuantity { LineId = "l1", Quantity = 1 }],
                });
            }
            else if ((d + k) % 10 == 0 && d + 9 <= Days - 2)
            {
                days[d + 9].Add((i, at) => new OrderReturned
                {
                    Id = Id($"return-all-{orderId}"), Tenant = tenant, OccurredAt = at, Identifiers = Ids(k, d), OrderId = orderId, ReturnId = $"RA-{orderId}",
                });
            }
        }

        if (k < 4)
        {
            for (var d = k + 1; d < Days; d++)
            {
                if ((d + k) % 10 == 5)
                {
                    var day = d;
                    days[d].Add((i, at) => new Interaction
                    {
                        Id = Id($"open-{k}-{day}"), Tenant = tenant, OccurredAt = at, Channel = Channel.Email, Identifiers = [Email(k)],
                        InteractionKind = day % 20 == 5 ? InteractionKind.MessageClicked : InteractionKind.MessageOpened, MessageId = $"msg-{k}-{day}",
                    });
                }
            }
        }

        if (k != 6)
        {
            days[30 + k].Add((i, at) => new ReviewSubmitted { Id = Id($"review-{k}"), Tenant = tenant, OccurredAt = at, Identifiers = [Ecom(k)], Sku = $"SKU-{k}", Rating = (k % 5) + 1 });
        }
    }

    private static void Extras(TenantId tenant, List<Func<int, Instant, LoyaltyEvent>>[] days)
    {
        // An anonymous visitor browses, abandons a cart, then orders logged in as customer 1: merged.
        days[10].Add((i, at) => new Interaction { Id = Id("anon-visit"), Tenant = tenant, OccurredAt = at, Channel = Channel.Web, Identifiers = [Anonymous], InteractionKind = InteractionKind.SiteVisit });
        days[12].Add((i, at) => new CartAbandoned { Id = Id("anon-cart"), Tenant = tenant, OccurredAt = at, Channel = Channel.Web, Identifiers = [Anonymous], CartId = "cart-anon", Currency = Currency.Eur, Value = 80m, Skus = ["SKU-1"] });
        days[20].Add((i, at) => Order(tenant, 1, 20, "O-anon-login") with { Identifiers = [Email(1), Ecom(1), Anonymous], OccurredAt = at });

        // The point-of-sale customer 6 (phone and POS id only) turns out to be customer 7: merged.
        days[40].Add((i, at) => Order(tenant, 7, 40, "O-7-merge") with { Identifiers = [Email(7), Ecom(7), Phone(6)], OccurredAt = at });

        // Customer 6 consents to SMS before the merge: the consent moves to the survivor.
        days[21].Add((i, at) => new ConsentChanged
        {
            Id = Id("consent-sms-6"), Tenant = tenant, OccurredAt = at, Channel = Channel.Pos, Identifiers = [Phone(6)],
            ContactChannel = ContactChannel.Sms, Purpose = ConsentPurpose.Marketing, Status = ConsentStatus.Granted, Source = "pos", WordingVersion = "2025-01",
        });

        // A family address used by several accounts: refused, counted, then auto-blocked.
        for (var k = 2; k <= 5; k++)
        {
            var who = k;
            days[13 + k].Add((i, at) => Order(tenant, who, 13 + who, $"O-family-{who}") with { Identifiers = who == 2 ? [Ecom(who), Email(who), Family] : [Ecom(who), Family], OccurredAt = at });
        }

        // The same order re-sent under a new event id counts once.
        days[31].Add((i, at) => Order(tenant, 3, 26, "O-3-26") with { Id = Id("order-O-3-26-resent"), OccurredAt = at });

        days[25].Add((i, at) => new ProfileUpdated
        {
            Id = Id("profile-0"), Tenant = tenant, OccurredAt = at, Identifiers = [Email(0)],
            Profile = new ProfileData { Address = new PostalAddress { Line1 = "1 rue de la Paix", City = "Paris", PostalCode = "75002", Country = "FR" } },
        });
        days[33].Add((i, at) => new SupportTicket { Id = Id("ticket-open"), Tenant = tenant, OccurredAt = at, Identifiers = [Email(2)], TicketId = "T-1", Status = TicketStatus.Opened });
        days[35].Add((i, at) => new SupportTicket { Id = Id("ticket-close"), Tenant = tenant, OccurredAt = at, Identifiers = [Email(2)], TicketId = "T-1", Status = TicketStatus.Closed, Satisfaction = 4 });
        days[44].Add((i, at) => new CartAbandoned { Id = Id("cart-4"), Tenant = tenant, OccurredAt = at, Channel = Channel.App, Identifiers = [Ecom(4)], CartId = "cart-4", Currency = Currency.Eur, Value = 42.5m });
        days[60].Add((i, at) => new Interaction { Id = Id("spam-5"), Tenant = tenant, OccurredAt = at, Channel = Channel.Email, Identifiers = [Email(5)], InteractionKind = InteractionKind.SpamComplaint, MessageId = "msg-spam" });
        days[61].Add((i, at) => new Interaction { Id = Id("bounce-3"), Tenant = tenant, OccurredAt = at, Channel = Channel.Email, Identifiers = [Email(3)], InteractionKind = InteractionKind.MessageBounced, MessageId = "msg-bounce" });
        foreach (var d in new[] { 62, 64, 66 })
        {
            var day = d;
            days[d].Add((i, at) => new CustomEvent
            {
                Id = Id($"checkin-{day}"), Tenant = tenant, OccurredAt = at, Channel = Channel.Pos, Identifiers = [Phone(6)], Name = "store_checkin",
                Properties = new Dictionary<string, JsonElement> { ["store_id"] = JsonSerializer.SerializeToElement("S1"), ["minutes"] = JsonSerializer.SerializeToElement(day % 30) },
            });
        }
    }

    private static IReadOnlyList<Identifier> Ids(int k, int day) =>
        k == 6 ? [Phone(6), Pos6] : day % 2 == 0 ? [Ecom(k)] : [Email(k), Ecom(k)];

    private static OrderPlaced Order(TenantId tenant, int k, int d, string orderId)
    {
        var lines = new List<OrderLine>
        {
            new()
            {
                LineId = "l1", Sku = $"SKU-{(d + k) % 5}", Category = Categories[(d + k) % 4], Quantity = 1 + (d % 3),
                UnitPrice = 15m + ((d * 7) + (k * 13)) % 90 + 0.99m,
            },
        };
        if (d % 2 == 0)
        {
            lines.Add(new OrderLine { LineId = "l2", Sku = "GIFT-25", Category = "gifts", Quantity = 1, UnitPrice = 25m, LineKind = OrderLineKind.GiftCard });
        }

        if ((d + k) % 5 == 0)
        {
            lines.Add(new OrderLine { LineId = "l3", Sku = "TV-1", Category = "electronics", Quantity = 1, UnitPrice = 120m });
        }

        var channel = k == 6 ? Channel.Pos : (d % 3) switch { 0 => Channel.App, 1 => Channel.Web, _ => Channel.Pos };
        var discount = d % 4 == 0 ? 5m : 0m;
        var shipping = channel == Channel.Web ? 4.9m : 0m;
        return new OrderPlaced
        {
            Id = Id($"order-{orderId}"),
            Tenant = tenant,
            OccurredAt = Start + Duration.FromDays(d),
            Channel = channel,
            Identifiers = Ids(k, d),
            OrderId = orderId,
            Currency = Currency.Eur,
            Lines = lines,
            Discount = discount,
            Shipping = shipping,
            Total = lines.Sum(l => l.LineTotal) - discount + shipping,
            StoreId = channel == Channel.Pos ? "S1" : null,
        };
    }

    private static ConsentChanged Consent(TenantId tenant, string id, Instant at, Identifier email, ConsentStatus status) => new()
    {
        Id = Id(id), Tenant = tenant, OccurredAt = at, Channel = Channel.Web, Identifiers = [email],
        ContactChannel = ContactChannel.Email, Purpose = ConsentPurpose.Marketing, Status = status, Source = "form", WordingVersion = "2025-01",
    };

    private static EventId Id(string value) => new(value.ToLower(CultureInfo.InvariantCulture));
}
