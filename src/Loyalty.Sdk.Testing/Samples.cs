using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Journeys;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Predictive;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Segments;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Testing;

/// <summary>Builders of valid records for the port suites; every field that a store must keep is set to a value that
/// is not the default, so that a store that drops a field fails the round trip.</summary>
internal static class Samples
{
    public static readonly Instant T0 = Instant.FromUtc(2025, 3, 3, 9, 0);

    public static Instant At(int minutes) => T0 + Duration.FromMinutes(minutes);

    public static CustomerId Customer(string id) => new(id);

    public static Identifier Email(string value) => new(IdentifierType.Email, value);

    public static Identifier Phone(string value) => new(IdentifierType.Phone, value);

    public static Identifier Device(string value) => new(IdentifierType.DeviceId, value);

    // --- Core ---

    public static ProcessedEvent Processed(string eventId, CustomerId? customer, int minute = 0) => new(new EventId(eventId), customer, At(minute));

    public static IdentityLink Link(Identifier identifier, string source = "evt-1", int minute = 0, string rule = "identity.new_customer") =>
        new(identifier, new EventId(source), At(minute), rule);

    public static CustomerIdentity IdentityOf(CustomerId customer, params Identifier[] identifiers) => new()
    {
        Customer = customer,
        FirstSeen = At(-60),
        Links = [.. identifiers.Select((i, n) => Link(i, $"evt-{customer.Value}-{n}", n))],
    };

    /// <summary>An identity with every optional part: a merge carrying the absorbed customer's profile, a split and a
    /// protection.</summary>
    public static CustomerIdentity RichIdentity(CustomerId customer, CustomerId absorbed) => new()
    {
        Customer = customer,
        FirstSeen = At(-600),
        Links =
        [
            Link(Email("rich@conformance.example"), "evt-r1", 1),
            Link(Phone("+33612345678"), "evt-r2", 2, "identity.co_occurrence"),
            Link(Device("dev-Rich-01"), "evt-r3", 3, "identity.merge_on_shared_event"),
        ],
        Evidence =
        [
            new LinkEvidence(new EventId("evt-r2"), [Email("rich@conformance.example"), Phone("+33612345678")], At(2), "identity.co_occurrence"),
            new LinkEvidence(new EventId("evt-r3"), [Phone("+33612345678"), Device("dev-Rich-01")], At(3), "identity.merge_on_shared_event"),
        ],
        Merges =
        [
            new MergeRecord(absorbed, customer, new EventId("evt-r3"), At(3), "identity.merge_on_shared_event")
            {
                AbsorbedLinks = [Link(Device("dev-Rich-01"), "evt-r0", -5)],
                AbsorbedFirstSeen = At(-5),
                AbsorbedMerges = [new MergeRecord(new CustomerId("cus-older"), absorbed, new EventId("evt-r00"), At(-4), "identity.co_occurrence")],
                AbsorbedProfile = Profile(absorbed, "Absorbed"),
                Actor = "staff-7",
            },
        ],
        Splits = [new SplitRecord(new CustomerId("cus-split-off"), [Email("old@conformance.example")], "split", "staff-7", "Shared family address", At(4)) { Removed = Email("old@conformance.example") }],
        Protection = new ProtectionRecord("staff-8", "VIP account", At(5)),
    };

    public static CustomerProfile Profile(CustomerId customer, string givenName = "Ada") => new()
    {
        Customer = customer,
        FirstSeen = At(-600),
        LastSeen = At(30),
        GivenName = givenName,
        FamilyName = "Lovelace",
        BirthDate = new LocalDate(1990, 12, 10),
        TimeZone = "Europe/Paris",
        Locale = "fr-FR",
        Address = new PostalAddress { Line1 = "1 rue de la Paix", Line2 = "Bât. B", City = "Paris", PostalCode = "07500", Region = "IDF", Country = "FR" },
        SignedUpAt = At(-500),
        Traits = new CustomerTraits
        {
            Orders = 3, CancelledOrders = 1, Returns = 1, GrossSpend = 312.45m, ReturnedValue = 40.10m, FirstOrderAt = At(-400), LastOrderAt = At(20),
            Interactions = 7, LastInteractionAt = At(25), AbandonedCarts = 2, SupportTickets = 1, Reviews = 4, LastChannel = Channel.Pos,
        },
    };

    public static OrderRecord Order(string orderId, CustomerId customer, int minute = 0) => new()
    {
        OrderId = orderId,
        Customer = customer,
        PlacedAt = At(minute),
        Currency = Currency.Eur,
        Lines =
        [
            new OrderLine { LineId = "l1", Sku = "SKU-1", Category = "shoes", Quantity = 2, UnitPrice = 49.95m },
            new OrderLine { LineId = "l2", Sku = "GC-50", Category = "gifts", Quantity = 1, UnitPrice = 50m, LineKind = OrderLineKind.GiftCard },
        ],
        Identifiers = [Email("buyer@conformance.example"), Device("dev-Buyer-01")],
        ReturnedQuantities = new Dictionary<string, int> { ["l1"] = 1 },
        Total = 144.90m,
        Discount = 5m,
        Completed = true,
        AppliedReturns = ["ret-1"],
    };

    public static Decision Decision(CustomerId customer, int n, string? causedBy = null) => new()
    {
        Capability = Capabilities.Ledger,
        Action = "points_posted",
        Rule = "base-1-per-eur",
        RuleVersion = 3,
        Summary = $"Decision {n} about {customer}.",
        Inputs = new Dictionary<string, string> { ["n"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture), ["order"] = "ord-" + n },
        Customer = customer,
        CausedBy = new EventId(causedBy ?? $"evt-{n}"),
        DecidedAt = At(n),
    };

    public static OutboxMessage Message(string key, CustomerId customer, Instant due, TenantId tenant, string template = "welcome") => new()
    {
        Key = key,
        Tenant = tenant,
        Customer = customer,
        ActionKind = "send_message",
        Channel = Channel.Email,
        Template = template,
        Variables = new Dictionary<string, string> { ["givenName"] = "Ada", ["points"] = "120" },
        DueAt = due,
    };

    // --- Ledger ---

    public const string Points = "points";

    public static LedgerTransfer Earn(CustomerId customer, string id, long amount, int minute = 0, string ledger = Points) => new()
    {
        Id = id,
        Ledger = ledger,
        Debit = LedgerAccount.Program(AccountKind.Issuance),
        Credit = LedgerAccount.Of(customer, AccountKind.Available),
        Amount = amount,
        Kind = TransferKind.Earn,
        At = At(minute),
        BookingDate = At(minute).InUtc().Date,
        CreditLot = id,
        ExpiresAt = At(minute) + Duration.FromDays(365),
        Spend = amount / 2m,
        Reason = new LedgerReason { CommandKey = "cmd-" + id, Rule = "base-1-per-eur", RuleVersion = 1, OrderId = "ord-" + id, EventId = new EventId("evt-" + id), Note = "note " + id },
    };

    public static LedgerTransfer Redeem(CustomerId customer, string id, string lot, long amount, int minute = 0) => new()
    {
        Id = id,
        Ledger = Points,
        Debit = LedgerAccount.Of(customer, AccountKind.Available),
        Credit = LedgerAccount.Program(AccountKind.Redeemed),
        Amount = amount,
        Kind = TransferKind.Redeem,
        At = At(minute),
        BookingDate = At(minute).InUtc().Date,
        DebitLot = lot,
        Reason = new LedgerReason { CommandKey = "cmd-" + id, Actor = "pos-1" },
    };

    public static LedgerTransfer Gift(CustomerId from, CustomerId to, string id, string lot, long amount, int minute = 0) => new()
    {
        Id = id,
        Ledger = Points,
        Debit = LedgerAccount.Of(from, AccountKind.Available),
        Credit = LedgerAccount.Of(to, AccountKind.Available),
        Amount = amount,
        Kind = TransferKind.MemberTransfer,
        At = At(minute),
        BookingDate = At(minute).InUtc().Date,
        DebitLot = lot,
        CreditLot = id,
        Reason = new LedgerReason { CommandKey = "cmd-" + id, Note = "a gift" },
    };

    /// <summary>A state with the transfers folded in, so that balances and lots are consistent with the journal.</summary>
    public static CustomerLedger State(CustomerId customer, IEnumerable<LedgerTransfer> transfers, Instant? nextDue = null)
    {
        var state = new CustomerLedger(customer);
        foreach (var t in transfers)
        {
            state.Apply(t);
        }

        state.NextDueAt = nextDue;
        return state;
    }

    /// <summary>A state with every part set: lots, a reservation, earn buckets, tier status and history.</summary>
    public static (CustomerLedger State, LedgerTransfer[] Transfers) RichState(CustomerId customer)
    {
        var earn = Earn(customer, $"earn-{customer.Value}-1", 500, 1);
        var reserve = new LedgerTransfer
        {
            Id = $"res-{customer.Value}-1",
            Ledger = Points,
            Debit = LedgerAccount.Of(customer, AccountKind.Available),
            Credit = LedgerAccount.Of(customer, AccountKind.Reserved),
            Amount = 120,
            Kind = TransferKind.Reserve,
            At = At(2),
            BookingDate = At(2).InUtc().Date,
            DebitLot = earn.Id,
            CreditLot = earn.Id,
            ReservationId = "basket-77",
            ExpiresAt = At(32),
            Reason = new LedgerReason { CommandKey = "cmd-reserve-1", OrderId = "ord-77" },
        };
        var transfers = new[] { earn, reserve };
        var state = State(customer, transfers, At(32));
        state.Tier = new TierStatus
        {
            Tier = "silver", Since = At(1), ReviewAt = At(60 * 24 * 365), GraceUntil = At(60 * 24 * 400),
            Override = new TierOverride { Tier = "gold", Mode = TierOverrideMode.Floor, Until = At(60 * 24 * 30), Actor = "staff-1", Note = "goodwill" },
        };
        state.TierHistory.Add(new TierChange { From = "bronze", To = "silver", At = At(1), Rule = "tiers.points_earned", Qualifying = 500m, CommandKey = "cmd-earn-1" });
        state.LastActivityAt = At(2);
        state.InactivityExpiresAt = At(60 * 24 * 700);
        state.NoticedThrough = At(10);
        return (state, transfers);
    }

    public static LedgerCommandRecord Command(CustomerId customer, string key, long points = 100) => new(
        new EarnCommand { IdempotencyKey = key, Customer = customer, Ledger = Points, Points = points, Rule = "manual", OrderId = "ord-" + key, Actor = "staff-2", Note = "welcome gift" },
        new LedgerResult
        {
            IdempotencyKey = key,
            Customer = customer,
            Transfers = [Earn(customer, "t-" + key, points)],
            Balances = [new LedgerBalance { Ledger = Points, Available = points, LifetimeEarned = points }],
            Net = points,
            Signals = [new LedgerSignal { Kind = LedgerSignalKind.TierChanged, Customer = customer, Ledger = Points, Points = points, At = T0, Tier = "silver", PreviousTier = "bronze", Key = "sig-" + key }],
        });

    public static LedgerOrder LedgerOrder(string orderId, CustomerId customer) => new()
    {
        OrderId = orderId,
        Customer = customer,
        Ledger = Points,
        Points = 240,
        PointsByLine = new Dictionary<string, long> { ["l1"] = 200, ["l2"] = 40 },
        QuantityByLine = new Dictionary<string, int> { ["l1"] = 2, ["l2"] = 1 },
        ReturnedByLine = new Dictionary<string, int> { ["l1"] = 1 },
        ClawedBack = 100,
        PointsRedeemed = 50,
        PointsRefunded = 10,
        Spend = 144.9m,
        Lots = ["lot-a", "lot-b"],
        PlacedAt = At(1),
        CompletedAt = At(100),
    };

    // --- Consent ---

    public static ConsentRecord ConsentRecord(CustomerId customer, string id, ConsentStatus status = ConsentStatus.Granted, int minute = 0, ContactChannel channel = ContactChannel.Email) => new()
    {
        RecordId = id,
        Customer = customer,
        Channel = channel,
        Purpose = ConsentPurpose.Marketing,
        Status = status,
        LawfulBasis = LawfulBasis.Consent,
        CapturedAt = At(minute),
        EffectiveFrom = At(minute + 1),
        ExpiresAt = At(minute + 60 * 24 * 365),
        Method = ConsentMethod.Form,
        Source = "form-42",
        Wording = new ConsentWording("2025-01", "sha256:abc", "fr-FR"),
        Evidence = new ConsentEvidence { DoubleOptInToken = "tok-" + id, DoubleOptInSentAt = At(minute), DoubleOptInConfirmedAt = At(minute + 5), IpAddress = "192.0.2.1", UserAgent = "Mozilla/5.0" },
        Actor = "customer",
        CausedBy = new EventId("evt-" + id),
    };

    public static SuppressionEntry Suppression(CustomerId customer, SuppressionList list, ContactChannel? channel, string source = "evt-bounce") => new()
    {
        Customer = customer, List = list, Channel = channel, Since = At(3), Source = source,
    };

    public static PreferenceSettings Preferences(CustomerId customer) => new()
    {
        Customer = customer,
        TopicsOptedOut = ["offers", "newsletters"],
        Frequency = DesiredFrequency.WeeklyDigest,
        PausedUntil = new LocalDate(2025, 4, 1),
        TimeZone = "America/New_York",
        Changes = [new PreferenceChange("frequency", "as_it_happens", "weekly", At(2), ConsentMethod.PreferenceCenter, "pc", "customer")],
    };

    public static SendRecord Send(CustomerId customer, string messageId, Instant sentAt) => new()
    {
        MessageId = messageId,
        Customer = customer,
        Channel = ContactChannel.Email,
        MessageClass = "promotional",
        Tags = ["promotions", "spring"],
        SentAt = sentAt,
        CountsTowardCaps = true,
    };

    // --- Segments, predictive, journeys ---

    public static CustomerSegmentState SegmentState(CustomerId customer, Instant? due, params string[] segments)
    {
        var state = new CustomerSegmentState { Customer = customer, DueAt = due };
        for (var i = 0; i < segments.Length; i++)
        {
            state.Memberships[segments[i]] = At(i);
        }

        state.Series["orders:1d"] = new WindowSeriesState
        {
            Buckets = [new WindowBucket { Start = 1_740_960_000_000, Count = 2, Sum = 99.5, Min = 20.25, Max = 79.25 }],
            LastSeen = new Dictionary<string, long>(StringComparer.Ordinal) { ["shoes"] = 1_740_960_000_000 },
        };
        state.Traits = new ComputedTraitState
        {
            Orders = 4,
            Monetary = 412.5,
            FirstOrderMs = 1_700_000_000_000,
            LastOrderMs = 1_740_000_000_000,
            Intervals = 3,
            MeanIntervalDays = 12.25,
            RecentIntervalDays = 9.5,
            WeekendOrders = 2,
            ReactivatedAtMs = 1_730_000_000_000,
            OrdersByChannel = [1, 2, 1, 0, 0, 0, 0, 0],
            Delivered = [0, 0, 0, 5, 0, 0, 0, 0],
            Responded = [0, 0, 0, 2, 0, 0, 0, 0],
            LastEngagementMs = [0, 0, 0, 1_739_000_000_000, 0, 0, 0, 0],
            CategorySpend = new Dictionary<string, double>(StringComparer.Ordinal) { ["shoes"] = 300.5, ["bags"] = 112 },
        };
        return state;
    }

    public static PurchaseHistory History(CustomerId customer, int days = 3) => new()
    {
        Customer = customer,
        FirstPurchase = new LocalDate(2024, 1, 5),
        LastPurchase = new LocalDate(2025, 2, 20),
        PurchaseDays = days,
        FirstDaySpend = 45.5m,
        TotalSpend = 210.75m,
        LateOrders = 1,
    };

    public static PredictiveModelSnapshot Model(int customers = 1200) => new()
    {
        FittedAt = T0,
        AsOf = new LocalDate(2025, 3, 2),
        Customers = customers,
        R = 0.243,
        Alpha = 4.414,
        A = 0.793,
        B = 2.426,
        LogLikelihood = -9582.429,
        P = 6.25,
        Q = 3.74,
        V = 15.44,
        ClvPercentiles = [.. Enumerable.Range(0, 101).Select(i => i * 1.5)],
    };

    public static JourneyInstance Journey(CustomerId customer, string journey, Instant? wakeAt) => new()
    {
        Customer = customer,
        Journey = journey,
        JourneyVersion = 2,
        Entry = 1,
        Status = JourneyStatus.Active,
        Step = "wait_3d",
        EnteredAt = At(0),
        WakeAt = wakeAt,
        Holdout = false,
        Converted = true,
        ExitReason = null,
    };
}
