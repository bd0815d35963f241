using System.Collections;
using System.Reflection;
using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Consent.Tests;

public sealed class ErasureTests
{
    private const string EmailA = "zoe.martin@example.com";
    private const string EmailB = "zoe.m@example.org";
    private const string Phone = "+33698765432";
    private const string Device = "device-zoe-42";
    private const string GivenName = "Zoéline";

    private static async Task<(TestHost Host, CustomerId Customer, CustomerId Absorbed)> SeedAsync()
    {
        var host = TestHost.Create();
        var a = await host.SignUpAsync(EmailA, Phone, Device, givenName: GivenName, at: host.Now - Duration.FromDays(40));
        var b = await host.SignUpAsync(EmailB, at: host.Now - Duration.FromDays(35));
        await host.ConsentEventAsync(EmailA, ContactChannel.Email, ConsentStatus.Granted);
        await host.ConsentEventAsync(EmailB, ContactChannel.Sms, ConsentStatus.Denied);
        await host.Consent.RecordAsync(new ConsentRecordRequest
        {
            Tenant = host.Tenant, Customer = a, Channel = ContactChannel.Push, Purpose = ConsentPurpose.Marketing, Status = ConsentStatus.Granted, CapturedAt = host.Now - Duration.FromDays(10),
            Method = ConsentMethod.App, Evidence = new ConsentEvidence { IpAddress = "198.51.100.23", UserAgent = "ZoePhone/1.0" }, Actor = "customer",
        });
        await host.Engine.IngestAsync(new OrderPlaced
        {
            Id = host.NextId(), Tenant = host.Tenant, OccurredAt = host.Now - Duration.FromDays(5), Channel = Channel.Web, Identifiers = [TestHost.Email(EmailA), TestHost.Email(EmailB)],
            OrderId = "O-ZOE-1", Currency = Currency.Eur, Total = 80m, Lines = [new OrderLine { LineId = "1", Sku = "SKU-1", Quantity = 2, UnitPrice = 40m }],
        });
        await host.Preferences.UpdateAsync(new PreferenceUpdate { Tenant = host.Tenant, Customer = a, At = host.Now, Frequency = DesiredFrequency.WeeklyDigest, TimeZone = "Europe/Paris", ThirdPartySharing = false });
        await host.Consent.TryReserveSendAsync(host.Check(a, messageId: "welcome-1"));
        await host.SignalAsync(EmailA, InteractionKind.MessageOpened);
        return (host, a, b);
    }

    [Fact]
    public async Task Export_holds_everything_about_the_customer()
    {
        var (host, a, b) = await SeedAsync();
        await using var _ = host;
        var export = await host.PersonalData.ExportAsync(host.Tenant, b);
        var json = export.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Assert.Equal(a.Value, export["customer"]!.GetValue<string>());
        foreach (var value in new[] { EmailA, EmailB, Phone, Device, GivenName, "198.51.100.23", "O-ZOE-1", "welcome-1", "weekly_digest" })
        {
            Assert.Contains(value, json, StringComparison.Ordinal);
        }

        Assert.NotNull(export["traits"]);
        Assert.NotEmpty(export["decisionTrail"]!.AsArray());
        Assert.NotEmpty(export["consent"]!["records"]!.AsArray());
        Assert.Equal(2, export["customerIds"]!.AsArray().Count);
    }

    [Fact]
    public async Task After_erasure_no_store_holds_a_personal_value_and_the_person_comes_back_unlinked_and_suppressed()
    {
        var (host, a, b) = await SeedAsync();
        await using var _ = host;
        var before = Scan(host.Store).ToList();
        Assert.Contains(EmailA, before);
        Assert.Contains("198.51.100.23", before);
        Assert.Contains(before, s => s.Contains(GivenName, StringComparison.Ordinal));
        var receipt = await host.PersonalData.EraseAsync(host.Tenant, a, "dpo@acme");
        Assert.Equal(2, receipt.CustomerIds);
        Assert.True(receipt.SuppressedAddresses >= 4);

        var personal = new[] { EmailA, EmailB, Phone, "33698765432", Device, GivenName, "198.51.100.23", "ZoePhone", a.Value, b.Value };
        var found = Scan(host.Store).Where(s => personal.Any(p => s.Contains(p, StringComparison.OrdinalIgnoreCase))).ToArray();
        Assert.Empty(found);

        // Kept anonymized: the order (accounting) and the consent proof, under the pseudonym.
        var strings = Scan(host.Store).ToList();
        Assert.Contains("O-ZOE-1", strings);
        Assert.Contains(receipt.Pseudonym.Value, strings);
        Assert.Null(await host.Engine.ResolveAsync(host.Tenant, TestHost.Email(EmailA)));

        // The same address comes back through an import: a new, unlinked customer who is not messaged.
        var again = await host.Engine.IngestAsync(new SignedUp { Id = host.NextId(), Tenant = host.Tenant, OccurredAt = host.Now, Channel = Channel.Pos, Identifiers = [TestHost.Email(EmailA)] });
        Assert.True(again.NewCustomer);
        Assert.NotEqual(a, again.Customer);
        await host.ConsentEventAsync(EmailA, ContactChannel.Email, ConsentStatus.Granted, at: host.Now, source: "import");
        var d = await host.Consent.CheckAsync(host.Check(again.Customer!.Value));
        Assert.Equal(SendVerdict.Skip, d.Verdict);
        Assert.Contains(d.Reasons, r => r.Code == SendReasonCode.Suppressed && r.List == SuppressionList.Erased);
        Assert.Equal(SendVerdict.Skip, (await host.Consent.CheckAsync(host.Check(again.Customer!.Value, messageClass: "transactional"))).Verdict);
    }

    /// <summary>Every string and value held by the in-memory store, walked by reflection.</summary>
    internal static IEnumerable<string> Scan(Storage.InMemory.InMemoryLoyaltyStore store)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var output = new List<string>();
        foreach (var (_, data) in store.AllTenants())
        {
            Walk(data, output, seen, 0);
        }

        return output;
    }

    /// <summary>Every string and value reachable from <paramref name="root"/>, walked by reflection.</summary>
    internal static List<string> ScanObject(object root)
    {
        var output = new List<string>();
        Walk(root, output, new HashSet<object>(ReferenceEqualityComparer.Instance), 0);
        return output;
    }

    private static void Walk(object? value, List<string> output, HashSet<object> seen, int depth)
    {
        if (value is null || depth > 40 || value is Type or MemberInfo or Delegate)
        {
            return;
        }

        var type = value.GetType();
        if (value is string s)
        {
            output.Add(s);
            return;
        }

        if (type.IsPrimitive || type.IsEnum || value is decimal || type.Namespace?.StartsWith("NodaTime", StringComparison.Ordinal) == true || value is SemaphoreSlim || type == typeof(object))
        {
            output.Add(value.ToString() ?? "");
            return;
        }

        if (!type.IsValueType && !seen.Add(value))
        {
            return;
        }

        if (type.IsValueType && type.Namespace == "Loyalty.Sdk")
        {
            output.Add(value.ToString() ?? "");
        }

        if (value is IDictionary dictionary)
        {
            foreach (DictionaryEntry e in dictionary)
            {
                Walk(e.Key, output, seen, depth + 1);
                Walk(e.Value, output, seen, depth + 1);
            }

            return;
        }

        if (value is IEnumerable enumerable)
        {
            foreach (var item in enumerable)
            {
                Walk(item, output, seen, depth + 1);
            }

            return;
        }

        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length == 0 && p.CanRead)
            {
                Walk(p.GetValue(value), output, seen, depth + 1);
            }
        }

        foreach (var f in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            Walk(f.GetValue(value), output, seen, depth + 1);
        }
    }
}
