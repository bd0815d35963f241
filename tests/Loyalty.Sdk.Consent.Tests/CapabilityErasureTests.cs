using Loyalty.Sdk.Events;
using Loyalty.Sdk.Ledger;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using static Loyalty.Sdk.Storage.InMemory.InMemoryLoyaltyStore;

namespace Loyalty.Sdk.Consent.Tests;

/// <summary>GDPR export and erasure with the ledger, segments and predictive capabilities.</summary>
public sealed class CapabilityErasureTests
{
    private const string EmailA = "lea.durand@example.com";
    private const string EmailB = "lea.d@example.net";
    private const string Phone = "+33611223344";
    private const string GivenName = "Léandrine";

    private static async Task<(TestHost Host, CustomerId Customer, CustomerId Absorbed, CustomerId Friend)> SeedAsync()
    {
        var host = TestHost.Create(capabilities: b => b.AddLedger().AddSegments().AddPredictive());
        var a = await host.SignUpAsync(EmailA, Phone, givenName: GivenName, at: host.Now - Duration.FromDays(40));
        var b = await host.SignUpAsync(EmailB, at: host.Now - Duration.FromDays(35));
        await OrderAsync(host, "O-LEA-1", 120m, host.Now - Duration.FromDays(20), EmailA);
        await OrderAsync(host, "O-LEA-2", 60m, host.Now - Duration.FromDays(15), EmailB);
        var ledger = host.Provider.GetRequiredService<ILedgerService>();
        await ledger.ExecuteAsync(host.Tenant, new AdjustCommand { IdempotencyKey = "goodwill-1", Customer = b, Points = 40, Actor = "agent-7", Note = $"goodwill for {GivenName} ({EmailB})" });
        await ledger.ExecuteAsync(host.Tenant, new AdjustCommand { IdempotencyKey = "goodwill-2", Customer = a, Points = 25, Actor = "agent-7", Note = $"sorry {GivenName}" });

        // An order with both addresses merges b into a: the ledger moves b's lots to a under merge keys naming both ids.
        await OrderAsync(host, "O-LEA-3", 90m, host.Now - Duration.FromDays(5), EmailA, EmailB);
        Assert.Equal(a, await host.Engine.ResolveAsync(host.Tenant, TestHost.Email(EmailB)));

        // A gift to another member (a key that embeds the customer id, a free-text note) and a tier override.
        var friend = await host.SignUpAsync("friend@example.org");
        await ledger.ExecuteAsync(host.Tenant, new TransferPointsCommand { IdempotencyKey = $"gift:{a.Value}", Customer = a, To = friend, Points = 10, Note = $"gift from {GivenName}" });
        await ledger.ExecuteAsync(host.Tenant, new TierOverrideCommand { IdempotencyKey = "vip-1", Customer = a, Tier = "silver", Actor = "agent-7", Note = $"VIP {GivenName}" });
        return (host, a, b, friend);
    }

    private static ValueTask<Pipeline.IngestResult> OrderAsync(TestHost host, string orderId, decimal total, Instant at, params string[] emails) =>
        host.Engine.IngestAsync(new OrderPlaced
        {
            Id = host.NextId(), Tenant = host.Tenant, OccurredAt = at, Channel = Channel.Web, Identifiers = [.. emails.Select(TestHost.Email)],
            OrderId = orderId, Currency = Currency.Eur, Total = total, Lines = [new OrderLine { LineId = "1", Sku = "SKU-" + orderId, Quantity = 1, UnitPrice = total }],
        });

    [Fact]
    public async Task Export_has_ledger_segments_and_predictive_sections()
    {
        var (host, a, b, friend) = await SeedAsync();
        await using var _ = host;
        var export = await host.PersonalData.ExportAsync(host.Tenant, a);
        var json = export.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        var ledger = export["ledger"]!;
        Assert.NotEmpty(ledger["accounts"]!.AsArray());
        Assert.NotEmpty(ledger["accounts"]![0]!["balances"]!.AsArray());
        Assert.NotEmpty(ledger["accounts"]![0]!["lots"]!.AsArray());
        Assert.NotNull(ledger["accounts"]![0]!["tier"]);
        Assert.NotNull(ledger["accounts"]![0]!["tierHistory"]);
        var statement = ledger["statement"]!.AsArray();
        Assert.Contains(statement, l => l!["kind"]!.GetValue<string>() == "earn" && l["reason"]!["orderId"]?.GetValue<string>() == "O-LEA-1");
        Assert.Contains(statement, l => l!["kind"]!.GetValue<string>() == "merge");
        Assert.Contains(statement, l => l!["reason"]!["note"]?.GetValue<string>()?.Contains(GivenName, StringComparison.Ordinal) == true);
        Assert.NotEmpty(ledger["orders"]!.AsArray());

        var segments = export["segments"]!["customers"]!.AsArray();
        Assert.Contains(segments, s => s!["memberships"]!.AsArray().Any(m => m!["segment"]!.GetValue<string>() == "new_customers" && m["enteredAt"] is not null));
        Assert.Contains(segments, s => s!["computedTraits"]!["orders"]!.GetValue<int>() >= 2);

        var predictive = export["predictive"]!["purchaseHistories"]!.AsArray();
        Assert.Contains(predictive, h => h!["customer"]!.GetValue<string>() == a.Value && h["purchaseDays"]!.GetValue<int>() >= 2);
        Assert.Contains(b.Value, json, StringComparison.Ordinal);
        Assert.Contains(statement, l => l!["kind"]!.GetValue<string>() == "member_transfer" && l["credit"]!.GetValue<string>().Contains(friend.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Erasure_removes_the_customer_from_every_store_and_the_ledger_still_reconciles()
    {
        var (host, a, b, friend) = await SeedAsync();
        await using var _ = host;
        var ledger = host.Provider.GetRequiredService<ILedgerService>();
        var total = (await ledger.GetBalancesAsync(host.Tenant, a)).Sum(x => x.Available + x.Pending + x.Reserved);
        Assert.True(total > 0);
        Assert.Empty((await ledger.ReconcileAsync(host.Tenant)).Problems);

        var data = host.Store.AllTenants().Single().Data;
        var capabilityData = new object[] { data.Extension<LedgerData>(), data.Extension<SegmentData>(), data.Extension<PredictiveData>() };
        foreach (var part in capabilityData)
        {
            Assert.Contains(ErasureTests.ScanObject(part), s => s.Contains(a.Value, StringComparison.Ordinal) || s.Contains(b.Value, StringComparison.Ordinal));
        }

        Assert.Contains(ErasureTests.ScanObject(data.Extension<LedgerData>()), s => s.Contains(GivenName, StringComparison.Ordinal));

        var receipt = await host.PersonalData.EraseAsync(host.Tenant, a, "dpo@acme");
        Assert.Equal(2, receipt.CustomerIds);
        Assert.Contains("ledger", receipt.Sections);
        Assert.Contains("segments", receipt.Sections);
        Assert.Contains("predictive", receipt.Sections);

        var personal = new[] { EmailA, EmailB, Phone, "33611223344", GivenName, a.Value, b.Value };
        foreach (var part in capabilityData)
        {
            var left = ErasureTests.ScanObject(part).Where(s => personal.Any(p => s.Contains(p, StringComparison.OrdinalIgnoreCase))).ToArray();
            Assert.Empty(left);
        }

        var found = ErasureTests.Scan(host.Store).Where(s => personal.Any(p => s.Contains(p, StringComparison.OrdinalIgnoreCase))).ToArray();
        Assert.Empty(found);

        // Segments and predictive: the state is gone; the ledger: kept under the pseudonym, and it still reconciles.
        var session = await host.Store.OpenSessionAsync(host.Tenant);
        await using (session)
        {
            Assert.Null(await session.Segments.GetAsync(a));
            Assert.Null(await session.Segments.GetAsync(b));
            Assert.Null(await session.Predictive.GetAsync(a));
            Assert.Null(await session.Predictive.GetAsync(b));
            Assert.Null(await session.Ledger.GetAsync(a));
            Assert.Null(await session.Ledger.GetAsync(b));
            Assert.Empty(await session.Ledger.ListTransfersAsync(a, 0, 100));
            Assert.Equal(receipt.Pseudonym, (await session.Ledger.GetOrderAsync("O-LEA-1"))!.Customer);
            Assert.NotEmpty(await session.Ledger.ListTransfersAsync(receipt.Pseudonym, 0, 100));
            Assert.Equal(receipt.Pseudonym, (await session.Ledger.FindCommandAsync("goodwill-1"))!.Command.Customer);
        }

        Assert.Equal(total, (await ledger.GetBalancesAsync(host.Tenant, receipt.Pseudonym)).Sum(x => x.Available + x.Pending + x.Reserved));
        Assert.Equal(10, (await ledger.GetBalancesAsync(host.Tenant, friend)).Sum(x => x.Available));
        var report = await ledger.ReconcileAsync(host.Tenant);
        Assert.Empty(report.Problems);
        Assert.All(report.SumByLedger.Values, sum => Assert.Equal(0, sum));

        // The same address comes back: a new, unlinked customer with nothing of the old one.
        var again = await host.Engine.IngestAsync(new SignedUp { Id = host.NextId(), Tenant = host.Tenant, OccurredAt = host.Now, Channel = Channel.Pos, Identifiers = [TestHost.Email(EmailA)] });
        Assert.True(again.NewCustomer);
        Assert.NotEqual(a, again.Customer);
        Assert.NotEqual(b, again.Customer);
        Assert.All(await ledger.GetBalancesAsync(host.Tenant, again.Customer!.Value), x => Assert.Equal(0, x.Available + x.Pending + x.Reserved));
        var fresh = await host.PersonalData.ExportAsync(host.Tenant, again.Customer!.Value);
        Assert.Single(fresh["customerIds"]!.AsArray());
        Assert.Null(fresh["predictive"]);
    }

    [Fact]
    public async Task Journey_instances_do_not_link_rules_reviews_and_sharing_counts_are_exported_or_erased()
    {
        var host = TestHost.Create(capabilities: b => b.AddJourneys(o => o.Journeys.Add(Journeys.JourneyTemplates.WelcomeSeries with { HoldoutPercent = 0 })));
        await using var _ = host;
        var a = await host.SignUpAsync(EmailA, Phone, givenName: GivenName, at: host.Now - Duration.FromDays(2));
        var other = await host.SignUpAsync("someone.else@example.org", at: host.Now - Duration.FromDays(1));

        // A split leaves a "do not link again" rule naming the customer; a queued review names it too.
        var identity = host.Provider.GetRequiredService<Identity.IIdentityService>();
        var split = await identity.SplitAsync(host.Tenant, a, TestHost.Email(EmailA), "agent-7", "shared family phone");
        var session = await host.Store.OpenSessionAsync(host.Tenant);
        await using (session)
        {
            await session.IdentityControls.SaveReviewAsync(new Identity.MergeReview(a, other, 0.97, 11.2, [$"given name '{GivenName}' agrees"], host.Now));
            await session.CommitAsync();
        }

        var export = await host.PersonalData.ExportAsync(host.Tenant, a);
        var instance = Assert.Single(export["journeys"]!["instances"]!.AsArray());
        Assert.Equal("welcome_series", instance!["journey"]!.GetValue<string>());

        var before = host.Store.AllTenants().Single().Data;
        Assert.Contains(ErasureTests.ScanObject(before.Extension<JourneyData>()), s => s.Contains(a.Value, StringComparison.Ordinal));
        Assert.Contains(ErasureTests.ScanObject(before.Extension<IdentityControlData>()), s => s.Contains(GivenName, StringComparison.Ordinal));

        var receipt = await host.PersonalData.EraseAsync(host.Tenant, a, "dpo@acme");
        Assert.Contains("journeys", receipt.Sections);
        Assert.Contains("identityControls", receipt.Sections);
        var personal = new[] { Phone, "33611223344", GivenName };
        var found = ErasureTests.Scan(host.Store).Where(s => personal.Any(p => s.Contains(p, StringComparison.OrdinalIgnoreCase))).ToArray();
        Assert.True(found.Length == 0, string.Join(" | ", found));

        // The customer id is gone from journeys and identity controls. (It stays in the audit trail of the customer the
        // split created, whose history it is: "email removed from <id>".)
        var data = host.Store.AllTenants().Single().Data;
        foreach (var part in new object[] { data.Extension<JourneyData>(), data.Extension<IdentityControlData>() })
        {
            Assert.DoesNotContain(ErasureTests.ScanObject(part), s => s.Contains(a.Value, StringComparison.Ordinal) || s.Contains(GivenName, StringComparison.Ordinal));
        }

        session = await host.Store.OpenSessionAsync(host.Tenant);
        await using (session)
        {
            Assert.Empty(await session.Journeys.ListForCustomerAsync(a));
            Assert.False(await session.IdentityControls.IsDoNotLinkAsync(a, split.Other));
            Assert.Empty(await session.IdentityControls.ListReviewsAsync());
            Assert.NotEmpty(await session.Journeys.ListForCustomerAsync(other)); // someone else's journey is untouched
        }
    }
}
