using System.Security.Cryptography;
using System.Text;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Simulation;
using Snapshooter.Xunit;

namespace Loyalty.Sdk.Simulation.Tests;

public sealed class SimulationTests(SimulationFixture fixture) : IClassFixture<SimulationFixture>
{
    private static string Digest(GeneratedShop shop)
    {
        var text = new StringBuilder();
        foreach (var e in shop.Events)
        {
            text.AppendLine(LoyaltyJson.SerializeEvent(e));
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    [Fact]
    public void Same_seed_gives_the_same_shop_and_another_seed_another()
    {
        var a = ShopGenerator.Generate(SimulationFixture.Settings);
        var b = ShopGenerator.Generate(SimulationFixture.Settings);
        var c = ShopGenerator.Generate(SimulationFixture.Settings with { Seed = 8 });
        Assert.Equal(Digest(a), Digest(b));
        Assert.NotEqual(Digest(a), Digest(c));
    }

    [Fact]
    public void Generated_history_is_in_time_order_and_has_what_capabilities_need()
    {
        var events = fixture.Shop.Events;
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.OccurredAt <= p.Second.OccurredAt));
        Assert.Contains(events, e => e is Events.OrderReturned);
        Assert.Contains(events, e => e is Events.ConsentChanged);
        Assert.Contains(events, e => e is Events.Interaction { InteractionKind: Events.InteractionKind.AppVisit } i && i.Identifiers.All(x => x.Type == IdentifierType.DeviceId));
        Assert.Contains(fixture.Shop.People, p => p.ChurnedAt is not null);
        Assert.Contains(fixture.Shop.People, p => p.ChurnedAt is null);
        Assert.True(fixture.Shop.ResentDuplicates > 0);
        var rates = fixture.Shop.People.Select(p => p.PurchaseRate).ToArray();
        Assert.True(rates.Max() > 5 * rates.Min(), "purchase rates must be heterogeneous");
    }

    [Fact]
    public void Every_generated_event_is_accepted_and_resends_are_duplicates()
    {
        Assert.Empty(fixture.Log.Rejected);
        Assert.Equal(fixture.Shop.ResentDuplicates, fixture.Log.Results.Count(r => r.Outcome == IngestOutcome.Duplicate));
        Assert.Equal(fixture.Shop.Events.Count, fixture.Log.Results.Count);
    }

    [Fact]
    public void Report_has_a_section_per_capability_and_consistent_kpis()
    {
        var report = fixture.Report;
        foreach (var section in new[] { "identity", "ledger", "segments", "consent", "journeys", "predictive", "kpis" })
        {
            Assert.NotNull(report[section]);
        }

        Assert.True(report["ledger"]!["available"]!.GetValue<bool>());
        Assert.True(report["ledger"]!["reconciles"]!.GetValue<bool>());
        Assert.True(report["consent"]!["available"]!.GetValue<bool>());
        Assert.True(report["segments"]!["available"]!.GetValue<bool>());
        foreach (var section in new[] { "journeys" })
        {
            Assert.False(report[section]!["available"]!.GetValue<bool>());
        }

        var predictive = report["predictive"]!;
        Assert.True(predictive["available"]!.GetValue<bool>());
        Assert.InRange(predictive["churnAucRepeatBuyers"]!.GetValue<double>(), 0.6, 1.0);
        Assert.True(predictive["holdout"]!["customers"]!.GetValue<int>() > 100);

        var k = report["kpis"]!;
        Assert.Equal(k["grossRevenue"]!.GetValue<decimal>() - k["returnedValue"]!.GetValue<decimal>(), k["netRevenue"]!.GetValue<decimal>());
        var monthlyOrders = k["monthly"]!.AsArray().Sum(m => m!["orders"]!.GetValue<int>());
        Assert.Equal(k["orders"]!.GetValue<int>(), monthlyOrders);
        var id = report["identity"]!;
        Assert.InRange(id["pairwisePrecision"]!.GetValue<double>(), 0.8, 1.0);
        Assert.InRange(id["pairwiseRecall"]!.GetValue<double>(), 0.8, 1.0);
        Assert.Equal(SimulationFixture.Settings.Customers, id["truePeople"]!.GetValue<int>());
    }

    [Fact]
    public void Report_json_matches_its_snapshot()
    {
        Snapshot.Match(fixture.Report.ToJsonString());
    }

    [Fact]
    public void Html_report_is_one_self_contained_page_with_charts()
    {
        var html = HtmlReport.Render(fixture.Report);
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.True(html.Split("<svg").Length > 4, "expected several charts");
        Assert.DoesNotContain("<script src", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link ", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("not registered", html, StringComparison.Ordinal);
    }
}
