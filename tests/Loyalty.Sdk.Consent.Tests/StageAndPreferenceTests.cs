using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Consent.Tests;

public sealed class StageAndPreferenceTests
{
    [Fact]
    public async Task A_bounce_suppresses_the_address_for_every_message()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        var r = await host.SignalAsync("ann@example.com", InteractionKind.MessageBounced);
        Assert.Contains(r.Decisions, d => d.Rule == ConsentStage.BounceRule);
        Assert.Contains((await host.Consent.CheckAsync(host.Check(c, messageClass: "transactional"))).Reasons, x => x.List == SuppressionList.HardBounce);
        Assert.Equal(SendVerdict.Send, (await host.Consent.CheckAsync(host.Check(c, ContactChannel.Push))).Verdict);
    }

    [Fact]
    public async Task A_spam_complaint_suppresses_marketing_and_withdraws_consent()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        await host.SignalAsync("ann@example.com", InteractionKind.SpamComplaint);
        var d = await host.Consent.CheckAsync(host.Check(c));
        Assert.True(d.Has(SendReasonCode.Withdrawn));
        Assert.Contains(d.Reasons, x => x.List == SuppressionList.SpamComplaint);
        Assert.Equal(SendVerdict.Send, (await host.Consent.CheckAsync(host.Check(c, messageClass: "transactional"))).Verdict);
    }

    [Fact]
    public async Task An_unsubscribe_withdraws_a_grant_or_records_a_denial()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        await host.SignalAsync("ann@example.com", InteractionKind.Unsubscribed);
        var history = await host.Consent.GetHistoryAsync(host.Tenant, c);
        var last = history.Last(h => h.Channel == ContactChannel.Email);
        Assert.Equal((ConsentStatus.Withdrawn, ConsentMethod.MessageLink), (last.Status, last.Method));

        var other = await host.SignUpAsync("never@example.com");
        await host.SignalAsync("never@example.com", InteractionKind.Unsubscribed);
        Assert.Equal(ConsentStatus.Denied, (await host.Consent.GetHistoryAsync(host.Tenant, other)).Single().Status);
    }

    [Fact]
    public async Task Consent_events_keep_source_wording_and_double_opt_in_where_required()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("w@example.com", phone: "+33612340000");
        var r = await host.ConsentEventAsync("w@example.com", ContactChannel.WhatsApp, ConsentStatus.Granted, source: "pos");
        Assert.Contains(r.Decisions, d => d.Action == "double_opt_in_started");
        var record = Assert.Single(await host.Consent.GetHistoryAsync(host.Tenant, c));
        Assert.Equal((ConsentStatus.Pending, ConsentMethod.Pos, "2025-01"), (record.Status, record.Method, record.Wording!.Version));
    }

    [Fact]
    public async Task Preference_center_changes_write_history_with_their_source()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        var view = await host.Preferences.UpdateAsync(new PreferenceUpdate
        {
            Tenant = host.Tenant, Customer = c, At = host.Now, Source = "account-page",
            Channels = new Dictionary<ContactChannel, bool> { [ContactChannel.Sms] = false, [ContactChannel.Postal] = true },
            ThirdPartySharing = true, Topics = new Dictionary<string, bool> { ["offers"] = false }, UnsubscribeFromAll = true,
        });
        Assert.Equal(ConsentStatus.Withdrawn, view.Channels.Single(x => x.Channel == ContactChannel.Sms).Marketing);
        Assert.False(view.Channels.Single(x => x.Channel == ContactChannel.Postal).Reachable);
        Assert.True(view.DataSharing["thirdPartySharing"]);
        Assert.False(view.Topics.Single(t => t.Id == "offers").Subscribed);
        Assert.True(view.UnsubscribedFromAll);
        var history = await host.Consent.GetHistoryAsync(host.Tenant, c);
        Assert.All(history.Where(h => h.Method == ConsentMethod.PreferenceCenter), h => Assert.Equal("account-page", h.Source));
        Assert.Equal(2 + 7, history.Count(h => h.Method == ConsentMethod.PreferenceCenter));
        Assert.True((await host.Consent.CheckAsync(host.Check(c))).Has(SendReasonCode.Suppressed));
        var trail = await host.Engine.GetDecisionTrailAsync(host.Tenant, c, 0, 500);
        Assert.Contains(trail, d => d.Action == "preferences_changed" && d.Inputs["source"] == "account-page");
    }

    [Fact]
    public async Task Consent_stage_runs_after_the_profile_stage()
    {
        await using var host = TestHost.Create();
        var engine = host.Provider.GetService(typeof(Pipeline.LoyaltyEngine)) as Pipeline.LoyaltyEngine;
        var names = engine!.Stages.Select(s => s.GetType().Name).ToArray();
        Assert.Equal(["IdentityStage", "ProfileStage", "ConsentStage"], names);
        _ = Duration.Zero;
    }
}
