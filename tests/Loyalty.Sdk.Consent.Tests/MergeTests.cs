using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Consent.Tests;

public sealed class MergeTests
{
    [Theory]
    [InlineData(ConsentStatus.Granted, ConsentStatus.Denied, ConsentStatus.Denied)]
    [InlineData(ConsentStatus.Denied, ConsentStatus.Granted, ConsentStatus.Denied)]
    [InlineData(ConsentStatus.Granted, ConsentStatus.Withdrawn, ConsentStatus.Withdrawn)]
    [InlineData(ConsentStatus.Withdrawn, ConsentStatus.Denied, ConsentStatus.Denied)]
    [InlineData(ConsentStatus.Pending, ConsentStatus.Granted, ConsentStatus.Pending)]
    [InlineData(ConsentStatus.Granted, ConsentStatus.Granted, ConsentStatus.Granted)]
    public void Most_restrictive_choice_wins(ConsentStatus a, ConsentStatus b, ConsentStatus expected)
    {
        Assert.Equal(expected, ConsentEngine.MostRestrictive(a, b));
        Assert.Equal(expected, ConsentEngine.MostRestrictive(b, a));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Merging_keeps_both_histories_and_the_most_restrictive_state_whichever_is_newer(bool grantIsNewer)
    {
        await using var host = TestHost.Create();
        var a = await host.SignUpAsync("a@example.com", at: host.Now - Duration.FromDays(30));
        var b = await host.SignUpAsync("b@example.com", at: host.Now - Duration.FromDays(29));
        var grantAt = host.Now - Duration.FromDays(grantIsNewer ? 5 : 10);
        var denyAt = host.Now - Duration.FromDays(grantIsNewer ? 10 : 5);
        await host.ConsentEventAsync("a@example.com", ContactChannel.Email, ConsentStatus.Granted, at: grantAt);
        await host.ConsentEventAsync("b@example.com", ContactChannel.Email, ConsentStatus.Denied, at: denyAt);
        await host.ConsentEventAsync("b@example.com", ContactChannel.Push, ConsentStatus.Granted, at: denyAt);

        var link = await host.Engine.IngestAsync(new Interaction
        {
            Id = host.NextId(), Tenant = host.Tenant, OccurredAt = host.Now - Duration.FromDays(1), Channel = Channel.Web,
            Identifiers = [TestHost.Email("a@example.com"), TestHost.Email("b@example.com")], InteractionKind = InteractionKind.SiteVisit,
        });
        Assert.Equal(a, link.Customer);
        Assert.Equal([b], link.Merged);
        Assert.Contains(link.Decisions, d => d.Rule == ConsentStage.MergeRule && d.Inputs["resolved"] == "denied");

        var history = await host.Consent.GetHistoryAsync(host.Tenant, a);
        Assert.Equal(4, history.Count); // a's grant, b's denial and push grant, the merge resolution
        Assert.Equal(2, history.Count(r => r.OriginalCustomer == b));
        var states = await host.Consent.GetStatesAsync(host.Tenant, a, host.Now);
        Assert.Equal(ConsentStatus.Denied, states.Single(s => s.Channel == ContactChannel.Email).Status);
        Assert.Equal(ConsentStatus.Granted, states.Single(s => s.Channel == ContactChannel.Push).Status);

        // A later explicit choice still wins over the merge resolution.
        await host.ConsentEventAsync("b@example.com", ContactChannel.Email, ConsentStatus.Granted, at: host.Now);
        Assert.Equal(SendVerdict.Send, (await host.Consent.CheckAsync(host.Check(b))).Verdict);
    }

    [Fact]
    public async Task Sends_of_a_merged_customer_count_toward_the_survivors_caps()
    {
        await using var host = TestHost.Create(TestHost.TestPolicy(new FrequencyCapRule { Id = "all", Max = 2, Days = 7 }));
        var a = await host.GrantedCustomerAsync("a@example.com");
        var b = await host.GrantedCustomerAsync("b@example.com");
        Assert.True((await host.Consent.TryReserveSendAsync(host.Check(a, messageId: "1"))).Reserved);
        Assert.True((await host.Consent.TryReserveSendAsync(host.Check(b, messageId: "2"))).Reserved);
        await host.Engine.IngestAsync(new Interaction
        {
            Id = host.NextId(), Tenant = host.Tenant, OccurredAt = host.Now, Channel = Channel.Web,
            Identifiers = [TestHost.Email("a@example.com"), TestHost.Email("b@example.com")], InteractionKind = InteractionKind.SiteVisit,
        });
        var d = await host.Consent.CheckAsync(host.Check(a));
        Assert.Contains(d.Reasons, r => r.Code == SendReasonCode.FrequencyCap && r.Count == 2);
    }
}
