using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>Ready-made journeys a host can register as they are or copy and adapt (records: use <c>with</c>).</summary>
public static class JourneyTemplates
{
    private static JourneyStep Send(string id, string template, string? next, ContactChannel? channel = null, string? messageClass = null, IReadOnlyDictionary<string, string>? variables = null) => new()
    {
        Id = id,
        Kind = JourneyStepKind.Action,
        Next = next,
        Action = new JourneyAction
        {
            Kind = channel is null ? JourneyActionKind.SendBestChannel : JourneyActionKind.SendMessage,
            Channel = channel,
            Template = template,
            MessageClass = messageClass,
            Variables = variables ?? new Dictionary<string, string>(),
        },
    };

    private static JourneyStep Wait(string id, Duration duration, string next) => new() { Id = id, Kind = JourneyStepKind.Wait, Duration = duration, Next = next };

    /// <summary>Welcome series: welcome at sign-up, tips after 3 days, a first-order nudge after 7 more unless they ordered.</summary>
    public static JourneyDefinition WelcomeSeries { get; } = new()
    {
        Id = "welcome_series",
        Name = "Welcome series",
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.SignedUp },
        HoldoutPercent = 10,
        Goal = new JourneyGoal { EventKind = EventKinds.OrderPlaced, Window = Duration.FromDays(30), ExitOnGoal = false },
        Steps =
        [
            Send("welcome", "welcome", "wait_3d", ContactChannel.Email),
            Wait("wait_3d", Duration.FromDays(3), "tips"),
            Send("tips", "welcome_tips", "wait_7d", ContactChannel.Email),
            Wait("wait_7d", Duration.FromDays(7), "ordered"),
            new JourneyStep { Id = "ordered", Kind = JourneyStepKind.Condition, Condition = "orders >= 1", Next = null, Else = "nudge" },
            Send("nudge", "first_order_offer", null),
        ],
    };

    /// <summary>Post-purchase thank-you with points earned and the distance to the next reward.</summary>
    public static JourneyDefinition PostPurchaseThankYou { get; } = new()
    {
        Id = "post_purchase_thank_you",
        Name = "Post-purchase thank-you",
        Transactional = true,
        ReEntry = JourneyReEntry.Always,
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.OrderPlaced },
        Steps =
        [
            Wait("wait_1h", Duration.FromHours(1), "thank_you"),
            Send("thank_you", "thank_you_points", null, ContactChannel.Email, "transactional",
                new Dictionary<string, string> { ["show_points_earned"] = "true", ["show_distance_to_next_reward"] = "true" }),
        ],
    };

    /// <summary>Birthday reward: bonus points and a message on the birthday.</summary>
    public static JourneyDefinition BirthdayReward { get; } = new()
    {
        Id = "birthday_reward",
        Name = "Birthday reward",
        ReEntry = JourneyReEntry.OncePerPeriod,
        ReEntryPeriod = Duration.FromDays(300),
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.DateAttribute, Attribute = "birthday" },
        Steps =
        [
            new JourneyStep { Id = "at_10", Kind = JourneyStepKind.WaitUntil, LocalTime = new LocalTime(10, 0), Next = "points" },
            new JourneyStep { Id = "points", Kind = JourneyStepKind.Action, Next = "message", Action = new JourneyAction { Kind = JourneyActionKind.AwardPoints, Points = 200 } },
            Send("message", "birthday", null),
        ],
    };

    /// <summary>Points-expiring reminder.</summary>
    public static JourneyDefinition PointsExpiringReminder { get; } = new()
    {
        Id = "points_expiring_reminder",
        Name = "Points expiring reminder",
        ReEntry = JourneyReEntry.OncePerPeriod,
        ReEntryPeriod = Duration.FromDays(30),
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.PointsExpiring, Days = 30 },
        Goal = new JourneyGoal { EventKind = EventKinds.OrderPlaced, Window = Duration.FromDays(30) },
        Steps = [Send("reminder", "points_expiring", null, messageClass: "loyalty_update")],
    };

    /// <summary>Win-back after 60 days without activity, with a holdout to measure it.</summary>
    public static JourneyDefinition WinBack { get; } = new()
    {
        Id = "win_back",
        Name = "Win-back",
        ReEntry = JourneyReEntry.OncePerPeriod,
        ReEntryPeriod = Duration.FromDays(90),
        HoldoutPercent = 20,
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Inactivity, Days = 60 },
        Goal = new JourneyGoal { EventKind = EventKinds.OrderPlaced, Window = Duration.FromDays(21) },
        ExitOn = [EventKinds.OrderPlaced],
        Steps =
        [
            Send("miss_you", "we_miss_you", "wait_7d"),
            Wait("wait_7d", Duration.FromDays(7), "offer"),
            Send("offer", "win_back_offer", null),
        ],
    };

    /// <summary>High-value customer at risk: alert staff and send a personal offer (segment <c>high_value_at_risk</c>).</summary>
    public static JourneyDefinition HighValueAtRisk { get; } = new()
    {
        Id = "high_value_at_risk",
        Name = "High-value customer at risk",
        ReEntry = JourneyReEntry.OncePerPeriod,
        ReEntryPeriod = Duration.FromDays(90),
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.SegmentEntered, Segment = "high_value_at_risk" },
        Goal = new JourneyGoal { EventKind = EventKinds.OrderPlaced, Window = Duration.FromDays(30) },
        Steps =
        [
            new JourneyStep { Id = "alert", Kind = JourneyStepKind.Action, Next = "offer", Action = new JourneyAction { Kind = JourneyActionKind.AlertStaff, Template = "staff_alert" } },
            Send("offer", "personal_offer", null),
        ],
    };

    /// <summary>Cart abandonment reminder after 4 hours unless an order came first.</summary>
    public static JourneyDefinition CartAbandonment { get; } = new()
    {
        Id = "cart_abandonment",
        Name = "Cart abandonment reminder",
        ReEntry = JourneyReEntry.OncePerPeriod,
        ReEntryPeriod = Duration.FromDays(7),
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.CartAbandoned, Filter = "event_value >= 20 EUR" },
        Goal = new JourneyGoal { EventKind = EventKinds.OrderPlaced, Window = Duration.FromDays(3) },
        Steps =
        [
            new JourneyStep { Id = "wait_order", Kind = JourneyStepKind.WaitForEvent, EventKind = EventKinds.OrderPlaced, Duration = Duration.FromHours(4), Next = null, Else = "reminder" },
            Send("reminder", "cart_reminder", null),
        ],
    };

    /// <summary>Tier upgrade congratulation (upgrades only, not review downgrades).</summary>
    public static JourneyDefinition TierUpgrade { get; } = new()
    {
        Id = "tier_upgrade",
        Name = "Tier upgrade congratulation",
        ReEntry = JourneyReEntry.Always,
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.TierChanged, Attribute = "upgrade" },
        Steps = [Send("congrats", "tier_upgrade", null, messageClass: "loyalty_update")],
    };

    /// <summary>Replenishment reminder 30 days after an order.</summary>
    public static JourneyDefinition Replenishment { get; } = new()
    {
        Id = "replenishment",
        Name = "Replenishment reminder",
        ReEntry = JourneyReEntry.Always,
        Trigger = new JourneyTrigger { Kind = JourneyTriggerKind.Event, EventKind = EventKinds.OrderPlaced },
        ExitOn = [EventKinds.OrderReturned],
        Steps =
        [
            Wait("wait_30d", Duration.FromDays(30), "remind"),
            Send("remind", "replenish", null),
        ],
    };

    private static readonly Lazy<string> JsonText = new(() =>
    {
        using var stream = typeof(JourneyTemplates).Assembly.GetManifestResourceStream("Loyalty.Sdk.journey-templates.json")
            ?? throw new InvalidOperationException("The journey templates resource is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>Every template as a JSON array, the shape of the program's <c>journeys</c> section and of
    /// <see cref="JourneyLoader"/> (a starting point to copy into a program definition).</summary>
    public static string Json => JsonText.Value;

    /// <summary>Every template.</summary>
    public static IReadOnlyList<JourneyDefinition> All { get; } =
        [WelcomeSeries, PostPurchaseThankYou, BirthdayReward, PointsExpiringReminder, WinBack, HighValueAtRisk, CartAbandonment, TierUpgrade, Replenishment];
}
