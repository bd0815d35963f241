using Loyalty.Sdk.Events;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Consent.Tests;

public sealed class BadInputTests
{
    private static ConsentRecordRequest Request(TestHost host, CustomerId c) => new()
    {
        Tenant = host.Tenant, Customer = c, Channel = ContactChannel.Email, Purpose = ConsentPurpose.Marketing, Status = ConsentStatus.Granted,
        CapturedAt = host.Now, Method = ConsentMethod.Form,
    };

    [Fact]
    public async Task Unknown_channel_and_purpose_are_refused_with_both_errors_and_nothing_applied()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("x@example.com");
        var ex = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Consent.RecordAsync(Request(host, c) with { Channel = (ContactChannel)99, Purpose = (ConsentPurpose)42 }));
        Assert.Equal([ConsentErrorCodes.UnknownChannel, ConsentErrorCodes.UnknownPurpose], ex.Errors.Select(e => e.Code));
        Assert.Empty(await host.Consent.GetHistoryAsync(host.Tenant, c));
    }

    [Fact]
    public async Task Consent_dated_in_the_future_is_refused()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("x@example.com");
        var ex = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Consent.RecordAsync(Request(host, c) with { CapturedAt = host.Now + Duration.FromDays(1) }));
        Assert.Contains(ex.Errors, e => e.Code == ConsentErrorCodes.FutureDated && e.Path == "$.capturedAt");
        Assert.Empty(await host.Consent.GetHistoryAsync(host.Tenant, c));

        var evt = await Assert.ThrowsAsync<EventValidationException>(async () => await host.ConsentEventAsync("x@example.com", ContactChannel.Email, ConsentStatus.Granted, at: host.Now + Duration.FromDays(1)));
        Assert.Contains(evt.Errors, e => e.Code == "in_future");
        Assert.Empty(await host.Consent.GetHistoryAsync(host.Tenant, c));
    }

    [Fact]
    public async Task Withdrawal_without_a_prior_grant_is_refused_through_the_api_and_the_pipeline()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("x@example.com");
        var api = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Consent.RecordAsync(Request(host, c) with { Status = ConsentStatus.Withdrawn }));
        Assert.Equal(ConsentErrorCodes.WithdrawalWithoutGrant, Assert.Single(api.Errors).Code);

        var id = host.NextId();
        var evt = new ConsentChanged
        {
            Id = id, Tenant = host.Tenant, OccurredAt = host.Now, Identifiers = [TestHost.Email("x@example.com")],
            ContactChannel = ContactChannel.Email, Purpose = ConsentPurpose.Marketing, Status = ConsentStatus.Withdrawn, Source = "form",
        };
        var pipeline = await Assert.ThrowsAsync<EventValidationException>(async () => await host.Engine.IngestAsync(evt));
        Assert.Equal(ConsentErrorCodes.WithdrawalWithoutGrant, Assert.Single(pipeline.Errors).Code);
        Assert.Empty(await host.Consent.GetHistoryAsync(host.Tenant, c));

        // Nothing was applied, not even the event id: after a grant the same event is accepted.
        await host.ConsentEventAsync("x@example.com", ContactChannel.Email, ConsentStatus.Granted);
        Assert.Equal(Pipeline.IngestOutcome.Applied, (await host.Engine.IngestAsync(evt)).Outcome);
    }

    [Fact]
    public async Task Unknown_source_and_engine_only_status_are_refused_in_events()
    {
        await using var host = TestHost.Create();
        await host.SignUpAsync("x@example.com");
        var e1 = await Assert.ThrowsAsync<EventValidationException>(async () => await host.ConsentEventAsync("x@example.com", ContactChannel.Email, ConsentStatus.Granted, source: "carrier_pigeon"));
        Assert.Equal(ConsentErrorCodes.UnknownSource, Assert.Single(e1.Errors).Code);
        var e2 = await Assert.ThrowsAsync<EventValidationException>(async () => await host.ConsentEventAsync("x@example.com", ContactChannel.Email, ConsentStatus.Expired));
        Assert.Equal(ConsentErrorCodes.InvalidStatus, Assert.Single(e2.Errors).Code);
        await Assert.ThrowsAsync<EventValidationException>(async () => await host.ConsentEventAsync("x@example.com", (ContactChannel)77, ConsentStatus.Granted));
    }

    [Fact]
    public async Task Invalid_time_zone_and_unknown_topic_are_refused_by_the_preference_center_and_nothing_applied()
    {
        await using var host = TestHost.Create();
        var c = await host.SignUpAsync("x@example.com");
        var ex = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Preferences.UpdateAsync(new PreferenceUpdate
        {
            Tenant = host.Tenant, Customer = c, At = host.Now, TimeZone = "Mars/Olympus_Mons", Topics = new Dictionary<string, bool> { ["gossip"] = true },
            Channels = new Dictionary<ContactChannel, bool> { [ContactChannel.Email] = true },
        }));
        Assert.Equal([ConsentErrorCodes.UnknownTopic, ConsentErrorCodes.InvalidTimeZone], ex.Errors.Select(e => e.Code));
        Assert.Empty(await host.Consent.GetHistoryAsync(host.Tenant, c));
        Assert.Equal("Europe/Paris", (await host.Preferences.GetAsync(host.Tenant, c, host.Now)).TimeZone);
    }

    [Fact]
    public async Task Unknown_customer_is_a_typed_error()
    {
        await using var host = TestHost.Create();
        var ex = await Assert.ThrowsAsync<ConsentValidationException>(async () => await host.Consent.CheckAsync(host.Check(new CustomerId("cus_nobody"))));
        Assert.Equal(ConsentErrorCodes.UnknownCustomer, ex.Errors[0].Code);
    }
}
