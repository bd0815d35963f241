using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Consent.Tests;

/// <summary>
/// Quiet hours across DST transitions. Rules: a skipped local time maps to the instant the clocks jump; a repeated
/// local time maps to its earlier occurrence when quiet hours start and its later occurrence when they end.
/// </summary>
public sealed class DstTests
{
    private static async Task<SendDecision> CheckAsync(string zone, string start, string end, Instant at)
    {
        var policy = TestHost.TestPolicy() with { QuietHours = new QuietHours { Start = start, End = end } };
        await using var host = TestHost.Create(policy, now: at);
        var c = await host.SignUpAsync("dst@example.com", zone: zone, at: at - Duration.FromDays(30));
        await host.ConsentEventAsync("dst@example.com", ContactChannel.Email, ConsentStatus.Granted, at: at - Duration.FromDays(29));
        return await host.Consent.CheckAsync(host.Check(c, at: at));
    }

    [Theory]
    // Europe/Paris, spring forward 2025-03-30 02:00 → 03:00: quiet ends at 02:30, which does not exist → at the jump.
    [InlineData("Europe/Paris", "01:00", "02:30", "2025-03-30T00:30:00Z", "2025-03-30T01:00:00Z", "2025-03-30T03:00")]
    // Europe/Paris, fall back 2025-10-26 03:00 → 02:00: quiet ends at the second 02:30 (CET).
    [InlineData("Europe/Paris", "01:00", "02:30", "2025-10-26T00:45:00Z", "2025-10-26T01:30:00Z", "2025-10-26T02:30")]
    // Europe/Paris, fall back: quiet starting at 02:30 starts at its first occurrence (CEST).
    [InlineData("Europe/Paris", "02:30", "05:00", "2025-10-26T00:40:00Z", "2025-10-26T04:00:00Z", "2025-10-26T05:00")]
    // America/New_York, spring forward 2025-03-09 02:00 → 03:00.
    [InlineData("America/New_York", "22:00", "02:30", "2025-03-09T06:30:00Z", "2025-03-09T07:00:00Z", "2025-03-09T03:00")]
    // America/New_York, fall back 2025-11-02 02:00 → 01:00: quiet ends at the second 01:30 (EST).
    [InlineData("America/New_York", "22:00", "01:30", "2025-11-02T05:45:00Z", "2025-11-02T06:30:00Z", "2025-11-02T01:30")]
    // Australia/Sydney, DST ends 2025-04-06 03:00 → 02:00: quiet ends at the second 02:30 (AEST).
    [InlineData("Australia/Sydney", "21:00", "02:30", "2025-04-05T15:40:00Z", "2025-04-05T16:30:00Z", "2025-04-06T02:30")]
    // Australia/Sydney, DST starts 2025-10-05 02:00 → 03:00: 02:30 does not exist → at the jump.
    [InlineData("Australia/Sydney", "21:00", "02:30", "2025-10-04T15:30:00Z", "2025-10-04T16:00:00Z", "2025-10-05T03:00")]
    public async Task Quiet_hours_follow_the_documented_dst_rules(string zone, string start, string end, string at, string expectedUtc, string expectedLocal)
    {
        var d = await CheckAsync(zone, start, end, Instant.FromDateTimeOffset(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(SendVerdict.Defer, d.Verdict);
        Assert.Equal(Instant.FromDateTimeOffset(DateTimeOffset.Parse(expectedUtc, System.Globalization.CultureInfo.InvariantCulture)), d.DeferUntil);
        Assert.Equal(expectedLocal, Assert.Single(d.Reasons).LocalUntil!.Value.ToString("yyyy-MM-dd'T'HH:mm", null));
    }

    [Theory]
    // Just after the end of quiet hours on both sides of a transition, the message goes.
    [InlineData("Europe/Paris", "2025-03-30T07:00:00Z")]
    [InlineData("America/New_York", "2025-11-02T14:00:00Z")]
    [InlineData("Australia/Sydney", "2025-04-06T00:00:00Z")]
    public async Task Outside_quiet_hours_on_a_transition_day_is_sent(string zone, string at)
    {
        var d = await CheckAsync(zone, "21:00", "09:00", Instant.FromDateTimeOffset(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(SendVerdict.Send, d.Verdict);
    }

    [Fact]
    public async Task Regular_quiet_hours_on_the_spring_forward_night_end_at_local_nine()
    {
        // 21:00–09:00 in Paris over the night of 2025-03-29/30 is one hour shorter in absolute time, but ends at 09:00 CEST.
        var d = await CheckAsync("Europe/Paris", "21:00", "09:00", Instant.FromUtc(2025, 3, 29, 21, 0));
        Assert.Equal(Instant.FromUtc(2025, 3, 30, 7, 0), d.DeferUntil);
    }

    [Fact]
    public async Task A_calendar_day_starts_at_its_first_valid_instant_when_midnight_is_skipped()
    {
        // America/Sao_Paulo skipped 2018-11-04 00:00 → 01:00: the next "day" of a calendar cap starts at 01:00 local.
        var policy = TestHost.TestPolicy(new FrequencyCapRule { Id = "daily", Max = 1, Window = CapWindowKind.CalendarDays, Days = 1 }) with { QuietHours = null };
        var at = Instant.FromUtc(2018, 11, 3, 22, 0); // 19:00 local (-03)
        await using var host = TestHost.Create(policy, now: at);
        var c = await host.SignUpAsync("sp@example.com", zone: "America/Sao_Paulo", at: at - Duration.FromDays(30));
        await host.ConsentEventAsync("sp@example.com", ContactChannel.Email, ConsentStatus.Granted, at: at - Duration.FromDays(29));
        Assert.True((await host.Consent.TryReserveSendAsync(host.Check(c, at: at - Duration.FromHours(6), messageId: "x"))).Reserved);
        var d = await host.Consent.CheckAsync(host.Check(c, at: at));
        var r = Assert.Single(d.Reasons);
        Assert.Equal(Instant.FromUtc(2018, 11, 4, 3, 0), r.Until);
        Assert.Equal(new LocalDateTime(2018, 11, 4, 1, 0), r.LocalUntil);
    }
}
