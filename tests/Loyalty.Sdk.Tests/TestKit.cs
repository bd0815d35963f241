using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.InMemory;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.Tests;

/// <summary>Fixed instants and ids shared by the tests.</summary>
internal static class Fixed
{
    /// <summary>The engine clock of every harness at start.</summary>
    public static readonly Instant Now = Instant.FromUtc(2025, 3, 14, 9, 30);

    public static readonly TenantId Tenant = new("acme");

    public static readonly TenantId OtherTenant = new("globex");

    /// <summary><see cref="Now"/> minus <paramref name="hours"/> hours (events are dated in the past by default).</summary>
    public static Instant HoursAgo(int hours) => Now - Duration.FromHours(hours);

    public static Instant DaysAgo(int days) => Now - Duration.FromDays(days);
}

/// <summary>
/// A C# copy of <c>src/Loyalty.Sdk/Programs/default-program.json</c>. The engine tests use it instead of
/// <see cref="DefaultPrograms.Retail"/> so that they do not depend on the JSON layer; <c>ProgramTests</c> checks that
/// both are the same program.
/// </summary>
internal static class TestPrograms
{
    public static readonly IdentifierType MembershipNumber = new("membership_number");

    /// <summary>The identity section of the retail program (kept out of <see cref="Retail"/> so that tests of
    /// other behaviour run without limits).</summary>
    public static IdentityPolicy RetailIdentity() => new()
    {
        Types = new Dictionary<string, IdentifierTypePolicy>
        {
            ["ecom_customer_id"] = new() { Limit = 1, Priority = 100, Unique = true, Login = true },
            ["pos_customer_id"] = new() { Limit = 1, Priority = 90, Unique = true },
            ["loyalty_card"] = new() { Limit = 2, Priority = 80, Blocked = ["LC0000000000"], BlockedPatterns = ["^TEST"] },
            ["membership_number"] = new() { Limit = 1, Priority = 75 },
            ["email"] = new() { Limit = 3, Priority = 70, Blocked = ["noreply@acme.example", "store@acme.example"], BlockedPatterns = ["^(test|noemail|no-reply|none)@"] },
            ["phone"] = new() { Limit = 2, Priority = 40, BlockedPatterns = [@"^\+\d{0,4}(\d)\1{6,}$"] },
            ["device_id"] = new() { Limit = 10, LimitWindowDays = 30, Priority = 10 },
        },
        AutoBlockThreshold = 3,
        MaxIdentifiersPerCustomer = 50,
        MaxMergesPerCustomer = 20,
        Probabilistic = new() { ReviewThreshold = 0.9, AutoMergeThreshold = 0.995, Mode = ProbabilisticMode.Review, MaxClusterSize = 10 },
    };

    public static LoyaltyProgram Retail() => new()
    {
        Id = "acme-rewards",
        Name = "ACME Rewards",
        Version = 1,
        BaseCurrency = Currency.Eur,
        ExchangeRates = new Dictionary<string, decimal> { ["USD"] = 0.92m, ["GBP"] = 1.17m, ["CHF"] = 1.05m },
        DefaultTimeZone = "Europe/Paris",
        DefaultRegion = "FR",
        CustomIdentifierTypes = [MembershipNumber],
        CustomEvents =
        [
            new CustomEventDefinition
            {
                Name = "store_checkin",
                Properties = new Dictionary<string, CustomPropertyType> { ["store_id"] = CustomPropertyType.String, ["minutes"] = CustomPropertyType.Number },
                Required = ["store_id"],
            },
            new CustomEventDefinition
            {
                Name = "wishlist_added",
                Properties = new Dictionary<string, CustomPropertyType>
                {
                    ["sku"] = CustomPropertyType.String, ["price"] = CustomPropertyType.Number, ["on_sale"] = CustomPropertyType.Boolean,
                },
                Required = ["sku"],
            },
        ],
    };
}

/// <summary>Counts of everything one tenant holds in an <see cref="InMemoryLoyaltyStore"/>.</summary>
internal sealed record StoreCounts(int Events, int Identities, int IdentifierIndex, int Profiles, int Orders, int Decisions, int Outbox)
{
    public static readonly StoreCounts Empty = new(0, 0, 0, 0, 0, 0, 0);

    public static StoreCounts Of(InMemoryLoyaltyStore store, TenantId tenant)
    {
        var d = store.Data(tenant);
        lock (d.OutboxLock)
        {
            return new StoreCounts(d.Events.Count, d.Identities.Count, d.IdentifierIndex.Count, d.Profiles.Count, d.Orders.Count, d.Decisions.Values.Sum(l => l.Count), d.Outbox.Count);
        }
    }
}

/// <summary>An engine over an in-memory store, a fake clock and the retail program, wired by the DI container.</summary>
internal sealed class Harness
{
    public Harness(LoyaltyProgram? program = null, Action<LoyaltyOptions>? configure = null, IEnumerable<ILedgerStage>? ledger = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(Clock);
        services.AddLoyalty(o => configure?.Invoke(o)).UseInMemoryStorage().UseDefaultProgram(program ?? TestPrograms.Retail());
        foreach (var stage in ledger ?? [])
        {
            services.AddSingleton(stage);
        }

        var provider = services.BuildServiceProvider();
        Engine = Assert.IsType<LoyaltyEngine>(provider.GetRequiredService<ILoyaltyEngine>());
        Store = provider.GetRequiredService<InMemoryLoyaltyStore>();
        Options = provider.GetRequiredService<IOptions<LoyaltyOptions>>().Value;
    }

    public FakeClock Clock { get; } = new(Fixed.Now);

    public InMemoryLoyaltyStore Store { get; }

    public LoyaltyOptions Options { get; }

    public LoyaltyEngine Engine { get; }

    public async Task<IngestResult> IngestAsync(LoyaltyEvent e) => await Engine.IngestAsync(e);

    public async Task<IReadOnlyList<IngestResult>> IngestBatchAsync(params LoyaltyEvent[] events) => await Engine.IngestBatchAsync(events);

    public Task<EventValidationException> RejectAsync(LoyaltyEvent e) =>
        Assert.ThrowsAsync<EventValidationException>(async () => await Engine.IngestAsync(e));

    public Task<EventValidationException> RejectBatchAsync(params LoyaltyEvent[] events) =>
        Assert.ThrowsAsync<EventValidationException>(async () => await Engine.IngestBatchAsync(events));

    public StoreCounts Counts(TenantId? tenant = null) => StoreCounts.Of(Store, tenant ?? Fixed.Tenant);

    /// <summary>The stored profile of <paramref name="customer"/> (not following merges).</summary>
    public async Task<CustomerProfile?> ProfileAsync(CustomerId customer, TenantId? tenant = null)
    {
        await using var session = await OpenAsync(tenant);
        return await session.Profiles.GetAsync(customer);
    }

    /// <summary>The stored identity of <paramref name="customer"/> (not following merges).</summary>
    public async Task<CustomerIdentity?> IdentityAsync(CustomerId customer, TenantId? tenant = null)
    {
        await using var session = await OpenAsync(tenant);
        return await session.Identity.GetAsync(customer);
    }

    public async Task<OrderRecord?> OrderAsync(string orderId, TenantId? tenant = null)
    {
        await using var session = await OpenAsync(tenant);
        return await session.Orders.GetAsync(orderId);
    }

    public async Task<IReadOnlyList<Decision>> TrailAsync(CustomerId customer, TenantId? tenant = null) =>
        await Engine.GetDecisionTrailAsync(tenant ?? Fixed.Tenant, customer, 0, 10_000);

    public async Task<CustomerId?> ResolveAsync(Identifier identifier, TenantId? tenant = null) =>
        await Engine.ResolveAsync(tenant ?? Fixed.Tenant, identifier);

    /// <summary>Opens a session, failing fast instead of hanging when another session of the tenant was left open.</summary>
    public async Task<ILoyaltyStoreSession> OpenAsync(TenantId? tenant = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        return await Store.OpenSessionAsync(tenant ?? Fixed.Tenant, timeout.Token);
    }
}

/// <summary>Builders of valid events; every argument has a sensible default.</summary>
internal static class Ev
{
    public static readonly Identifier Ada = Email("ada@example.com");

    public static Identifier Email(string value) => new(IdentifierType.Email, value);

    public static Identifier Phone(string value) => new(IdentifierType.Phone, value);

    public static Identifier Device(string value) => new(IdentifierType.DeviceId, value);

    public static Identifier[] Ids(params Identifier[] ids) => ids;

    public static OrderLine Line(string lineId, int quantity, decimal unitPrice, string? sku = null, OrderLineKind kind = OrderLineKind.Product) =>
        new() { LineId = lineId, Sku = sku ?? "sku-" + lineId, Quantity = quantity, UnitPrice = unitPrice, LineKind = kind, Category = "shoes" };

    public static OrderLineQuantity Qty(string lineId, int quantity) => new() { LineId = lineId, Quantity = quantity };

    public static OrderPlaced Order(
        string id,
        string orderId,
        Identifier[]? ids = null,
        OrderLine[]? lines = null,
        Currency? currency = null,
        decimal discount = 0m,
        decimal shipping = 0m,
        decimal tax = 0m,
        Instant? at = null,
        TenantId? tenant = null)
    {
        lines ??= [Line("l1", 2, 50m)];
        return new OrderPlaced
        {
            Id = new EventId(id),
            Tenant = tenant ?? Fixed.Tenant,
            OccurredAt = at ?? Fixed.HoursAgo(1),
            Identifiers = ids ?? [Ada],
            Channel = Channel.Web,
            OrderId = orderId,
            Currency = currency ?? Currency.Eur,
            Lines = lines,
            Discount = discount,
            Shipping = shipping,
            Tax = tax,
            Total = lines.Sum(l => l.Quantity * l.UnitPrice) - discount + shipping + tax,
        };
    }

    public static OrderReturned Return(string id, string orderId, string returnId, Identifier[]? ids = null, OrderLineQuantity[]? lines = null, Instant? at = null) => new()
    {
        Id = new EventId(id),
        Tenant = Fixed.Tenant,
        OccurredAt = at ?? Fixed.HoursAgo(1),
        Identifiers = ids ?? [Ada],
        OrderId = orderId,
        ReturnId = returnId,
        Lines = lines ?? [],
    };

    public static OrderCancelled Cancel(string id, string orderId, Identifier[]? ids = null, OrderLineQuantity[]? lines = null) => new()
    {
        Id = new EventId(id),
        Tenant = Fixed.Tenant,
        OccurredAt = Fixed.HoursAgo(1),
        Identifiers = ids ?? [Ada],
        OrderId = orderId,
        Lines = lines ?? [],
    };

    public static SignedUp SignUp(string id, Identifier[]? ids = null, ProfileData? profile = null, Instant? at = null, TenantId? tenant = null) => new()
    {
        Id = new EventId(id),
        Tenant = tenant ?? Fixed.Tenant,
        OccurredAt = at ?? Fixed.HoursAgo(1),
        Identifiers = ids ?? [Ada],
        Channel = Channel.App,
        Profile = profile,
    };

    public static ProfileUpdated ProfileUpdate(string id, ProfileData profile, Identifier[]? ids = null) => new()
    {
        Id = new EventId(id),
        Tenant = Fixed.Tenant,
        OccurredAt = Fixed.HoursAgo(1),
        Identifiers = ids ?? [Ada],
        Profile = profile,
    };

    public static Interaction Visit(string id, Identifier[]? ids = null, Instant? at = null, TenantId? tenant = null) => new()
    {
        Id = new EventId(id),
        Tenant = tenant ?? Fixed.Tenant,
        OccurredAt = at ?? Fixed.HoursAgo(1),
        Identifiers = ids ?? [Ada],
        Channel = Channel.Pos,
        InteractionKind = InteractionKind.StoreVisit,
    };

    public static ReviewSubmitted Review(string id, int rating, Identifier[]? ids = null) => new()
    {
        Id = new EventId(id),
        Tenant = Fixed.Tenant,
        OccurredAt = Fixed.HoursAgo(1),
        Identifiers = ids ?? [Ada],
        Sku = "sku-1",
        Rating = rating,
    };

    public static CustomEvent Custom(string id, string name, string propertiesJson, Identifier[]? ids = null) => new()
    {
        Id = new EventId(id),
        Tenant = Fixed.Tenant,
        OccurredAt = Fixed.HoursAgo(1),
        Identifiers = ids ?? [Ada],
        Name = name,
        Properties = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(propertiesJson)!,
    };
}

/// <summary>Structural equality for the SDK's records, whose list and dictionary members compare by reference.</summary>
internal static class Deep
{
    public static void Equal(object? expected, object? actual) => Compare(expected, actual, "$");

    private static void Compare(object? expected, object? actual, string path)
    {
        if (expected is null || actual is null)
        {
            if (expected is not null || actual is not null)
            {
                Assert.Fail($"{path}: expected {Show(expected)} but got {Show(actual)}.");
            }

            return;
        }

        // Collections compare by content whatever their runtime type (an array built in C# comes back as a List).
        var bothCollections = expected is IEnumerable and not string && actual is IEnumerable and not string;
        if (!bothCollections && expected.GetType() != actual.GetType())
        {
            Assert.Fail($"{path}: expected a {expected.GetType().Name} but got a {actual.GetType().Name}.");
        }

        var type = expected.GetType();
        if (expected is JsonElement je)
        {
            if (!JsonElement.DeepEquals(je, (JsonElement)actual))
            {
                Assert.Fail($"{path}: expected JSON {je.GetRawText()} but got {((JsonElement)actual).GetRawText()}.");
            }

            return;
        }

        if (expected is string || type.IsPrimitive || type.IsEnum || type.IsValueType)
        {
            if (!expected.Equals(actual))
            {
                Assert.Fail($"{path}: expected {Show(expected)} but got {Show(actual)}.");
            }

            return;
        }

        if (expected is IEnumerable expectedItems)
        {
            var left = expectedItems.Cast<object?>().ToList();
            var right = ((IEnumerable)actual).Cast<object?>().ToList();
            if (IsDictionary(expected.GetType()) || IsDictionary(actual.GetType()))
            {
                var l = ToDictionary(left);
                var r = ToDictionary(right);
                Assert.True(l.Keys.Order().SequenceEqual(r.Keys.Order()), $"{path}: expected keys [{string.Join(", ", l.Keys.Order())}] but got [{string.Join(", ", r.Keys.Order())}].");
                foreach (var key in l.Keys)
                {
                    Compare(l[key], r[key], $"{path}.{key}");
                }

                return;
            }

            if (left.Count != right.Count)
            {
                Assert.Fail($"{path}: expected {left.Count} items but got {right.Count}.");
            }

            for (var i = 0; i < left.Count; i++)
            {
                Compare(left[i], right[i], $"{path}[{i}]");
            }

            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            if (property.Name == "EqualityContract")
            {
                continue;
            }

            Compare(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
        }
    }

    private static bool IsDictionary(Type type) => type.GetInterfaces().Append(type).Any(i =>
        i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IDictionary<,>)));

    private static Dictionary<string, object?> ToDictionary(List<object?> pairs) => pairs.ToDictionary(
        p => Convert.ToString(p!.GetType().GetProperty("Key")!.GetValue(p), CultureInfo.InvariantCulture)!,
        p => p!.GetType().GetProperty("Value")!.GetValue(p),
        StringComparer.Ordinal);

    private static string Show(object? value) => value is null ? "null" : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?";
}
