using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

/// <summary>A delivery's completion and its counts (journey counters, the customer's sends per channel) commit together.</summary>
public sealed class DeliveryCountTests
{
    [Fact]
    public async Task A_crash_between_delivery_and_its_counts_neither_loses_nor_doubles_a_count()
    {
        CrashingStore? crashing = null;
        await using var h = new Harness(o => o.Journeys.Add(JourneyTemplates.WelcomeSeries with { HoldoutPercent = 0 }), wrapStore: s => crashing = new CrashingStore(s));
        var ann = (await h.SignUpAsync("ann@example.com")).Customer!.Value;
        Assert.NotNull(crashing);
        crashing.CrashCommits = 1;

        await h.TickAsync();

        // Delivered, then the unit of work that completes it and counts it crashed: nothing of it was applied.
        Assert.Equal(1, crashing.Crashed);
        Assert.Single(h.Email.Sent);
        Assert.Equal(1, await h.Store.Outbox.CountPendingAsync(Harness.Tenant));
        Assert.Equal(0, (await StatsAsync(h)).SingleOrDefault(s => s.Journey == "welcome_series")?["sent"] ?? 0);
        Assert.Null(await ResponseAsync(h, ann));

        // Once the lease runs out the message is claimed and delivered again (senders dedupe by key), completed and
        // counted once.
        h.Clock.Advance(Duration.FromMinutes(6));
        await h.TickAsync();
        await h.TickAsync();

        Assert.Equal(2, h.Email.Sent.Count);
        Assert.Single(h.Email.Sent.Select(s => s.Key).Distinct());
        Assert.Equal(0, await h.Store.Outbox.CountPendingAsync(Harness.Tenant));
        var report = await h.ReportAsync("welcome_series");
        Assert.Equal(1, report.Sent);
        Assert.Equal(1, (await ResponseAsync(h, ann))!.For(ContactChannel.Email).Sent);
        var stats = (await StatsAsync(h)).Single(s => s.Journey == "welcome_series");
        Assert.Equal((1L, 1L, 1L), (stats["sent"], stats["sent.email"], stats["complete_failed"]));
    }

    [Fact]
    public async Task A_delivery_whose_claim_was_lost_counts_nothing_and_the_new_owner_counts_it_once()
    {
        await using var h = new Harness(o => o.Journeys.Add(JourneyTemplates.WelcomeSeries with { HoldoutPercent = 0 }));
        var ann = (await h.SignUpAsync("ann@example.com")).Customer!.Value;
        IReadOnlyList<Storage.OutboxClaim> stolen = [];
        h.Email.BeforeSend = async m =>
        {
            h.Email.BeforeSend = null;
            stolen = await h.Store.Outbox.ClaimDueAsync(h.Clock.GetCurrentInstant() + Duration.FromMinutes(6), 10, Duration.FromMinutes(5), "other-node");
        };

        await h.TickAsync();

        Assert.Single(stolen);
        Assert.Null(await ResponseAsync(h, ann));
        Assert.Equal(1, (await StatsAsync(h)).Single(s => s.Journey == "welcome_series")["lease_lost"]);

        // The other node completes it in a unit of work of its own.
        await using (var session = await h.Store.OpenSessionAsync(Harness.Tenant))
        {
            await session.Outbox.CompleteAsync(stolen[0].Message.Key, "other-node");
            await session.Journeys.CountAsync("welcome_series", "sent");
            await session.CommitAsync();
        }

        Assert.Equal(0, await h.Store.Outbox.CountPendingAsync(Harness.Tenant));
        Assert.Equal(1, (await StatsAsync(h)).Single(s => s.Journey == "welcome_series")["sent"]);
    }

    private static async Task<CustomerChannelResponse?> ResponseAsync(Harness h, CustomerId customer)
    {
        await using var session = await h.Store.OpenSessionAsync(Harness.Tenant);
        return await session.Journeys.GetResponseAsync(customer);
    }

    private static async Task<IReadOnlyList<JourneyStats>> StatsAsync(Harness h)
    {
        await using var session = await h.Store.OpenSessionAsync(Harness.Tenant);
        return await session.Journeys.GetStatsAsync();
    }
}
