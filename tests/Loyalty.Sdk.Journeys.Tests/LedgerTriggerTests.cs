using Loyalty.Sdk.Events;
using Loyalty.Sdk.Ledger;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

/// <summary>Journeys started by the ledger's due work (outside ingestion), on a fake clock.</summary>
public sealed class LedgerTriggerTests
{
    private static JourneyDefinition OnTrigger(string id, JourneyTriggerKind kind, int days = 0, JourneyReEntry reEntry = JourneyReEntry.Always) => new()
    {
        Id = id,
        ReEntry = reEntry,
        Transactional = true,
        Trigger = new JourneyTrigger { Kind = kind, Days = days },
        Steps = [new JourneyStep { Id = "tell", Kind = JourneyStepKind.Action, Action = new JourneyAction { Kind = JourneyActionKind.SendMessage, Channel = ContactChannel.Email, Template = id } }],
    };

    private static async Task<CustomerId> MemberWithPointsAsync(Harness h, string email, long points = 500)
    {
        var customer = (await h.SignUpAsync(email)).Customer!.Value;
        await h.Ledger.ExecuteAsync(Harness.Tenant, new EarnCommand { IdempotencyKey = "earn-" + email, Customer = customer, Points = points, Rule = "test" });
        return customer;
    }

    private static async Task RunLedgerDueWorkAsync(Harness h)
    {
        while ((await h.Ledger.RunDueWorkAsync(Harness.Tenant, h.Clock.GetCurrentInstant())).More)
        {
        }
    }

    [Fact]
    public async Task Points_expiring_fires_from_due_work_once_however_often_due_work_runs()
    {
        await using var h = new Harness(o => o.Journeys.Add(OnTrigger("expiring", JourneyTriggerKind.PointsExpiring, days: 30)));
        var customer = await MemberWithPointsAsync(h, "exp@example.com");
        var expires = (await h.Ledger.GetLotsAsync(Harness.Tenant, customer)).Single().ExpiresAt!.Value;

        h.Clock.Reset(expires - Duration.FromDays(40));
        await RunLedgerDueWorkAsync(h);
        Assert.Null(await h.Journeys.GetInstanceAsync(Harness.Tenant, customer, "expiring"));

        h.Clock.Reset(expires - Duration.FromDays(25));
        await RunLedgerDueWorkAsync(h);
        await RunLedgerDueWorkAsync(h);
        var instance = await h.Journeys.GetInstanceAsync(Harness.Tenant, customer, "expiring");
        Assert.Equal(1, instance!.Entry);
        await h.TickAsync();
        for (var day = 0; day < 30; day++)
        {
            h.Clock.Advance(Duration.FromDays(1));
            await RunLedgerDueWorkAsync(h);
            await h.TickAsync();
        }

        Assert.Equal(["expiring"], h.Email.Sent.Select(s => s.Template!).ToArray());
        Assert.Equal(1, (await h.ReportAsync("expiring")).Entries);
        Assert.Equal(1, (await h.Journeys.GetInstanceAsync(Harness.Tenant, customer, "expiring"))!.Entry);
    }

    [Fact]
    public async Task A_horizon_shorter_than_the_ledger_notice_waits_on_a_durable_timer_and_checks_the_points_are_still_there()
    {
        await using var h = new Harness(o => o.Journeys.Add(OnTrigger("last_week", JourneyTriggerKind.PointsExpiring, days: 7)));
        var keeps = await MemberWithPointsAsync(h, "keeps@example.com");
        var spends = await MemberWithPointsAsync(h, "spends@example.com");
        var expires = (await h.Ledger.GetLotsAsync(Harness.Tenant, keeps)).Single().ExpiresAt!.Value;

        // The default program notices 30 days ahead: the journey's 7-day horizon becomes a timer.
        h.Clock.Reset(expires - Duration.FromDays(29));
        await RunLedgerDueWorkAsync(h);
        var scheduled = await h.Journeys.GetInstanceAsync(Harness.Tenant, keeps, "last_week");
        Assert.Equal(JourneyStatus.Scheduled, scheduled!.Status);
        Assert.Equal(expires - Duration.FromDays(7), scheduled.WakeAt);

        await h.Ledger.ExecuteAsync(Harness.Tenant, new RedeemCommand { IdempotencyKey = "spend-all", Customer = spends, Points = 500 });
        h.Clock.Reset(expires - Duration.FromDays(8));
        await h.TickAsync();
        Assert.Empty(h.Email.Sent);

        h.Clock.Reset(expires - Duration.FromDays(7));
        await h.TickAsync();
        var sent = Assert.Single(h.Email.Sent);
        Assert.Equal(keeps, sent.Customer);
        Assert.Equal("not_eligible", (await h.Journeys.GetInstanceAsync(Harness.Tenant, spends, "last_week"))!.ExitReason);
    }

    [Fact]
    public async Task An_expired_reservation_fires_from_due_work_once()
    {
        await using var h = new Harness(o => o.Journeys.Add(OnTrigger("lapsed", JourneyTriggerKind.ReservationExpired)));
        var customer = await MemberWithPointsAsync(h, "res@example.com");
        await h.Ledger.ExecuteAsync(Harness.Tenant, new ReserveCommand { IdempotencyKey = "hold", Customer = customer, ReservationId = "checkout-1", Points = 100 });
        await RunLedgerDueWorkAsync(h);
        Assert.Null(await h.Journeys.GetInstanceAsync(Harness.Tenant, customer, "lapsed"));

        h.Clock.Advance(Duration.FromHours(1));
        await RunLedgerDueWorkAsync(h);
        await RunLedgerDueWorkAsync(h);
        h.Clock.Advance(Duration.FromHours(1));
        await RunLedgerDueWorkAsync(h);
        await h.TickAsync();
        Assert.Equal(["lapsed"], h.Email.Sent.Select(s => s.Template!).ToArray());
        var report = await h.ReportAsync("lapsed");
        Assert.Equal(1, report.Entries);
        var decisions = await h.Engine.GetDecisionTrailAsync(Harness.Tenant, customer, take: 1000);
        Assert.Contains(decisions, d => d.Action == "journey_entered" && d.CausedBy.Value.StartsWith("ledger:reservation_expired:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tier_downgrade_at_review_fires_once_and_the_grace_period_before_it_does_not()
    {
        await using var h = new Harness(o =>
        {
            o.Journeys.Add(OnTrigger("tier", JourneyTriggerKind.TierChanged));
            o.Journeys.Add(JourneyTemplates.TierUpgrade with { Transactional = true });
        });
        var customer = (await h.SignUpAsync("tier@example.com")).Customer!.Value;
        await h.Engine.IngestAsync(h.Order("tier@example.com", total: 600m)); // shoes earn double: silver at once
        var status = (await h.Ledger.GetTierAsync(Harness.Tenant, customer)).Status;
        Assert.Equal("silver", status.Tier);
        Assert.Equal(1, (await h.Journeys.GetInstanceAsync(Harness.Tenant, customer, "tier"))!.Entry); // the ingest path

        // The review finds nothing earned in the window: a grace period first (the tier stays), then the downgrade.
        h.Clock.Reset(status.ReviewAt!.Value + Duration.FromDays(1));
        await RunLedgerDueWorkAsync(h);
        Assert.Equal("silver", (await h.Ledger.GetTierAsync(Harness.Tenant, customer)).Status.Tier);
        Assert.Equal(1, (await h.Journeys.GetInstanceAsync(Harness.Tenant, customer, "tier"))!.Entry);

        h.Clock.Advance(Duration.FromDays(61));
        await RunLedgerDueWorkAsync(h);
        await RunLedgerDueWorkAsync(h);
        h.Clock.Advance(Duration.FromDays(1));
        await RunLedgerDueWorkAsync(h);
        await h.TickAsync();
        Assert.Equal("bronze", (await h.Ledger.GetTierAsync(Harness.Tenant, customer)).Status.Tier);
        Assert.Equal(2, (await h.ReportAsync("tier")).Entries);
        Assert.Equal(2, (await h.Journeys.GetInstanceAsync(Harness.Tenant, customer, "tier"))!.Entry);

        // The upgrade-only template congratulated the upgrade (ingest) and ignored the downgrade (due work).
        Assert.Equal(1, (await h.ReportAsync("tier_upgrade")).Entries);
        Assert.Equal(["tier", "tier_upgrade", "tier"], h.Email.Sent.Select(s => s.Template!).ToArray());
    }

    [Fact]
    public async Task A_tier_override_command_fires_once_even_when_retried()
    {
        await using var h = new Harness(o => o.Journeys.Add(OnTrigger("tier", JourneyTriggerKind.TierChanged)));
        var customer = await MemberWithPointsAsync(h, "vip@example.com", points: 10);
        var command = new TierOverrideCommand
        {
            IdempotencyKey = "vip-week", Customer = customer, Tier = "gold", Mode = TierOverrideMode.Fixed, Until = h.Clock.GetCurrentInstant() + Duration.FromDays(7), Actor = "staff",
        };
        var first = await h.Ledger.ExecuteAsync(Harness.Tenant, command);
        Assert.Contains(first.Signals, s => s.Kind == LedgerSignalKind.TierChanged);
        Assert.True((await h.Ledger.ExecuteAsync(Harness.Tenant, command)).Replayed);
        await h.TickAsync();
        Assert.Equal(1, (await h.ReportAsync("tier")).Entries);
        Assert.Equal("tier", Assert.Single(h.Email.Sent).Template);
    }

    [Fact]
    public void A_tier_changed_direction_other_than_upgrade_or_downgrade_is_refused_by_path()
    {
        var sideways = OnTrigger("tier", JourneyTriggerKind.TierChanged) with { Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.TierChanged, Attribute = "sideways" } };
        var errors = JourneyValidator.Validate([sideways, JourneyTemplates.TierUpgrade with { Version = 2 }], new JourneyOptions(), Currency.Eur);
        Assert.Equal(("$.journeys[0].trigger.attribute", "unknown"), errors.Select(e => (e.Path, e.Code)).Single());
    }
}

