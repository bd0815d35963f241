using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Storage;
using NodaTime;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>
/// GDPR erasure across the repositories: each erase, delete or anonymize method leaves no trace of the customer where
/// its contract says so, keeps what it says it keeps (event ids, orders and ledger entries under a pseudonym, consent
/// proof), leaves other customers alone, and is applied on commit only.
/// </summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class ErasureConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly CustomerId Old = Customer("cus-old");
    private static readonly CustomerId Bob = Customer("cus-bob");
    private static readonly CustomerId Pseudonym = Customer("erased_5f3a");

    /// <summary>Anonymizing ingested events forgets their customer but keeps the ids (a retry is still a duplicate);
    /// other customers' events keep theirs.</summary>
    [Fact]
    public virtual async Task Anonymized_events_keep_their_ids_but_forget_the_customer()
    {
        await WriteAsync(async s =>
        {
            await s.Events.AddAsync(Processed("evt-1", Ada, 1));
            await s.Events.AddAsync(Processed("evt-3", Bob, 3));
        });
        await WriteAsync(s => s.Events.AddAsync(Processed("evt-2", Ada, 2)));

        await WriteAsync(s => s.Events.AnonymizeCustomerAsync(Ada));

        Deep.Equal(Processed("evt-1", null, 1), await ReadAsync(s => s.Events.FindAsync(new EventId("evt-1"))));
        Deep.Equal(Processed("evt-2", null, 2), await ReadAsync(s => s.Events.FindAsync(new EventId("evt-2"))));
        Deep.Equal(Processed("evt-3", Bob, 3), await ReadAsync(s => s.Events.FindAsync(new EventId("evt-3"))));
        await using var session = await OpenAsync();
        await AssertConflictAsync(async () =>
        {
            await session.Events.AddAsync(Processed("evt-1", Ada, 9));
            await session.CommitAsync();
        });
    }

    /// <summary>Erasing an identity deletes the record and every identifier index entry pointing to it (written by any
    /// session, or by the erasing session itself), so the identifiers resolve to nobody; other customers keep theirs.</summary>
    [Fact]
    public virtual async Task An_erased_identity_and_its_identifiers_resolve_to_nobody()
    {
        await WriteAsync(async s =>
        {
            await s.Identity.SaveAsync(IdentityOf(Ada, Email("ada@conformance.example")), 0);
            await s.Identity.SaveAsync(IdentityOf(Bob, Email("bob@conformance.example")), 0);
        });
        await WriteAsync(async s =>
        {
            var ada = (await s.Identity.GetAsync(Ada))!;
            await s.Identity.SaveAsync(ada with { Links = [.. ada.Links, Link(Phone("+33612345678"), "evt-2", 2)] }, ada.Version);
        });

        await WriteAsync(async s =>
        {
            var ada = (await s.Identity.GetAsync(Ada))!;
            await s.Identity.SaveAsync(ada with { Links = [.. ada.Links, Link(Device("dev-new"), "evt-3", 3)] }, ada.Version);
            await s.Identity.EraseAsync(Ada);
        });

        Assert.Null(await ReadAsync(s => s.Identity.GetAsync(Ada)));
        Assert.Null(await ReadAsync(s => s.Identity.FindByIdentifierAsync(Email("ada@conformance.example"))));
        Assert.Null(await ReadAsync(s => s.Identity.FindByIdentifierAsync(Phone("+33612345678"))));
        Assert.Null(await ReadAsync(s => s.Identity.FindByIdentifierAsync(Device("dev-new"))));
        Assert.Equal(Bob, await ReadAsync(s => s.Identity.FindByIdentifierAsync(Email("bob@conformance.example"))));
        Assert.NotNull(await ReadAsync(s => s.Identity.GetAsync(Bob)));
    }

    /// <summary>Anonymized orders are kept (accounting) under the pseudonym with their lines and amounts, without the
    /// identifiers they were placed with; the customer
    /// has no order left; other customers keep theirs.</summary>
    [Fact]
    public virtual async Task Anonymized_orders_are_kept_under_the_pseudonym()
    {
        await WriteAsync(async s =>
        {
            await s.Orders.SaveAsync(Order("ord-1", Ada, 1), 0);
            await s.Orders.SaveAsync(Order("ord-3", Bob, 3), 0);
        });
        await WriteAsync(s => s.Orders.SaveAsync(Order("ord-2", Ada, 2), 0));

        await WriteAsync(s => s.Orders.AnonymizeCustomerAsync(Ada, Pseudonym));

        Assert.Empty(await ReadAsync(s => s.Orders.ListByCustomerAsync(Ada)));
        var kept = await ReadAsync(s => s.Orders.ListByCustomerAsync(Pseudonym));
        Assert.Equal(["ord-1", "ord-2"], kept.Select(o => o.OrderId));
        var order = (await ReadAsync(s => s.Orders.GetAsync("ord-1")))!;
        // Kept for accounting, without the identifiers (personal values) the order was placed with.
        Deep.Equal(Order("ord-1", Pseudonym, 1) with { Identifiers = [] }, order with { Version = 0 });
        Assert.NotEmpty((await ReadAsync(s => s.Orders.GetAsync("ord-3")))!.Identifiers);
        Assert.Equal(["ord-3"], (await ReadAsync(s => s.Orders.ListByCustomerAsync(Bob))).Select(o => o.OrderId));
    }

    /// <summary>Deleting a customer's decision trail empties it and leaves other trails alone.</summary>
    [Fact]
    public virtual async Task A_deleted_decision_trail_is_empty_and_others_remain()
    {
        await WriteAsync(s => s.Decisions.AppendAsync([Decision(Ada, 1), Decision(Bob, 2), Decision(Ada, 3)]));
        await WriteAsync(s => s.Decisions.AppendAsync([Decision(Ada, 4)]));

        await WriteAsync(s => s.Decisions.DeleteAsync(Ada));

        Assert.Empty(await ReadAsync(s => s.Decisions.ListAsync(Ada, 0, 100)));
        Deep.Equal(new[] { Decision(Bob, 2) }, await ReadAsync(s => s.Decisions.ListAsync(Bob, 0, 100)));
    }

    /// <summary>Cancelling a customer's outbox drops their undelivered messages (committed, leased or enqueued in the
    /// same session); other customers' messages stay.</summary>
    [Fact]
    public virtual async Task A_cancelled_outbox_drops_the_customers_undelivered_messages_only()
    {
        await WriteAsync(async s =>
        {
            await s.Outbox.EnqueueAsync(Message("ada-1", Ada, T0, Tenant));
            await s.Outbox.EnqueueAsync(Message("ada-2", Ada, T0 + Duration.FromMinutes(5), Tenant));
            await s.Outbox.EnqueueAsync(Message("bob-1", Bob, T0 + Duration.FromMinutes(1), Tenant));
        });
        Assert.Equal(["ada-1"], (await Store.Outbox.ClaimDueAsync(T0, 1, Duration.FromMinutes(1), "d")).Select(c => c.Message.Key));

        await WriteAsync(async s =>
        {
            await s.Outbox.EnqueueAsync(Message("ada-3", Ada, T0, Tenant));
            await s.Outbox.CancelForCustomerAsync(Ada);
        });

        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
        Assert.Equal(["bob-1"], (await Store.Outbox.ClaimDueAsync(T0 + Duration.FromDays(1), 10, Duration.FromMinutes(1), "d")).Select(c => c.Message.Key));
    }

    /// <summary>
    /// Anonymizing the ledger of a customer and the ids merged into it makes their states one state of the pseudonym
    /// (balances add up), re-keys their journal entries (either side) to the pseudonym with the customer ids in
    /// transfer and lot ids replaced (<c>.1</c>, <c>.2</c>… for the second and later ids) and notes cleared, keeps the
    /// program accounts and other customers' entries, and moves the due time to the pseudonym.
    /// </summary>
    [Fact]
    public virtual async Task An_anonymized_ledger_is_re_keyed_to_the_pseudonym_and_still_reconciles()
    {
        var (balancesBefore, _) = await SeedLedgerAsync();

        await WriteAsync(s => s.Ledger.AnonymizeAsync([Ada, Old], Pseudonym));

        Assert.Null(await ReadAsync(s => s.Ledger.GetAsync(Ada)));
        Assert.Null(await ReadAsync(s => s.Ledger.GetAsync(Old)));
        var state = (await ReadAsync(s => s.Ledger.GetAsync(Pseudonym)))!;
        Assert.Equal((130L, 140L), (state.Balance(Points).Available, state.Balance(Points).LifetimeEarned));
        Assert.Equal(["earn:erased_5f3a.1:1", "earn:erased_5f3a:1"], state.Lots.Select(l => l.Id).Order(StringComparer.Ordinal));

        Assert.Empty(await ReadAsync(s => s.Ledger.ListTransfersAsync(Ada, 0, 10)));
        Assert.Empty(await ReadAsync(s => s.Ledger.ListTransfersAsync(Old, 0, 10)));
        var journal = await ReadAsync(s => s.Ledger.ListTransfersAsync(Pseudonym, 0, 10));
        Assert.Equal(["earn:erased_5f3a:1", "earn:erased_5f3a.1:1", "gift:erased_5f3a:1"], journal.Select(t => t.Id));
        Assert.All(journal, t => Assert.Null(t.Reason.Note));
        var gift = journal[2];
        Assert.Equal((Pseudonym, Bob, "earn:erased_5f3a:1"), (gift.Debit.Customer, gift.Credit.Customer, gift.DebitLot));
        Assert.Equal(Pseudonym, journal[1].Credit.Customer);
        Assert.Null(await ReadAsync(s => s.Ledger.GetTransferAsync("earn:cus-ada:1")));
        Assert.Equal(Pseudonym, (await ReadAsync(s => s.Ledger.GetTransferAsync("earn:erased_5f3a:1")))!.Credit.Customer);

        Assert.Equal(["earn:cus-bob:1", "gift:erased_5f3a:1"], (await ReadAsync(s => s.Ledger.ListTransfersAsync(Bob, 0, 10))).Select(t => t.Id));
        Assert.Equal(4, (await ReadAsync(s => s.Ledger.ListTransfersAsync(null, 0, 10))).Count);
        var balancesAfter = await ReadAsync(s => s.Ledger.GetProgramBalancesAsync());
        Assert.Equal(balancesBefore.OrderBy(b => b.Account), balancesAfter.OrderBy(b => b.Account));

        var customers = await ReadAsync(s => s.Ledger.ListCustomersAsync(0, 10));
        Assert.Equal(["cus-bob", "erased_5f3a"], customers.Select(c => c.Value).Order(StringComparer.Ordinal));
        Assert.Equal([Pseudonym], await ReadAsync(s => s.Ledger.ListDueAsync(At(100), 10)));
    }

    /// <summary>Anonymizing the ledger also re-keys the customers' command records (key, command, result; notes
    /// cleared) and ledger orders to the pseudonym, and renames the lots other customers hold that are named after
    /// a re-keyed transfer.</summary>
    [Fact]
    public virtual async Task An_anonymized_ledger_re_keys_commands_orders_and_counterparty_lots()
    {
        await SeedLedgerAsync();

        await WriteAsync(s => s.Ledger.AnonymizeAsync([Ada, Old], Pseudonym));

        Assert.Null(await ReadAsync(s => s.Ledger.FindCommandAsync("cmd:cus-ada:1")));
        var record = (await ReadAsync(s => s.Ledger.FindCommandAsync("cmd:erased_5f3a:1")))!;
        Assert.Equal(("cmd:erased_5f3a:1", Pseudonym, (string?)null), (record.Command.IdempotencyKey, record.Command.Customer, record.Command.Note));
        Assert.Equal(Pseudonym, record.Result.Customer);
        Assert.Equal(Bob, (await ReadAsync(s => s.Ledger.FindCommandAsync("cmd:cus-bob:1")))!.Command.Customer);

        var order = (await ReadAsync(s => s.Ledger.GetOrderAsync("ord-ada")))!;
        Assert.Equal(Pseudonym, order.Customer);
        Assert.Equal(["earn:erased_5f3a:1"], order.Lots);

        var bob = (await ReadAsync(s => s.Ledger.GetAsync(Bob)))!;
        Assert.Equal(["earn:cus-bob:1", "gift:erased_5f3a:1"], bob.Lots.Select(l => l.Id).Order(StringComparer.Ordinal));
        Assert.Equal(80, bob.Balance(Points).Available);
    }

    /// <summary>Erasing a customer's consent data deletes their preferences, suppressions and send log, and keeps their
    /// consent records as proof under the pseudonym (status, purpose, channel, times and wording kept; evidence, source
    /// and actor dropped); other customers keep theirs.</summary>
    [Fact]
    public virtual async Task Erased_consent_keeps_anonymous_proof_under_the_pseudonym()
    {
        await WriteAsync(async s =>
        {
            await s.Consent.AppendAsync(ConsentRecord(Ada, "r1", ConsentStatus.Granted, 1));
            await s.Consent.AppendAsync(ConsentRecord(Bob, "r-bob", ConsentStatus.Granted, 1));
            await s.Consent.AddSuppressionAsync(Suppression(Ada, SuppressionList.SpamComplaint, ContactChannel.Email));
            await s.Consent.SavePreferencesAsync(Preferences(Ada), 0);
            await s.Consent.SavePreferencesAsync(Preferences(Bob), 0);
            Assert.True(await s.Consent.TryAppendSendAsync(Send(Ada, "m-ada", At(5)), 0));
            Assert.True(await s.Consent.TryAppendSendAsync(Send(Bob, "m-bob", At(6)), 0));
        });
        await WriteAsync(s => s.Consent.AppendAsync(ConsentRecord(Ada, "r2", ConsentStatus.Withdrawn, 10, ContactChannel.Sms)));

        await WriteAsync(s => s.Consent.EraseCustomerAsync(Ada, Pseudonym));

        await using var session = await OpenAsync();
        Assert.Empty(await session.Consent.GetHistoryAsync(Ada));
        Assert.Empty(await session.Consent.GetSuppressionsAsync(Ada));
        Assert.Null(await session.Consent.GetPreferencesAsync(Ada));
        Assert.Empty((await session.Consent.GetSendLogAsync(Ada)).Sends);
        Assert.Equal(["m-bob"], (await session.Consent.ListSendsAsync(At(0), At(100))).Select(x => x.MessageId));

        var proof = await session.Consent.GetHistoryAsync(Pseudonym);
        Assert.Equal(2, proof.Count);
        foreach (var (kept, original) in proof.OrderBy(r => r.CapturedAt).Zip(new[] { ConsentRecord(Ada, "r1", ConsentStatus.Granted, 1), ConsentRecord(Ada, "r2", ConsentStatus.Withdrawn, 10, ContactChannel.Sms) }))
        {
            Assert.Equal(Pseudonym, kept.Customer);
            Assert.Equal(
                (original.Status, original.Purpose, original.Channel, original.CapturedAt, original.EffectiveFrom, original.ExpiresAt),
                (kept.Status, kept.Purpose, kept.Channel, kept.CapturedAt, kept.EffectiveFrom, kept.ExpiresAt));
            Assert.Equal(original.Wording, kept.Wording);
            Assert.Null(kept.Evidence);
            Assert.Null(kept.Source);
            Assert.NotEqual(original.Actor, kept.Actor);
            Assert.NotEqual(Ada, kept.OriginalCustomer);
        }

        Assert.Single(await session.Consent.GetHistoryAsync(Bob));
        Assert.NotNull(await session.Consent.GetPreferencesAsync(Bob));
        Assert.Single((await session.Consent.GetSendLogAsync(Bob)).Sends);
    }

    /// <summary>Erasure is part of the unit of work: erase, delete and anonymize calls of a session disposed without
    /// commit change nothing.</summary>
    [Fact]
    public virtual async Task Erasure_without_commit_changes_nothing()
    {
        await WriteAsync(s => EveryRepository.WriteAsync(s, "one", 1));

        await using (var session = await OpenAsync())
        {
            await EraseEverythingAsync(session, EveryRepository.CustomerOf("one"));
        }

        Assert.Equal(EveryRepository.Parts, await ReadAsync(s => EveryRepository.PresentAsync(s, "one", 1)));
        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
    }

    /// <summary>Erasing a customer in every repository (as the personal data service does) removes everything keyed by
    /// the customer, keeps what is kept anonymously (event ids, orders, ledger entries and command records, address
    /// hashes, aggregates), and leaves another customer's data whole.</summary>
    [Fact]
    public virtual async Task Erasing_a_customer_everywhere_removes_their_data_and_keeps_others()
    {
        await WriteAsync(async s =>
        {
            await EveryRepository.WriteAsync(s, "one", 1);
            await EveryRepository.WriteAsync(s, "two", 2);
        });
        var one = EveryRepository.CustomerOf("one");

        await WriteAsync(s => EraseEverythingAsync(s, one));

        var present = await ReadAsync(s => EveryRepository.PresentAsync(s, "one", 1));
        string[] erased = ["identity", "identifier", "profile", "decision", "ledger-state", "consent-record", "suppression", "preferences", "segment-state", "purchase-history"];
        Assert.Empty(present.Intersect(erased));
        Assert.Contains("event", present);
        Assert.Contains("order", present);
        Assert.Null((await ReadAsync(s => s.Events.FindAsync(new EventId("evt-one"))))!.Customer);
        Assert.Equal(Pseudonym, (await ReadAsync(s => s.Orders.GetAsync("ord-one")))!.Customer);
        Assert.Equal(Pseudonym, (await ReadAsync(s => s.Ledger.GetOrderAsync("ord-one")))!.Customer);
        Assert.NotNull(await ReadAsync(s => s.Ledger.GetAsync(Pseudonym)));
        Assert.Single(await ReadAsync(s => s.Consent.GetHistoryAsync(Pseudonym)));
        Assert.DoesNotContain(one, await ReadAsync(s => s.Segments.ListMembersAsync("vip")));
        Assert.Equal(EveryRepository.Parts, await ReadAsync(s => EveryRepository.PresentAsync(s, "two", 2)));
        Assert.Equal(1, await Store.Outbox.CountPendingAsync(Tenant));
    }

    private static async ValueTask EraseEverythingAsync(ILoyaltyStoreSession s, CustomerId customer)
    {
        await s.Consent.EraseCustomerAsync(customer, Pseudonym);
        await s.Ledger.AnonymizeAsync([customer], Pseudonym);
        await s.Segments.DeleteAsync(customer);
        await s.Predictive.DeleteAsync(customer);
        await s.Identity.EraseAsync(customer);
        await s.Profiles.DeleteAsync(customer);
        await s.Orders.AnonymizeCustomerAsync(customer, Pseudonym);
        await s.Decisions.DeleteAsync(customer);
        await s.Events.AnonymizeCustomerAsync(customer);
        await s.Outbox.CancelForCustomerAsync(customer);
    }

    /// <summary>Ada (with Old merged into her) and Bob earn; Ada gives Bob points; Ada has a command record, a ledger
    /// order and a due time. Returns the program balances.</summary>
    private async Task<(IReadOnlyList<ProgramAccountBalance> Balances, LedgerTransfer Gift)> SeedLedgerAsync()
    {
        var ada1 = Earn(Ada, "earn:cus-ada:1", 100, 1);
        var old1 = Earn(Old, "earn:cus-old:1", 40, 2);
        var bob1 = Earn(Bob, "earn:cus-bob:1", 70, 3);
        await WriteAsync(async s =>
        {
            await s.Ledger.SaveAsync(State(Ada, [ada1], At(50)), 0, [ada1]);
            await s.Ledger.SaveAsync(State(Old, [old1]), 0, [old1]);
            await s.Ledger.SaveAsync(State(Bob, [bob1]), 0, [bob1]);
            await s.Ledger.AddCommandAsync("cmd:cus-ada:1", Command(Ada, "cmd:cus-ada:1"));
            await s.Ledger.AddCommandAsync("cmd:cus-bob:1", Command(Bob, "cmd:cus-bob:1"));
            await s.Ledger.SaveOrderAsync(LedgerOrder("ord-ada", Ada) with { Lots = ["earn:cus-ada:1"] }, 0);
        });
        var gift = Gift(Ada, Bob, "gift:cus-ada:1", "earn:cus-ada:1", 10, 4);
        await WriteAsync(async s =>
        {
            var ada = (await s.Ledger.GetAsync(Ada))!;
            var bob = (await s.Ledger.GetAsync(Bob))!;
            ada.Apply(gift);
            bob.Apply(gift);
            await s.Ledger.SaveAsync(ada, ada.Version, [gift]);
            await s.Ledger.SaveAsync(bob, bob.Version, []);
        });

        return (await ReadAsync(s => s.Ledger.GetProgramBalancesAsync()), gift);
    }
}
