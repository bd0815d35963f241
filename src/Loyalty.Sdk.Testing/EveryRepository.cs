using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Storage;
using NodaTime;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>
/// One write to every repository of a session that joins the unit of work (the send log's compare-and-swap, applied
/// at once, is left out), all keyed by a tag, and the check of which of those writes a session sees. Used by the
/// unit-of-work and isolation tests: after a commit every part is there; after a dispose, a conflict or in another
/// tenant none is.
/// </summary>
internal static class EveryRepository
{
    /// <summary>Every part <see cref="WriteAsync"/> writes, as <see cref="PresentAsync"/> names them.</summary>
    public static readonly IReadOnlyList<string> Parts =
    [
        "event", "identity", "identifier", "profile", "order", "decision",
        "ledger-state", "ledger-transfer", "ledger-command", "ledger-order",
        "consent-record", "suppression", "address-suppression", "preferences", "gate-outcome",
        "segment-state", "purchase-history", "predictive-model", "journey", "journey-counter",
        "block", "sharing", "do-not-link", "review",
    ];

    public static CustomerId CustomerOf(string tag) => new("cus-" + tag);

    private static CustomerId Other(string tag) => new("cus-other-" + tag);

    private static Identifier Shared(string tag) => Device("shared-" + tag);

    private static LocalDate Week(int n) => new LocalDate(2025, 1, 6).PlusWeeks(n);

    /// <summary>Writes one record of every kind for the customer of <paramref name="tag"/> (all new: expected
    /// versions 0). <paramref name="n"/> distinguishes tenant-wide records (the model, the outcome week).</summary>
    public static async ValueTask WriteAsync(ILoyaltyStoreSession s, string tag, int n)
    {
        var c = CustomerOf(tag);
        await s.Events.AddAsync(Processed("evt-" + tag, c));
        await s.Identity.SaveAsync(IdentityOf(c, Email(tag + "@conformance.example")), 0);
        await s.Profiles.SaveAsync(Profile(c), 0);
        await s.Orders.SaveAsync(Order("ord-" + tag, c), 0);
        await s.Decisions.AppendAsync([Decision(c, n, "evt-" + tag)]);
        await s.Outbox.EnqueueAsync(Message("msg-" + tag, c, T0, s.Tenant));

        var earn = Earn(c, "earn-" + tag, 100);
        await s.Ledger.SaveAsync(State(c, [earn], At(60)), 0, [earn]);
        await s.Ledger.AddCommandAsync("cmd-" + tag, Command(c, "cmd-" + tag));
        await s.Ledger.SaveOrderAsync(LedgerOrder("ord-" + tag, c), 0);

        await s.Consent.AppendAsync(ConsentRecord(c, "rec-" + tag));
        await s.Consent.AddSuppressionAsync(Suppression(c, SuppressionList.SpamComplaint, ContactChannel.Email));
        await s.Consent.AddAddressSuppressionAsync(new AddressSuppression { AddressHash = "hash-" + tag, List = SuppressionList.HardBounce, Channel = ContactChannel.Email, Since = T0 });
        await s.Consent.SavePreferencesAsync(Preferences(c), 0);
        await s.Consent.CountOutcomeAsync(Week(n), SendVerdict.Skip, SendReasonCode.FrequencyCap);

        await s.Segments.SaveAsync(SegmentState(c, At(60), "vip"), 0);
        await s.Predictive.SaveAsync(History(c), 0);
        await s.Predictive.SaveModelAsync(Model(1000 + n));
        await s.Journeys.SaveAsync(Journey(c, "welcome", At(60)), 0);
        await s.Journeys.CountAsync("welcome", "entered-" + tag);

        await s.IdentityControls.BlockAsync(new BlockedValue(Device("blocked-" + tag), "test", T0, false, 0));
        await s.IdentityControls.RecordSharingAsync(Shared(tag), c, 10);
        await s.IdentityControls.AddDoNotLinkAsync(new DoNotLinkRule(c, Other(tag), "staff", "split", T0));
        await s.IdentityControls.SaveReviewAsync(new MergeReview(c, Other(tag), 0.93, 11.5, ["email: exact"], T0));
    }

    /// <summary>The parts of <paramref name="tag"/>'s records the session sees, in the order of <see cref="Parts"/>.</summary>
    public static async ValueTask<IReadOnlyList<string>> PresentAsync(ILoyaltyStoreSession s, string tag, int n)
    {
        var c = CustomerOf(tag);
        var present = new List<string>();
        void Add(string part, bool isPresent)
        {
            if (isPresent)
            {
                present.Add(part);
            }
        }

        Add("event", await s.Events.FindAsync(new EventId("evt-" + tag)) is not null);
        Add("identity", await s.Identity.GetAsync(c) is not null);
        Add("identifier", await s.Identity.FindByIdentifierAsync(Email(tag + "@conformance.example")) == c);
        Add("profile", await s.Profiles.GetAsync(c) is not null);
        Add("order", await s.Orders.GetAsync("ord-" + tag) is not null);
        Add("decision", (await s.Decisions.ListAsync(c, 0, 100)).Any(d => d.CausedBy == new EventId("evt-" + tag)));
        Add("ledger-state", await s.Ledger.GetAsync(c) is not null);
        Add("ledger-transfer", await s.Ledger.GetTransferAsync("earn-" + tag) is not null);
        Add("ledger-command", await s.Ledger.FindCommandAsync("cmd-" + tag) is not null);
        Add("ledger-order", await s.Ledger.GetOrderAsync("ord-" + tag) is not null);
        Add("consent-record", (await s.Consent.GetHistoryAsync(c)).Any(r => r.RecordId == "rec-" + tag));
        Add("suppression", (await s.Consent.GetSuppressionsAsync(c)).Count > 0);
        Add("address-suppression", (await s.Consent.GetAddressSuppressionsAsync("hash-" + tag)).Count > 0);
        Add("preferences", await s.Consent.GetPreferencesAsync(c) is not null);
        Add("gate-outcome", (await s.Consent.ListOutcomesAsync(Week(n), Week(n).PlusDays(1))).Count > 0);
        Add("segment-state", await s.Segments.GetAsync(c) is not null);
        Add("purchase-history", await s.Predictive.GetAsync(c) is not null);
        Add("predictive-model", (await s.Predictive.GetModelAsync())?.Customers == 1000 + n);
        Add("journey", await s.Journeys.GetAsync(c, "welcome") is not null);
        Add("journey-counter", (await s.Journeys.GetStatsAsync()).Any(j => j.Journey == "welcome" && j["entered-" + tag] > 0));
        Add("block", await s.IdentityControls.GetBlockAsync(Device("blocked-" + tag)) is not null);

        // Recording a probe customer answers how many customers the value linked so far (the probe included); the
        // reading session is disposed without commit, so the probe is never kept.
        Add("sharing", await s.IdentityControls.RecordSharingAsync(Shared(tag), new CustomerId("cus-probe"), 10) == 2);
        Add("do-not-link", await s.IdentityControls.IsDoNotLinkAsync(c, Other(tag)));
        Add("review", (await s.IdentityControls.ListReviewsAsync()).Any(r => r.Left == c || r.Right == c));
        return present;
    }
}
