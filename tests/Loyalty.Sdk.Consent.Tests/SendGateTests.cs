using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Consent.Tests;

public sealed class SendGateTests
{
    [Fact]
    public async Task Granted_marketing_is_sent_with_the_reason_consent_granted()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        var d = await host.Consent.CheckAsync(host.Check(c));
        Assert.Equal(SendVerdict.Send, d.Verdict);
        Assert.Equal(SendReasonCode.ConsentGranted, Assert.Single(d.Reasons).Code);
        Assert.Equal("Europe/Paris", d.TimeZone);
        Assert.Equal(TimeZoneSource.Profile, d.TimeZoneSource);
    }

    [Fact]
    public async Task No_consent_is_skipped()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("bob@example.com");
        var d = await host.Consent.CheckAsync(host.Check(c));
        Assert.Equal(SendVerdict.Skip, d.Verdict);
        Assert.True(d.Has(SendReasonCode.NoConsent));
    }

    [Fact]
    public async Task Denied_consent_is_no_consent_with_the_status()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("bob@example.com");
        await host.ConsentEventAsync("bob@example.com", ContactChannel.Email, ConsentStatus.Denied);
        var d = await host.Consent.CheckAsync(host.Check(c));
        Assert.Equal(SendVerdict.Skip, d.Verdict);
        Assert.Contains(d.Reasons, r => r.Code == SendReasonCode.NoConsent && r.Status == ConsentStatus.Denied);
    }

    [Fact]
    public async Task Withdrawn_consent_is_skipped_as_withdrawn()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        await host.ConsentEventAsync("ann@example.com", ContactChannel.Email, ConsentStatus.Withdrawn, at: host.Now.Minus(Duration.FromDays(2)));
        var d = await host.Consent.CheckAsync(host.Check(c));
        Assert.Equal(SendVerdict.Skip, d.Verdict);
        Assert.True(d.Has(SendReasonCode.Withdrawn));
    }

    [Fact]
    public async Task Pending_double_opt_in_is_skipped_then_expires()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("pat@example.com", phone: "+33612345670");
        await host.Consent.RecordAsync(new ConsentRecordRequest
        {
            Tenant = host.Tenant, Customer = c, Channel = ContactChannel.WhatsApp, Purpose = ConsentPurpose.Marketing, Status = ConsentStatus.Granted,
            CapturedAt = host.Now, Method = ConsentMethod.Form, Evidence = new ConsentEvidence { DoubleOptInToken = "tok-1", DoubleOptInSentAt = host.Now },
        });
        var pending = await host.Consent.CheckAsync(host.Check(c, ContactChannel.WhatsApp));
        Assert.Contains(pending.Reasons, r => r.Code == SendReasonCode.ConsentPending && r.Until == host.Now + Duration.FromHours(48));

        var expired = await host.Consent.CheckAsync(host.Check(c, ContactChannel.WhatsApp, at: host.Now + Duration.FromHours(49)));
        Assert.True(expired.Has(SendReasonCode.ConsentExpired));
        var states = await host.Consent.GetStatesAsync(host.Tenant, c, host.Now + Duration.FromHours(49));
        Assert.Equal(ConsentStatus.Expired, Assert.Single(states).Status);
    }

    [Fact]
    public async Task Double_opt_in_confirmed_in_time_grants_and_late_confirmation_is_refused()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("pat@example.com", phone: "+33612345670");
        var evidence = new ConsentEvidence { DoubleOptInToken = "tok-1", DoubleOptInSentAt = host.Now, IpAddress = "203.0.113.7", UserAgent = "UA" };
        var request = new ConsentRecordRequest
        {
            Tenant = host.Tenant, Customer = c, Channel = ContactChannel.WhatsApp, Purpose = ConsentPurpose.Marketing, Status = ConsentStatus.Pending,
            CapturedAt = host.Now, Method = ConsentMethod.App, Evidence = evidence, Wording = new ConsentWording("v3", "sha256:abc", "fr-FR"),
        };
        await host.Consent.RecordAsync(request);

        host.Clock.Advance(Duration.FromHours(50));
        var late = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Consent.ConfirmDoubleOptInAsync(host.Tenant, c, ContactChannel.WhatsApp, ConsentPurpose.Marketing, "tok-1", host.Now));
        Assert.Equal(ConsentErrorCodes.DoubleOptInExpired, Assert.Single(late.Errors).Code);

        await host.Consent.RecordAsync(request with { CapturedAt = host.Now, Evidence = evidence with { DoubleOptInToken = "tok-2", DoubleOptInSentAt = host.Now } });
        var wrong = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Consent.ConfirmDoubleOptInAsync(host.Tenant, c, ContactChannel.WhatsApp, ConsentPurpose.Marketing, "tok-1", host.Now));
        Assert.Equal(ConsentErrorCodes.NoPendingDoubleOptIn, Assert.Single(wrong.Errors).Code);
        host.Clock.Advance(Duration.FromHours(1));
        var granted = await host.Consent.ConfirmDoubleOptInAsync(host.Tenant, c, ContactChannel.WhatsApp, ConsentPurpose.Marketing, "tok-2", host.Now);
        Assert.Equal(ConsentStatus.Granted, granted.Status);
        Assert.Equal(host.Now, granted.Evidence!.DoubleOptInConfirmedAt);
        Assert.Equal("v3", granted.Wording!.Version);
        var d = await host.Consent.CheckAsync(host.Check(c, ContactChannel.WhatsApp));
        Assert.Equal(SendVerdict.Send, d.Verdict);
    }

    [Fact]
    public async Task Grant_with_expiry_lapses()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("exp@example.com");
        await host.Consent.RecordAsync(new ConsentRecordRequest
        {
            Tenant = host.Tenant, Customer = c, Channel = ContactChannel.Email, Purpose = ConsentPurpose.Marketing, Status = ConsentStatus.Granted,
            CapturedAt = host.Now, Method = ConsentMethod.Pos, ExpiresAt = host.Now + Duration.FromDays(365),
        });
        Assert.Equal(SendVerdict.Send, (await host.Consent.CheckAsync(host.Check(c))).Verdict);
        Assert.True((await host.Consent.CheckAsync(host.Check(c, at: host.Now + Duration.FromDays(366)))).Has(SendReasonCode.ConsentExpired));
    }

    [Theory]
    [InlineData(SuppressionList.HardBounce, true)]
    [InlineData(SuppressionList.StaffDoNotContact, true)]
    [InlineData(SuppressionList.SpamComplaint, false)]
    [InlineData(SuppressionList.UnsubscribedAll, false)]
    public async Task Suppression_lists_skip_marketing_and_only_hard_ones_skip_transactional(SuppressionList list, bool hard)
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        await host.Consent.SuppressAsync(host.Tenant, c, list, list == SuppressionList.UnsubscribedAll ? null : ContactChannel.Email, host.Now, "staff-7");
        var marketing = await host.Consent.CheckAsync(host.Check(c));
        Assert.Equal(SendVerdict.Skip, marketing.Verdict);
        Assert.Contains(marketing.Reasons, r => r.Code == SendReasonCode.Suppressed && r.List == list);

        var transactional = await host.Consent.CheckAsync(host.Check(c, messageClass: "transactional"));
        Assert.Equal(hard ? SendVerdict.Skip : SendVerdict.Send, transactional.Verdict);

        var otherChannel = await host.Consent.CheckAsync(host.Check(c, ContactChannel.Push));
        Assert.Equal(list == SuppressionList.UnsubscribedAll ? SendVerdict.Skip : SendVerdict.Send, otherChannel.Verdict);

        await host.Consent.LiftSuppressionAsync(host.Tenant, c, list, list == SuppressionList.UnsubscribedAll ? null : ContactChannel.Email, host.Now, "staff-7");
        Assert.Equal(SendVerdict.Send, (await host.Consent.CheckAsync(host.Check(c))).Verdict);
    }

    [Fact]
    public async Task Transactional_bypasses_consent_caps_and_holdout_but_not_unreachability()
    {
        await using var host = TestHost.Create(TestHost.TestPolicy() with { Holdout = new HoldoutPolicy { Percent = 50, Salt = "x" } });
        var c = await host.SignUpAsync("t@example.com");
        var d = await host.Consent.CheckAsync(host.Check(c, messageClass: "transactional"));
        Assert.Equal(SendVerdict.Send, d.Verdict);
        Assert.Equal(SendReasonCode.TransactionalBypass, Assert.Single(d.Reasons).Code);

        var sms = await host.Consent.CheckAsync(host.Check(c, ContactChannel.Sms, "transactional"));
        Assert.Equal(SendVerdict.Skip, sms.Verdict);
        Assert.True(sms.Has(SendReasonCode.NoVerifiedAddress));
    }

    [Fact]
    public async Task Unreachable_channel_has_no_verified_address()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("only-email@example.com");
        await host.ConsentEventAsync("only-email@example.com", ContactChannel.Sms, ConsentStatus.Granted);
        var d = await host.Consent.CheckAsync(host.Check(c, ContactChannel.Sms));
        Assert.Equal(SendVerdict.Skip, d.Verdict);
        Assert.Equal([SendReasonCode.NoVerifiedAddress], d.Reasons.Select(r => r.Code));
    }

    [Fact]
    public async Task Holdout_customers_get_no_marketing()
    {
        await using var host = TestHost.Create(TestHost.TestPolicy() with { Holdout = new HoldoutPolicy { Percent = 50, Salt = "s1" } });
        var held = 0;
        for (var i = 0; i < 20; i++)
        {
            var c = await host.GrantedCustomerAsync($"h{i}@example.com");
            var d = await host.Consent.CheckAsync(host.Check(c));
            Assert.Equal(ContactState.IsHeldOut(c, host.Policy.Source.Holdout), d.Has(SendReasonCode.Holdout));
            held += d.Has(SendReasonCode.Holdout) ? 1 : 0;
        }

        Assert.InRange(held, 3, 17);
    }

    [Fact]
    public async Task Pause_and_topic_unsubscribe_skip_marketing()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        await host.Preferences.UpdateAsync(new PreferenceUpdate { Tenant = host.Tenant, Customer = c, At = host.Now, PauseUntil = new LocalDate(2025, 6, 20), Topics = new Dictionary<string, bool> { ["newsletters"] = false } });
        var paused = await host.Consent.CheckAsync(host.Check(c));
        var reason = Assert.Single(paused.Reasons, r => r.Code == SendReasonCode.Paused);
        Assert.Equal(new LocalDateTime(2025, 6, 20, 0, 0), reason.LocalUntil);
        var news = await host.Consent.CheckAsync(host.Check(c, messageClass: "newsletter", at: Instant.FromUtc(2025, 6, 21, 10, 0)));
        Assert.Contains(news.Reasons, r => r.Code == SendReasonCode.TopicUnsubscribed && r.Topic == "newsletters");
        Assert.Equal(SendVerdict.Send, (await host.Consent.CheckAsync(host.Check(c, at: Instant.FromUtc(2025, 6, 21, 10, 0)))).Verdict);
    }

    [Fact]
    public async Task Quiet_hours_defer_to_the_window_edge_in_local_time()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        var at = Instant.FromUtc(2025, 6, 10, 20, 30); // 22:30 in Paris (UTC+2)
        var d = await host.Consent.CheckAsync(host.Check(c, at: at));
        Assert.Equal(SendVerdict.Defer, d.Verdict);
        Assert.Equal(Instant.FromUtc(2025, 6, 11, 7, 0), d.DeferUntil); // 09:00 Paris
        var r = Assert.Single(d.Reasons);
        Assert.Equal(SendReasonCode.QuietHours, r.Code);
        Assert.Equal(new LocalDateTime(2025, 6, 11, 9, 0), r.LocalUntil);

        var sms = await host.Consent.CheckAsync(host.Check(c, ContactChannel.Sms, at: Instant.FromUtc(2025, 6, 10, 7, 30))); // 09:30, SMS window opens 10:00
        Assert.Equal(Instant.FromUtc(2025, 6, 10, 8, 0), sms.DeferUntil);
        var receipt = await host.Consent.CheckAsync(host.Check(c, messageClass: "transactional", at: at));
        Assert.Equal(SendVerdict.Send, receipt.Verdict);
    }

    [Fact]
    public async Task Quiet_hours_use_the_customer_zone_then_inferred_then_the_tenant_default()
    {
        await using var host = TestHost.Create();
        var ny = await host.SignUpAsync("ny@example.com", zone: "America/New_York");
        var inferred = await host.SignUpAsync("fr@example.com", phone: "+33612345678", zone: null);
        var fallback = await host.SignUpAsync("nozone@example.com", zone: null);
        foreach (var (c, status) in new[] { (ny, "ny@example.com"), (inferred, "fr@example.com"), (fallback, "nozone@example.com") })
        {
            await host.ConsentEventAsync(status, ContactChannel.Email, ConsentStatus.Granted);
        }

        var at = Instant.FromUtc(2025, 6, 10, 12, 0); // 08:00 New York, 14:00 Paris
        var dny = await host.Consent.CheckAsync(host.Check(ny, at: at));
        Assert.Equal(SendVerdict.Defer, dny.Verdict);
        Assert.Equal(Instant.FromUtc(2025, 6, 10, 13, 0), dny.DeferUntil);
        var dfr = await host.Consent.CheckAsync(host.Check(inferred, at: at));
        Assert.Equal((SendVerdict.Send, "Europe/Paris", TimeZoneSource.Inferred), (dfr.Verdict, dfr.TimeZone, dfr.TimeZoneSource));
        var dfb = await host.Consent.CheckAsync(host.Check(fallback, at: at));
        Assert.Equal(("Europe/Paris", TimeZoneSource.TenantDefault), (dfb.TimeZone, dfb.TimeZoneSource));
    }

    [Fact]
    public async Task Frequency_cap_skips_or_defers_until_the_window_frees()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        var t0 = Instant.FromUtc(2025, 6, 10, 8, 0);
        Assert.True((await host.Consent.TryReserveSendAsync(host.Check(c, at: t0, messageId: "a"))).Reserved);
        Assert.True((await host.Consent.TryReserveSendAsync(host.Check(c, at: t0 + Duration.FromHours(26), messageId: "b"))).Reserved);
        var again = await host.Consent.TryReserveSendAsync(host.Check(c, at: t0 + Duration.FromHours(26), messageId: "b"));
        Assert.True(again.Reserved); // idempotent by message id: still one slot

        var at = t0 + Duration.FromDays(3);
        var skip = await host.Consent.TryReserveSendAsync(host.Check(c, at: at, messageId: "c"));
        Assert.False(skip.Reserved);
        Assert.Equal(SendVerdict.Skip, skip.Decision.Verdict);
        var cap = Assert.Single(skip.Decision.Reasons);
        Assert.Equal((SendReasonCode.FrequencyCap, "promo-weekly", 2, 2), (cap.Code, cap.Rule, cap.Count, cap.Max));
        Assert.Equal(t0 + Duration.FromDays(7), cap.Until);

        var defer = await host.Consent.CheckAsync(host.Check(c, messageClass: "promo_defer", at: at));
        Assert.Equal(SendVerdict.Defer, defer.Verdict);
        Assert.Equal(t0 + Duration.FromDays(7), defer.DeferUntil);

        // Releasing a slot that was not dispatched frees it.
        Assert.True(await host.Consent.ReleaseSendAsync(host.Tenant, c, "b"));
        Assert.True((await host.Consent.TryReserveSendAsync(host.Check(c, at: at, messageId: "c"))).Reserved);
    }

    [Fact]
    public async Task Deferral_beyond_the_horizon_is_skipped()
    {
        var policy = TestHost.TestPolicy(new FrequencyCapRule { Id = "monthly", Max = 1, Days = 30 });
        await using var host = TestHost.Create(policy with { MessageClasses = [.. policy.MessageClasses.Where(m => m.Id != "promo_defer"), new MessageClassDefinition { Id = "promo_defer", Purpose = ConsentPurpose.Marketing, Tags = ["promotions"], OnCapReached = CapAction.Defer, DeferHorizonHours = 48 }] });
        var c = await host.GrantedCustomerAsync();
        Assert.True((await host.Consent.TryReserveSendAsync(host.Check(c, messageId: "a"))).Reserved);
        var d = await host.Consent.CheckAsync(host.Check(c, messageClass: "promo_defer", at: host.Now + Duration.FromDays(1)));
        Assert.Equal(SendVerdict.Skip, d.Verdict);
        Assert.True(d.Has(SendReasonCode.DeferHorizonExceeded));
        Assert.True(d.Has(SendReasonCode.FrequencyCap));
    }

    [Fact]
    public async Task Cap_rules_combine_and_the_most_restrictive_wins()
    {
        var caps = new[]
        {
            new FrequencyCapRule { Id = "all-weekly", Max = 5, Days = 7 },
            new FrequencyCapRule { Id = "email-daily", Channel = ContactChannel.Email, Max = 1, Window = CapWindowKind.CalendarDays, Days = 1 },
            new FrequencyCapRule { Id = "news-weekly", Tag = "news", Max = 1, Days = 7 },
        };
        await using var host = TestHost.Create(TestHost.TestPolicy(caps));
        var c = await host.GrantedCustomerAsync();
        var t0 = Instant.FromUtc(2025, 6, 10, 8, 0); // 10:00 Paris
        Assert.True((await host.Consent.TryReserveSendAsync(host.Check(c, at: t0, messageId: "1"))).Reserved);
        var sameDay = await host.Consent.CheckAsync(host.Check(c, at: t0 + Duration.FromHours(3)));
        var r = Assert.Single(sameDay.Reasons);
        Assert.Equal("email-daily", r.Rule);
        Assert.Equal(new LocalDateTime(2025, 6, 11, 0, 0), r.LocalUntil); // the next local midnight
        Assert.Equal(SendVerdict.Send, (await host.Consent.CheckAsync(host.Check(c, ContactChannel.Push, at: t0 + Duration.FromHours(3)))).Verdict);
    }

    [Fact]
    public async Task Weekly_digest_preference_acts_as_a_personal_cap()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        await host.Preferences.UpdateAsync(new PreferenceUpdate { Tenant = host.Tenant, Customer = c, At = host.Now, Frequency = DesiredFrequency.WeeklyDigest });
        Assert.True((await host.Consent.TryReserveSendAsync(host.Check(c, messageClass: "newsletter", messageId: "n1"))).Reserved);
        var d = await host.Consent.CheckAsync(host.Check(c, messageClass: "newsletter", at: host.Now + Duration.FromDays(2)));
        Assert.Contains(d.Reasons, r => r.Code == SendReasonCode.FrequencyCap && r.Rule == "preference.frequency");
    }

    [Fact]
    public async Task Gate_decisions_are_kept_in_the_trail_with_inputs_and_saturation_counts_them()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        await host.Consent.TryReserveSendAsync(host.Check(c, messageId: "m1"));
        await host.Consent.CheckAsync(host.Check(c, at: Instant.FromUtc(2025, 6, 10, 20, 30), messageId: "m2"));
        var trail = await host.Engine.GetDecisionTrailAsync(host.Tenant, c, 0, 500);
        var gate = trail.Where(d => d.Rule.StartsWith(ConsentService.GateRule, StringComparison.Ordinal)).ToArray();
        Assert.Equal(["send", "defer"], gate.Select(d => d.Action));
        Assert.Equal("quiet_hours", gate[1].Inputs["reasons"]);
        Assert.Equal("2025-06-10T22:30", gate[1].Inputs["localTime"]);
        Assert.Equal("Europe/Paris", gate[1].Inputs["timeZone"]);
        Assert.Equal("true", gate[0].Inputs["reserved"]);

        var view = await host.Consent.GetSaturationAsync(host.Tenant, Instant.FromUtc(2025, 6, 1, 0, 0), Instant.FromUtc(2025, 7, 1, 0, 0));
        var week = Assert.Single(view.Weeks);
        Assert.Equal((1, 1, new LocalDate(2025, 6, 9)), (week.Messages, week.Customers, week.WeekStart));
        Assert.Equal(1, view.DeferredByReason["quiet_hours"]);
    }

    [Fact]
    public async Task Unknown_message_class_and_purpose_mismatch_are_typed_errors()
    {
        await using var host = TestHost.Create();
        var c = await host.GrantedCustomerAsync();
        var e1 = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Consent.CheckAsync(host.Check(c, messageClass: "nope")));
        Assert.Equal(ConsentErrorCodes.UnknownMessageClass, e1.Errors[0].Code);
        var e2 = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Consent.CheckAsync(host.Check(c, purpose: ConsentPurpose.Transactional)));
        Assert.Equal(ConsentErrorCodes.PurposeMismatch, e2.Errors[0].Code);
        var e3 = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Consent.CheckAsync(host.Check(c) with { Channel = (ContactChannel)42 }));
        Assert.Equal(ConsentErrorCodes.UnknownChannel, e3.Errors[0].Code);
    }
}
