using System.Globalization;
using Loyalty.Sdk.Events;
using MathNet.Numerics.Distributions;
using NodaTime;

namespace Loyalty.Sdk.Simulation;

/// <summary>Settings of a synthetic shop.</summary>
public sealed record ShopSettings
{
    /// <summary>Number of real people.</summary>
    public int Customers { get; init; } = 10_000;

    /// <summary>Length of the simulated history.</summary>
    public int Days { get; init; } = 365;

    /// <summary>Random seed; the same seed gives the same shop.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>The tenant of every event.</summary>
    public TenantId Tenant { get; init; } = new("acme");

    /// <summary>First day of the history.</summary>
    public LocalDate Start { get; init; } = new(2025, 1, 1);
}

/// <summary>The truth about one synthetic person, kept so the report can score the engine.</summary>
public sealed record SimPerson
{
    /// <summary>Index in the population.</summary>
    public required int Index { get; init; }

    /// <summary>Purchases per day while active (heterogeneous, gamma distributed).</summary>
    public required double PurchaseRate { get; init; }

    /// <summary>Probability of dropping out after each purchase (beta distributed).</summary>
    public required double DropoutProbability { get; init; }

    /// <summary>When the person silently stopped buying, if they did within the history.</summary>
    public Instant? ChurnedAt { get; init; }

    /// <summary>Orders placed.</summary>
    public int Orders { get; set; }

    /// <summary>Every identifier value the person used, by type (before normalization).</summary>
    public HashSet<Identifier> Identifiers { get; } = [];
}

/// <summary>A generated shop: events in time order (with some re-sent duplicates) and the truth.</summary>
/// <param name="Settings">The settings.</param>
/// <param name="Events">The events, sorted by occurred-at.</param>
/// <param name="People">The people.</param>
/// <param name="PersonOfEvent">For every event id, the index of the person who caused it.</param>
/// <param name="End">The end of the history.</param>
public sealed record GeneratedShop(ShopSettings Settings, IReadOnlyList<LoyaltyEvent> Events, IReadOnlyList<SimPerson> People, IReadOnlyDictionary<EventId, int> PersonOfEvent, Instant End)
{
    /// <summary>Events that are re-sends of an earlier event id (the engine must treat them as duplicates).</summary>
    public int ResentDuplicates { get; init; }
}

/// <summary>
/// Generates a deterministic synthetic shop realistic enough for every capability to find something true: people buy
/// at their own rate and may silently stop (gamma-distributed rates, beta-distributed dropout, as in BG/NBD), use
/// several identifiers across web, app and store (some start as an anonymous device, some share a household phone,
/// some mistype their e-mail at the till), give consent choices, have a birthday, a time zone and channel habits; orders
/// have categories and some are returned or cancelled.
/// </summary>
public static class ShopGenerator
{
    /// <summary>Some repeat orders pay part with points (decided by a hash of the order id so the random stream, and so the
    /// rest of the shop, stays the same); the ledger redeems what is spendable.</summary>
    private static long PointsToRedeem(string orderId, int sequence)
    {
        if (sequence < 3)
        {
            return 0;
        }

        uint hash = 2166136261;
        foreach (var c in orderId)
        {
            hash = unchecked((hash ^ c) * 16777619);
        }

        return (hash % 100) switch { < 6 => 500, < 10 => 1000, _ => 0 };
    }

    private static readonly string[] Categories = ["apparel", "shoes", "beauty", "home", "electronics", "books", "grocery", "toys"];
    private static readonly decimal[] CategoryPrice = [39m, 79m, 24m, 45m, 149m, 16m, 9m, 29m];
    private static readonly string[] GivenNames = ["emma", "louis", "jade", "gabriel", "louise", "leo", "alice", "raphael", "chloe", "arthur", "lina", "jules", "mia", "adam", "rose", "lucas", "anna", "hugo", "lea", "noah", "sarah", "tom", "ines", "paul"];
    private static readonly string[] FamilyNames = ["martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand", "leroy", "moreau", "simon", "laurent", "lefebvre", "michel", "garcia", "david", "bertrand", "roux", "vincent", "fournier", "morel", "girard", "andre", "mercier"];
    private static readonly string[] Domains = ["gmail.com", "yahoo.fr", "orange.fr", "outlook.com", "free.fr", "hotmail.com"];
    private static readonly (string Zone, string Locale, string Country, double Weight)[] Zones =
    [
        ("Europe/Paris", "fr-FR", "FR", 0.75), ("Europe/Brussels", "fr-BE", "BE", 0.10), ("Europe/London", "en-GB", "GB", 0.08), ("America/New_York", "en-US", "US", 0.07),
    ];

    /// <summary>Generates the shop for <paramref name="settings"/>.</summary>
    public static GeneratedShop Generate(ShopSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.Customers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.Days);
        var random = new Random(settings.Seed);
        var start = settings.Start.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
        var end = start + Duration.FromDays(settings.Days);
        var rates = new Gamma(1.1, 45.0, random); // shape, rate: mean ≈ one purchase every 41 days
        var dropout = new Beta(1.2, 7.0, random);
        var events = new List<(LoyaltyEvent Event, int Person)>();
        var people = new List<SimPerson>(settings.Customers);
        var phones = new List<string>();

        for (var i = 0; i < settings.Customers; i++)
        {
            var builder = new PersonBuilder(settings, random, i, start, end, phones);
            var person = builder.Build(rates.Sample(), dropout.Sample());
            people.Add(person);
            events.AddRange(builder.Events.Select(e => (e, i)));
        }

        // Some sources re-send events (at-least-once delivery): the same id a little later.
        var resent = 0;
        var count = events.Count;
        for (var k = 0; k < count; k++)
        {
            if (random.NextDouble() < 0.01)
            {
                var (e, p) = events[k];
                var later = e.OccurredAt + Duration.FromMinutes(random.Next(1, 120));
                if (later < end)
                {
                    events.Add((e, p));
                    resent++;
                }
            }
        }

        events.Sort((a, b) => a.Event.OccurredAt != b.Event.OccurredAt
            ? a.Event.OccurredAt.CompareTo(b.Event.OccurredAt)
            : string.CompareOrdinal(a.Event.Id.Value, b.Event.Id.Value));
        var personOfEvent = new Dictionary<EventId, int>();
        foreach (var (e, p) in events)
        {
            personOfEvent[e.Id] = p;
        }

        return new GeneratedShop(settings, events.Select(e => e.Event).ToArray(), people, personOfEvent, end) { ResentDuplicates = resent };
    }

    private sealed class PersonBuilder(ShopSettings settings, Random random, int index, Instant start, Instant end, List<string> phones)
    {
        private readonly List<LoyaltyEvent> events = [];
        private int sequence;
        private DateTimeZone zone = DateTimeZone.Utc;

        public List<LoyaltyEvent> Events => events;

        public SimPerson Build(double ratePerDay, double dropoutProbability)
        {
            var given = GivenNames[random.Next(GivenNames.Length)];
            var family = FamilyNames[random.Next(FamilyNames.Length)];
            var z = PickZone();
            zone = DateTimeZoneProviders.Tzdb[z.Zone];
            var email = random.NextDouble() < 0.92 ? $"{given}.{family}{index}@{Domains[random.Next(Domains.Length)]}" : null;
            string? phone = null;
            if (random.NextDouble() < 0.65)
            {
                // A few households share one phone number.
                phone = phones.Count > 0 && random.NextDouble() < 0.05
                    ? phones[random.Next(phones.Count)]
                    : NewMobile();
                phones.Add(phone);
            }

            var card = random.NextDouble() < 0.55 ? string.Create(CultureInfo.InvariantCulture, $"LC{index:D8}{random.Next(10, 99)}") : null;
            var ecom = random.NextDouble() < 0.7 ? $"ecom-{index}" : null;
            var pos = random.NextDouble() < 0.45 ? $"pos-{index}" : null;
            var device = random.NextDouble() < 0.45 ? $"dev-{index:x}-{random.Next():x}" : null;
            if (email is null && phone is null && card is null)
            {
                card = $"LC{index:D8}00";
            }

            var favourite = new[] { random.Next(Categories.Length), random.Next(Categories.Length) };
            var channelWeights = device is null ? new[] { 0.55, 0.0, 0.45 } : new[] { 0.3, 0.45, 0.25 };
            var person = new SimPerson { Index = index, PurchaseRate = ratePerDay, DropoutProbability = dropoutProbability };
            void Use(Identifier id) => person.Identifiers.Add(id);

            var joined = start + Duration.FromDays(random.NextDouble() * settings.Days * 0.7);
            var loggedInApp = false;

            List<Identifier> Ids(Channel channel, Instant at)
            {
                var ids = new List<Identifier>();
                switch (channel)
                {
                    case Channel.Web:
                        if (email is not null)
                        {
                            ids.Add(new Identifier(IdentifierType.Email, random.NextDouble() < 0.1 ? email.ToUpperInvariant() : email));
                        }

                        if (ecom is not null)
                        {
                            ids.Add(new Identifier(IdentifierType.EcomCustomerId, ecom));
                        }

                        break;
                    case Channel.App:
                        ids.Add(new Identifier(IdentifierType.DeviceId, device!));
                        if (loggedInApp && email is not null)
                        {
                            ids.Add(new Identifier(IdentifierType.Email, email));
                        }

                        break;
                    default:
                        if (card is not null)
                        {
                            ids.Add(new Identifier(IdentifierType.LoyaltyCard, card));
                        }

                        if (phone is not null && random.NextDouble() < 0.5)
                        {
                            ids.Add(new Identifier(IdentifierType.Phone, random.NextDouble() < 0.5 ? phone : "0" + phone[3..]));
                        }

                        if (email is not null && random.NextDouble() < 0.4)
                        {
                            // A hurried cashier sometimes mistypes the address.
                            ids.Add(new Identifier(IdentifierType.Email, random.NextDouble() < 0.08 ? Typo(email) : email));
                        }

                        if (pos is not null)
                        {
                            ids.Add(new Identifier(IdentifierType.PosCustomerId, pos));
                        }

                        if (random.NextDouble() < 0.01)
                        {
                            ids.Add(new Identifier(IdentifierType.Phone, "0000000000"));
                        }

                        break;
                }

                if (ids.Count == 0 || ids.TrueForAll(i => i.Value == "0000000000"))
                {
                    ids.Add(email is not null ? new Identifier(IdentifierType.Email, email) : card is not null ? new Identifier(IdentifierType.LoyaltyCard, card) : new Identifier(IdentifierType.Phone, phone!));
                }

                foreach (var id in ids)
                {
                    Use(id);
                }

                return ids;
            }

            // Some app users browse anonymously before they ever log in.
            if (device is not null && random.NextDouble() < 0.5)
            {
                var visits = random.Next(1, 4);
                for (var v = 0; v < visits; v++)
                {
                    var at = joined - Duration.FromDays(random.NextDouble() * 10);
                    if (at > start)
                    {
                        Add(new Interaction { Id = NextId(), Tenant = settings.Tenant, OccurredAt = LocalTime(at), Channel = Channel.App, InteractionKind = InteractionKind.AppVisit, Identifiers = Ids(Channel.App, at) });
                    }
                }
            }

            loggedInApp = true;
            var signUpChannel = Pick(channelWeights);
            if (random.NextDouble() < 0.75)
            {
                var profile = new ProfileData
                {
                    GivenName = Capitalize(given),
                    FamilyName = Capitalize(family),
                    BirthDate = new LocalDate(1950, 1, 1).PlusDays(random.Next(0, 365 * 55)),
                    TimeZone = z.Zone,
                    Locale = z.Locale,
                    Address = new PostalAddress { Line1 = $"{random.Next(1, 200)} rue {Capitalize(FamilyNames[random.Next(FamilyNames.Length)])}", City = "Paris", PostalCode = $"750{random.Next(1, 21):D2}", Country = z.Country },
                };
                var ids = Ids(signUpChannel, joined);
                if (phone is not null && signUpChannel != Channel.Pos)
                {
                    ids.Add(new Identifier(IdentifierType.Phone, phone));
                    Use(ids[^1]);
                }

                Add(new SignedUp { Id = NextId(), Tenant = settings.Tenant, OccurredAt = joined, Channel = signUpChannel, Identifiers = ids, Profile = profile });
                foreach (var (channel, p) in new[] { (ContactChannel.Email, 0.62), (ContactChannel.Sms, 0.33), (ContactChannel.Push, 0.4) })
                {
                    if ((channel == ContactChannel.Email && email is null) || (channel == ContactChannel.Sms && phone is null) || (channel == ContactChannel.Push && device is null))
                    {
                        continue;
                    }

                    Add(new ConsentChanged
                    {
                        Id = NextId(), Tenant = settings.Tenant, OccurredAt = joined + Duration.FromSeconds(30), Channel = signUpChannel, Identifiers = Ids(signUpChannel, joined),
                        ContactChannel = channel, Purpose = ConsentPurpose.Marketing, Status = random.NextDouble() < p ? ConsentStatus.Granted : ConsentStatus.Denied, Source = signUpChannel == Channel.Pos ? "pos" : "form", WordingVersion = "2025-01",
                    });
                }
            }

            // Purchases: a Poisson process at the person's own rate, with a chance of silently dropping out after each.
            var t = joined;
            Instant? churnedAt = null;
            while (t < end)
            {
                var channel = Pick(channelWeights);
                PlaceOrder(person, favourite, channel, t, Ids);
                if (random.NextDouble() < dropoutProbability)
                {
                    churnedAt = t;
                    break;
                }

                t += Duration.FromDays(Exponential.Sample(random, ratePerDay));
            }

            if (random.NextDouble() < 0.1)
            {
                var at = joined + Duration.FromDays(random.NextDouble() * settings.Days);
                if (at < end)
                {
                    Add(new ProfileUpdated { Id = NextId(), Tenant = settings.Tenant, OccurredAt = at, Channel = Channel.Web, Identifiers = Ids(Channel.Web, at), Profile = new ProfileData { Address = new PostalAddress { Line1 = $"{random.Next(1, 90)} avenue Foch", City = "Lyon", PostalCode = "69006", Country = "FR" } } });
                }
            }

            return person with { ChurnedAt = churnedAt };
        }

        private void PlaceOrder(SimPerson person, int[] favourite, Channel channel, Instant at, Func<Channel, Instant, List<Identifier>> ids)
        {
            at = LocalTime(at);
            if (at >= end)
            {
                return;
            }

            person.Orders++;
            if (channel != Channel.Pos && random.NextDouble() < 0.5)
            {
                var visit = at - Duration.FromMinutes(random.Next(5, 600));
                Add(new Interaction { Id = NextId(), Tenant = settings.Tenant, OccurredAt = visit, Channel = channel, InteractionKind = channel == Channel.App ? InteractionKind.AppVisit : InteractionKind.SiteVisit, Identifiers = ids(channel, visit) });
            }

            if (channel != Channel.Pos && random.NextDouble() < 0.15)
            {
                var cartAt = at - Duration.FromHours(random.Next(2, 72));
                Add(new CartAbandoned { Id = NextId(), Tenant = settings.Tenant, OccurredAt = cartAt, Channel = channel, Identifiers = ids(channel, cartAt), CartId = $"cart-{person.Index}-{sequence}", Currency = Currency.Eur, Value = Math.Round((decimal)(20 + random.NextDouble() * 150), 2) });
            }

            var usd = channel == Channel.Web && random.NextDouble() < 0.03;
            var lineCount = random.NextDouble() switch { < 0.55 => 1, < 0.85 => 2, _ => 3 };
            var lines = new List<OrderLine>();
            for (var l = 0; l < lineCount; l++)
            {
                var cat = random.NextDouble() < 0.7 ? favourite[random.Next(2)] : random.Next(Categories.Length);
                var price = decimal.Round(CategoryPrice[cat] * (decimal)LogNormal.Sample(random, -0.1, 0.45), 2);
                var gift = random.NextDouble() < 0.02;
                lines.Add(new OrderLine
                {
                    LineId = $"L{l + 1}",
                    Sku = gift ? "GIFT-CARD-50" : $"SKU-{Categories[cat]}-{random.Next(1, 60):D3}",
                    Category = gift ? "gift_card" : Categories[cat],
                    Quantity = random.NextDouble() switch { < 0.85 => 1, < 0.97 => 2, _ => 3 },
                    UnitPrice = gift ? 50m : Math.Max(1m, price),
                    LineKind = gift ? OrderLineKind.GiftCard : OrderLineKind.Product,
                });
            }

            var subtotal = lines.Sum(l => l.LineTotal);
            var discount = random.NextDouble() < 0.1 ? decimal.Round(subtotal * 0.1m, 2) : 0m;
            var shipping = channel != Channel.Pos && subtotal < 50m ? 4.90m : 0m;
            var orderId = $"O-{person.Index}-{sequence}";
            var placed = new OrderPlaced
            {
                Id = NextId(), Tenant = settings.Tenant, OccurredAt = at, Channel = channel, Identifiers = ids(channel, at),
                OrderId = orderId, Currency = usd ? Currency.Usd : Currency.Eur, Lines = lines, Discount = discount, Shipping = shipping, Total = subtotal - discount + shipping,
                PointsRedeemed = PointsToRedeem(orderId, sequence),
                StoreId = channel == Channel.Pos ? $"store-{random.Next(1, 25):D2}" : null,
            };
            Add(placed);

            var outcome = random.NextDouble();
            if (outcome < 0.02 && channel != Channel.Pos)
            {
                var cancelAt = at + Duration.FromHours(random.Next(1, 12));
                Add(new OrderCancelled { Id = NextId(), Tenant = settings.Tenant, OccurredAt = cancelAt, Channel = channel, Identifiers = ids(channel, cancelAt), OrderId = orderId });
                return;
            }

            var completedAt = at + (channel == Channel.Pos ? Duration.FromMinutes(1) : Duration.FromDays(random.Next(2, 6)));
            Add(new OrderCompleted { Id = NextId(), Tenant = settings.Tenant, OccurredAt = completedAt, Channel = channel, Identifiers = ids(channel, completedAt), OrderId = orderId });
            if (outcome < 0.10)
            {
                var returnAt = completedAt + Duration.FromDays(random.Next(1, 25));
                var partial = lines.Count > 1 && random.NextDouble() < 0.6;
                Add(new OrderReturned
                {
                    Id = NextId(), Tenant = settings.Tenant, OccurredAt = returnAt, Channel = Channel.Pos, Identifiers = ids(Channel.Pos, returnAt), OrderId = orderId, ReturnId = $"R-{orderId}",
                    Lines = partial ? [new OrderLineQuantity { LineId = lines[0].LineId, Quantity = lines[0].Quantity }] : [],
                });
            }

            if (random.NextDouble() < 0.3)
            {
                var openAt = completedAt + Duration.FromHours(random.Next(1, 48));
                Add(new Interaction { Id = NextId(), Tenant = settings.Tenant, OccurredAt = openAt, Channel = Channel.Email, InteractionKind = random.NextDouble() < 0.3 ? InteractionKind.MessageClicked : InteractionKind.MessageOpened, MessageId = $"msg-{orderId}", Identifiers = ids(Channel.Web, openAt) });
            }

            if (random.NextDouble() < 0.1)
            {
                var reviewAt = completedAt + Duration.FromDays(random.Next(2, 20));
                Add(new ReviewSubmitted { Id = NextId(), Tenant = settings.Tenant, OccurredAt = reviewAt, Channel = Channel.Web, Identifiers = ids(Channel.Web, reviewAt), Sku = lines[0].Sku, Rating = random.NextDouble() < 0.8 ? random.Next(4, 6) : random.Next(1, 4) });
            }

            if (random.NextDouble() < 0.03)
            {
                var ticketAt = completedAt + Duration.FromDays(random.Next(1, 10));
                var ticket = $"T-{orderId}";
                Add(new SupportTicket { Id = NextId(), Tenant = settings.Tenant, OccurredAt = ticketAt, Channel = Channel.CallCenter, Identifiers = ids(Channel.Web, ticketAt), TicketId = ticket, Status = TicketStatus.Opened });
                Add(new SupportTicket { Id = NextId(), Tenant = settings.Tenant, OccurredAt = ticketAt + Duration.FromDays(2), Channel = Channel.CallCenter, Identifiers = ids(Channel.Web, ticketAt), TicketId = ticket, Status = TicketStatus.Closed, Satisfaction = random.Next(1, 6) });
            }

            if (channel == Channel.Pos && random.NextDouble() < 0.2)
            {
                Add(new CustomEvent
                {
                    Id = NextId(), Tenant = settings.Tenant, OccurredAt = at - Duration.FromMinutes(20), Channel = Channel.Pos, Identifiers = ids(Channel.Pos, at), Name = "store_checkin",
                    Properties = new Dictionary<string, System.Text.Json.JsonElement> { ["store_id"] = System.Text.Json.JsonSerializer.SerializeToElement(placed.StoreId!, Serialization.LoyaltyJsonContextForSimulation.Default.String) },
                });
            }
        }

        private void Add(LoyaltyEvent e)
        {
            if (e.OccurredAt < end && e.OccurredAt >= start)
            {
                events.Add(e);
            }
        }

        private EventId NextId() => new(string.Create(CultureInfo.InvariantCulture, $"e{settings.Seed}-{index}-{sequence++}"));

        // Shifts an instant to a plausible local shopping hour (09:00–21:00) in the person's zone, same local day.
        private Instant LocalTime(Instant at)
        {
            var local = at.InZone(zone).Date;
            var time = new LocalTime(9, 0).PlusMinutes(random.Next(0, 12 * 60));
            return zone.AtLeniently(local + time).ToInstant();
        }

        private Channel Pick(double[] weights)
        {
            var x = random.NextDouble() * weights.Sum();
            for (var i = 0; i < weights.Length; i++)
            {
                x -= weights[i];
                if (x < 0)
                {
                    return i switch { 0 => Channel.Web, 1 => Channel.App, _ => Channel.Pos };
                }
            }

            return Channel.Web;
        }

        private (string Zone, string Locale, string Country, double Weight) PickZone()
        {
            var x = random.NextDouble();
            foreach (var z in Zones)
            {
                x -= z.Weight;
                if (x < 0)
                {
                    return z;
                }
            }

            return Zones[0];
        }

        // A French mobile number that the phone-number metadata accepts.
        private string NewMobile()
        {
            while (true)
            {
                var candidate = string.Create(CultureInfo.InvariantCulture, $"+336{random.Next(10_000_000, 99_999_999)}");
                if (Identity.IdentifierNormalizer.Normalize(new Identifier(IdentifierType.Phone, candidate), "FR").Identifier is not null)
                {
                    return candidate;
                }
            }
        }

        private string Typo(string email)
        {
            var at = email.IndexOf('@', StringComparison.Ordinal);
            var i = random.Next(0, Math.Max(1, at - 1));
            var chars = email.ToCharArray();
            (chars[i], chars[i + 1]) = (chars[i + 1], chars[i]);
            var typo = new string(chars);
            return typo == email ? "x" + email : typo;
        }

        private static string Capitalize(string s) => char.ToUpperInvariant(s[0]) + s[1..];
    }
}
