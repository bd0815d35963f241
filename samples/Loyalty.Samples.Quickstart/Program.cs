using Loyalty.Sdk;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;

// Composition root: the one place that chooses the clock, the logging and the store.
var services = new ServiceCollection();
services.AddSingleton<IClock>(SystemClock.Instance); // tests register a NodaTime.Testing FakeClock instead
services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>)); // or services.AddLogging(...)
services.AddLoyalty()
    .UseInMemoryStorage()
    .UseDefaultProgram(DefaultPrograms.Retail()) // EUR, Europe/Paris, phones read as French, earning rules, segments
    .AddConsent().AddLedger().AddSegments();     // the capabilities: consent and contact policy, points, segments

await using var provider = services.BuildServiceProvider();
var engine = provider.GetRequiredService<ILoyaltyEngine>();
var now = provider.GetRequiredService<IClock>().GetCurrentInstant();

var tenant = new TenantId("acme");
var email = new Identifier(IdentifierType.Email, "Jane.Doe@Example.com"); // normalized to jane.doe@example.com
var phone = new Identifier(IdentifierType.Phone, "06 12 34 56 78");       // normalized to +33612345678
var device = new Identifier(IdentifierType.DeviceId, "ios-7f3a9c");

var order = new OrderPlaced
{
    Id = new EventId("evt-3"), Tenant = tenant, OccurredAt = now - Duration.FromDays(1), Channel = Channel.Pos,
    Identifiers = [phone, email, device], // the app's QR code scanned at the till brings the device id along
    OrderId = "pos-1001", StoreId = "paris-01", Currency = Currency.Eur, Total = 109.80m,
    Lines =
    [
        new OrderLine { LineId = "1", Sku = "SNEAKER-42", Category = "shoes", Quantity = 1, UnitPrice = 89.90m },
        new OrderLine { LineId = "2", Sku = "SOCKS-3P", Category = "apparel", Quantity = 2, UnitPrice = 9.95m },
    ],
};

LoyaltyEvent[] events =
[
    new SignedUp
    {
        Id = new EventId("evt-1"), Tenant = tenant, OccurredAt = now - Duration.FromDays(3), Channel = Channel.Web,
        Identifiers = [email], Profile = new ProfileData { GivenName = "Jane", FamilyName = "Doe", Locale = "fr-FR" },
    },
    new Interaction
    {
        Id = new EventId("evt-2"), Tenant = tenant, OccurredAt = now - Duration.FromDays(2), Channel = Channel.App,
        Identifiers = [device], InteractionKind = InteractionKind.AppVisit, // anonymous: nobody knows this device yet
    },
    order, // phone + e-mail + device: links the phone, and merges the device's customer into Jane
    new OrderReturned
    {
        Id = new EventId("evt-4"), Tenant = tenant, OccurredAt = now - Duration.FromHours(2), Channel = Channel.Pos,
        Identifiers = [phone], OrderId = "pos-1001", ReturnId = "ret-1", RefundAmount = 9.95m,
        Lines = [new OrderLineQuantity { LineId = "2", Quantity = 1 }], // one pair of socks back
    },
    order, // the till retries: same event id, so nothing changes
];

foreach (var e in events)
{
    var result = await engine.IngestAsync(e);
    var what = result switch
    {
        { Outcome: IngestOutcome.Duplicate } => "duplicate, nothing changed",
        { NewCustomer: true } => "new customer",
        { Merged.Count: > 0 } => $"merged {string.Join(", ", result.Merged)} into it",
        _ => "known customer",
    };
    Console.WriteLine($"{e.Kind} {e.Id} -> {result.Customer} ({what}), {result.PointsPosted:+0;-0;0} points" +
        string.Concat(result.Segments.Select(s => $", {(s.Entered ? "entered" : "left")} {s.Segment}")));
    foreach (var d in result.Decisions)
    {
        Console.WriteLine($"    {d.Capability}.{d.Action} by {d.Rule}: {d.Summary}");
    }
}

// Look Jane up by any identifier she used, as it was sent: it is normalized the same way.
var jane = await engine.ResolveAsync(tenant, email) ?? throw new InvalidOperationException("Nobody holds Jane's e-mail.");
var customer = await engine.GetCustomerAsync(tenant, jane) ?? throw new InvalidOperationException($"{jane} is unknown.");
Console.WriteLine($"\nCustomer {customer.Identity.Customer}, first seen {customer.Identity.FirstSeen}");
foreach (var link in customer.Identity.Links)
{
    Console.WriteLine($"    {link.Identifier} (linked by {link.Source}, rule {link.Rule})");
}

var profile = customer.Profile!;
var traits = profile.Traits;
Console.WriteLine($"Profile: {profile.GivenName} {profile.FamilyName}, {profile.Locale}, signed up {profile.SignedUpAt}");
Console.WriteLine($"Traits: {traits.Orders} order(s), gross {traits.GrossSpend} EUR, returned {traits.ReturnedValue} EUR, " +
    $"net {traits.NetSpend} EUR, {traits.Returns} return(s), {traits.Interactions} interaction(s), last channel {traits.LastChannel}");

Console.WriteLine("\nDecision trail:");
foreach (var d in await engine.GetDecisionTrailAsync(tenant, customer.Identity.Customer))
{
    Console.WriteLine($"    {d.CausedBy}: {d.Capability}.{d.Action} ({d.Rule} v{d.RuleVersion}) {d.Summary}");
}
