using System.Globalization;
using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Benchmarks;

/// <summary>
/// A deterministic stream of retail events for one tenant. Customer <c>i</c> owns an e-mail address, a French mobile
/// number and a loyalty card, all derived from <c>i</c>; a customer is "known" once <see cref="SignUp"/> and
/// <see cref="WebOrder"/> (or a <see cref="NextOrder"/> that created them) were ingested.
/// </summary>
/// <remarks>
/// Every string an event carries is a fresh instance, as a JSON reader would produce, so that the memory the store
/// retains per customer is not flattered by shared literals.
/// </remarks>
public sealed class OrderWorkload
{
    private static readonly string[] Categories = ["shoes", "apparel", "accessories", "beauty", "home", "sport", "kids", "grocery"];
    private static readonly string[] GivenNames = ["Camille", "Léa", "Louis", "Hugo", "Chloé", "Jules", "Manon", "Lucas", "Inès", "Gabriel"];
    private static readonly string[] FamilyNames = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"];
    private static readonly (string Sku, string Category, decimal Price)[] Catalog = BuildCatalog(400);

    private readonly Random random;
    private readonly double newCustomerShare;
    private long sequence;

    /// <summary>Creates a workload.</summary>
    /// <param name="knownCustomers">Customers 0 .. knownCustomers-1 are assumed to be ingested already.</param>
    /// <param name="newCustomerShare">Share of <see cref="NextOrder"/> events placed by a customer never seen.</param>
    /// <param name="seed">Seed of the pseudo-random choices.</param>
    public OrderWorkload(int knownCustomers = 0, double newCustomerShare = 0.3, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(knownCustomers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(knownCustomers, MaxCustomers);
        KnownCustomers = knownCustomers;
        this.newCustomerShare = newCustomerShare;
#pragma warning disable CA5394 // Not security sensitive: a reproducible benchmark workload.
        random = new Random(seed);
#pragma warning restore CA5394
    }

    /// <summary>The largest number of distinct customers (phone numbers stay valid French mobiles below it).</summary>
    public const int MaxCustomers = 30_000_000;

    /// <summary>The tenant of every event.</summary>
    public static TenantId Tenant { get; } = new("acme");

    /// <summary>When the first event happens; each next event is one second later.</summary>
    public static Instant Epoch { get; } = Instant.FromUtc(2025, 1, 1, 0, 0);

    /// <summary>An engine clock after every event the workload can produce (≈ 120 million events).</summary>
    public static Instant ClockNow { get; } = Instant.FromUtc(2029, 1, 1, 0, 0);

    /// <summary>Customers created so far (indexes 0 .. KnownCustomers-1).</summary>
    public int KnownCustomers { get; private set; }

    /// <summary>Events produced so far.</summary>
    public long Produced => sequence;

    /// <summary>A sign-up on the web with the customer's e-mail and loyalty card.</summary>
    public SignedUp SignUp(int customer) => new()
    {
        Id = NextEventId(),
        Tenant = Tenant,
        OccurredAt = NextInstant(),
        Channel = Channel.Web,
        Identifiers = [Email(customer, mixedCase: false), Card(customer)],
        Profile = new ProfileData
        {
            GivenName = Fresh(GivenNames[customer % GivenNames.Length]),
            FamilyName = Fresh(FamilyNames[customer / GivenNames.Length % FamilyNames.Length]),
            Locale = Fresh("fr-FR"),
        },
    };

    /// <summary>A web order with e-mail and phone (the first one links the phone to the signed-up customer).</summary>
    public OrderPlaced WebOrder(int customer) =>
        Order(Channel.Web, [Email(customer, mixedCase: false), PhoneE164(customer)]);

    /// <summary>
    /// The next order: by a new customer with probability <c>newCustomerShare</c>, else by a known one. Half at the POS
    /// (loyalty card + phone as typed at the till, sometimes the e-mail), 35% on the web (e-mail + phone), 15% in the
    /// app (e-mail + phone + a device id never seen, which gets linked).
    /// </summary>
    public OrderPlaced NextOrder()
    {
#pragma warning disable CA5394 // Not security sensitive: a reproducible benchmark workload.
        var isNew = KnownCustomers == 0 || random.NextDouble() < newCustomerShare;
        var customer = isNew ? KnownCustomers++ : random.Next(KnownCustomers);
        var roll = random.Next(100);
        var mixedCase = random.Next(5) == 0;
#pragma warning restore CA5394
        if (KnownCustomers > MaxCustomers)
        {
            throw new InvalidOperationException($"The workload supports at most {MaxCustomers} customers.");
        }

        return roll switch
        {
            < 25 => Order(Channel.Pos, [Card(customer), PhoneNational(customer)]),
            < 50 => Order(Channel.Pos, [Card(customer), PhoneNational(customer), Email(customer, mixedCase)]),
            < 85 => Order(Channel.Web, [Email(customer, mixedCase), PhoneE164(customer)]),
            _ => Order(Channel.App, [Email(customer, mixedCase), PhoneE164(customer), Device()]),
        };
    }

    /// <summary>Makes customers 0 .. count-1 known (the caller ingests their <see cref="SignUp"/> and
    /// <see cref="WebOrder"/>).</summary>
    public void MarkKnown(int count) => KnownCustomers = Math.Max(KnownCustomers, count);

    private OrderPlaced Order(Channel channel, Identifier[] identifiers)
    {
#pragma warning disable CA5394 // Not security sensitive: a reproducible benchmark workload.
        var lineCount = random.Next(2, 4);
        var lines = new OrderLine[lineCount];
        var subtotal = 0m;
        for (var i = 0; i < lineCount; i++)
        {
            var (sku, category, price) = Catalog[random.Next(Catalog.Length)];
            var quantity = random.Next(1, 3);
            lines[i] = new OrderLine
            {
                LineId = (i + 1).ToString(CultureInfo.InvariantCulture),
                Sku = Fresh(sku),
                Category = Fresh(category),
                Quantity = quantity,
                UnitPrice = price,
            };
            subtotal += quantity * price;
        }
#pragma warning restore CA5394

        var discount = subtotal >= 100m ? 10m : 0m;
        var shipping = channel == Channel.Pos ? 0m : 4.90m;
        var id = NextEventId();
        return new OrderPlaced
        {
            Id = id,
            Tenant = Tenant,
            OccurredAt = NextInstant(),
            Channel = channel,
            Identifiers = identifiers,
            OrderId = "ord-" + id.Value[4..],
            Currency = Currency.Eur,
            Lines = lines,
            Discount = discount,
            Shipping = shipping,
            Total = subtotal - discount + shipping,
            StoreId = channel == Channel.Pos ? Fresh("store-042") : null,
        };
    }

    private static Identifier Email(int customer, bool mixedCase) => new(
        IdentifierType.Email,
        mixedCase ? $" Customer.{customer}@Example.COM" : $"customer.{customer}@example.com");

    private static Identifier Card(int customer) => new(IdentifierType.LoyaltyCard, $"LC{customer:D10}");

    // French mobile numbers 06 00 00 00 00 and up: the web sends E.164, the till what the cashier typed.
    private static Identifier PhoneE164(int customer) => new(IdentifierType.Phone, $"+336{customer:D8}");

    private static Identifier PhoneNational(int customer)
    {
        var digits = (600_000_000 + customer).ToString("D9", CultureInfo.InvariantCulture);
        return new(IdentifierType.Phone, $"0{digits[0]} {digits[1..3]} {digits[3..5]} {digits[5..7]} {digits[7..9]}");
    }

    private Identifier Device() => new(IdentifierType.DeviceId, $"ios-{sequence:x8}");

    private EventId NextEventId() => new($"evt-{++sequence:D10}");

    private Instant NextInstant() => Epoch + Duration.FromSeconds(sequence);

    private static string Fresh(string value) => new(value.AsSpan());

    private static (string, string, decimal)[] BuildCatalog(int size)
    {
        var catalog = new (string, string, decimal)[size];
        for (var i = 0; i < size; i++)
        {
            // Prices from 4.99 to 129.99, in whole euros minus one cent.
            catalog[i] = ($"SKU-{i:D6}", Categories[i % Categories.Length], 4.99m + (i * 37 % 126));
        }

        return catalog;
    }
}
