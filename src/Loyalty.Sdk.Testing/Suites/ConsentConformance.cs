using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using NodaTime;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="IConsentRepository"/>: the append-only consent history with store-assigned
/// sequences, moves on merge, suppressions (customer and address), versioned preferences, the send log's
/// compare-and-swap (applied at once), and gate outcome counters. Erasure is checked by
/// <see cref="ErasureConformance{TFixture}"/>.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class ConsentConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly CustomerId Bob = Customer("cus-bob");
    private static readonly CustomerId Cyd = Customer("cus-cyd");

    /// <summary>A customer without consent data has an empty history, no suppressions, no preferences and an empty
    /// send log at version 0.</summary>
    [Fact]
    public virtual async Task A_customer_without_consent_data_has_nothing()
    {
        await WriteAsync(s => s.Consent.AppendAsync(ConsentRecord(Bob, "r-bob")));

        await using var session = await OpenAsync();
        Assert.Empty(await session.Consent.GetHistoryAsync(Ada));
        Assert.Empty(await session.Consent.GetSuppressionsAsync(Ada));
        Assert.Null(await session.Consent.GetPreferencesAsync(Ada));
        var log = await session.Consent.GetSendLogAsync(Ada);
        Assert.Equal((0, 0L), (log.Sends.Count, log.Version));
        Assert.Empty(await session.Consent.GetAddressSuppressionsAsync("sha256:unknown"));
    }

    /// <summary>Records round-trip in append order, and the store assigns sequences that increase in append order
    /// across sessions and customers (the tenant's consent log).</summary>
    [Fact]
    public virtual async Task Records_round_trip_in_append_order_with_increasing_sequences()
    {
        await WriteAsync(async s =>
        {
            await s.Consent.AppendAsync(ConsentRecord(Ada, "r1", ConsentStatus.Granted, 1));
            await s.Consent.AppendAsync(ConsentRecord(Bob, "r2", ConsentStatus.Granted, 2));
        });
        await WriteAsync(async s =>
        {
            await s.Consent.AppendAsync(ConsentRecord(Ada, "r3", ConsentStatus.Withdrawn, 0, ContactChannel.Sms));
            await s.Consent.AppendAsync(ConsentRecord(Ada, "r4", ConsentStatus.Granted, 0));
        });

        var ada = await ReadAsync(s => s.Consent.GetHistoryAsync(Ada));
        var bob = await ReadAsync(s => s.Consent.GetHistoryAsync(Bob));

        Assert.Equal(["r1", "r3", "r4"], ada.Select(r => r.RecordId));
        Deep.Equal(ConsentRecord(Ada, "r3", ConsentStatus.Withdrawn, 0, ContactChannel.Sms) with { Sequence = ada[1].Sequence }, ada[1]);
        var sequences = new[] { ada[0].Sequence, bob[0].Sequence, ada[1].Sequence, ada[2].Sequence };
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(4, sequences.Distinct().Count());
    }

    /// <summary>A session reads the records it appended before committing; a session disposed without commit keeps
    /// none of them.</summary>
    [Fact]
    public virtual async Task A_session_reads_its_own_appends_and_forgets_them_without_commit()
    {
        await WriteAsync(s => s.Consent.AppendAsync(ConsentRecord(Ada, "r1")));

        await using (var session = await OpenAsync())
        {
            await session.Consent.AppendAsync(ConsentRecord(Ada, "r2"));
            Assert.Equal(["r1", "r2"], (await session.Consent.GetHistoryAsync(Ada)).Select(r => r.RecordId));
        }

        Assert.Equal(["r1"], (await ReadAsync(s => s.Consent.GetHistoryAsync(Ada))).Select(r => r.RecordId));
    }

    /// <summary>A merge moves every record and suppression of the absorbed customer to the survivor: moved records name
    /// the survivor and keep their original customer (through later moves too), the absorbed customer has nothing
    /// left, and a suppression the survivor already has (same list and channel) is kept once.</summary>
    [Fact]
    public virtual async Task A_merge_moves_records_and_suppressions_keeping_the_original_customer()
    {
        await WriteAsync(async s =>
        {
            await s.Consent.AppendAsync(ConsentRecord(Ada, "r-ada", ConsentStatus.Granted, 1));
            await s.Consent.AddSuppressionAsync(Suppression(Ada, SuppressionList.SpamComplaint, ContactChannel.Email, "ada-source"));
        });
        await WriteAsync(async s =>
        {
            await s.Consent.AppendAsync(ConsentRecord(Bob, "r-bob-1", ConsentStatus.Granted, 2));
            await s.Consent.AppendAsync(ConsentRecord(Bob, "r-bob-2", ConsentStatus.Withdrawn, 3));
            await s.Consent.AddSuppressionAsync(Suppression(Bob, SuppressionList.SpamComplaint, ContactChannel.Email, "bob-source"));
            await s.Consent.AddSuppressionAsync(Suppression(Bob, SuppressionList.HardBounce, null, "bob-bounce"));
        });

        await WriteAsync(s => s.Consent.MoveAsync(Bob, Ada));

        var ada = await ReadAsync(s => s.Consent.GetHistoryAsync(Ada));
        Assert.Equal(["r-ada", "r-bob-1", "r-bob-2"], ada.Select(r => r.RecordId));
        Assert.All(ada, r => Assert.Equal(Ada, r.Customer));
        Assert.Equal([null, Bob, Bob], ada.Select(r => r.OriginalCustomer));
        Assert.Equal(ConsentStatus.Withdrawn, ada[2].Status);
        Assert.Empty(await ReadAsync(s => s.Consent.GetHistoryAsync(Bob)));
        Assert.Empty(await ReadAsync(s => s.Consent.GetSuppressionsAsync(Bob)));
        var suppressions = await ReadAsync(s => s.Consent.GetSuppressionsAsync(Ada));
        Assert.Equal(2, suppressions.Count);
        Assert.Equal("ada-source", suppressions.Single(e => e.List == SuppressionList.SpamComplaint).Source);
        var bounce = suppressions.Single(e => e.List == SuppressionList.HardBounce);
        Assert.Equal((Ada, (ContactChannel?)null, "bob-bounce"), (bounce.Customer, bounce.Channel, bounce.Source));

        await WriteAsync(s => s.Consent.MoveAsync(Ada, Cyd));

        var cyd = await ReadAsync(s => s.Consent.GetHistoryAsync(Cyd));
        Assert.Equal([Ada, Bob, Bob], cyd.Select(r => r.OriginalCustomer));
        Assert.All(cyd, r => Assert.Equal(Cyd, r.Customer));
    }

    /// <summary>A suppression is kept once per customer, list and channel (the first is kept); a null channel (every
    /// channel) is a channel of its own; removing takes exactly the entry of that list and channel.</summary>
    [Fact]
    public virtual async Task Suppressions_are_kept_once_per_list_and_channel_and_removed_exactly()
    {
        await WriteAsync(async s =>
        {
            await s.Consent.AddSuppressionAsync(Suppression(Ada, SuppressionList.SpamComplaint, ContactChannel.Email, "first"));
            await s.Consent.AddSuppressionAsync(Suppression(Ada, SuppressionList.SpamComplaint, ContactChannel.Email, "second"));
            await s.Consent.AddSuppressionAsync(Suppression(Ada, SuppressionList.SpamComplaint, ContactChannel.Sms));
        });
        await WriteAsync(async s =>
        {
            await s.Consent.AddSuppressionAsync(Suppression(Ada, SuppressionList.SpamComplaint, ContactChannel.Email, "third"));
            await s.Consent.AddSuppressionAsync(Suppression(Ada, SuppressionList.SpamComplaint, null));
            await s.Consent.AddSuppressionAsync(Suppression(Ada, SuppressionList.StaffDoNotContact, ContactChannel.Email));
        });

        var all = await ReadAsync(s => s.Consent.GetSuppressionsAsync(Ada));
        Assert.Equal(4, all.Count);
        Deep.Equal(Suppression(Ada, SuppressionList.SpamComplaint, ContactChannel.Email, "first"), all.Single(e => e.List == SuppressionList.SpamComplaint && e.Channel == ContactChannel.Email));

        await WriteAsync(s => s.Consent.RemoveSuppressionAsync(Ada, SuppressionList.SpamComplaint, null));
        await WriteAsync(s => s.Consent.RemoveSuppressionAsync(Ada, SuppressionList.SpamComplaint, ContactChannel.Email));

        var left = await ReadAsync(s => s.Consent.GetSuppressionsAsync(Ada));
        Assert.Equal(
            [(SuppressionList.SpamComplaint, (ContactChannel?)ContactChannel.Sms), (SuppressionList.StaffDoNotContact, ContactChannel.Email)],
            left.Select(e => (e.List, e.Channel)).OrderBy(e => e.List).ToArray());
    }

    /// <summary>Address suppressions are found by their hash (exactly) and kept once per hash, list and channel.</summary>
    [Fact]
    public virtual async Task Address_suppressions_are_found_by_hash_and_kept_once_per_list_and_channel()
    {
        AddressSuppression Entry(string hash, SuppressionList list, ContactChannel? channel) => new() { AddressHash = hash, List = list, Channel = channel, Since = At(1) };

        await WriteAsync(async s =>
        {
            await s.Consent.AddAddressSuppressionAsync(Entry("sha256:aa", SuppressionList.HardBounce, ContactChannel.Email));
            await s.Consent.AddAddressSuppressionAsync(Entry("sha256:bb", SuppressionList.Erased, null));
        });
        await WriteAsync(async s =>
        {
            await s.Consent.AddAddressSuppressionAsync(Entry("sha256:aa", SuppressionList.HardBounce, ContactChannel.Email));
            await s.Consent.AddAddressSuppressionAsync(Entry("sha256:aa", SuppressionList.Erased, null));
        });

        var aa = await ReadAsync(s => s.Consent.GetAddressSuppressionsAsync("sha256:aa"));
        Assert.Equal(
            [(SuppressionList.HardBounce, (ContactChannel?)ContactChannel.Email), (SuppressionList.Erased, null)],
            aa.Select(e => (e.List, e.Channel)).OrderBy(e => e.List).ToArray());
        Deep.Equal(Entry("sha256:bb", SuppressionList.Erased, null), Assert.Single(await ReadAsync(s => s.Consent.GetAddressSuppressionsAsync("sha256:bb"))));
        Assert.Empty(await ReadAsync(s => s.Consent.GetAddressSuppressionsAsync("sha256:AA")));
    }

    /// <summary>Preferences round-trip at version 1, store version v + 1 on a save with v, and a stale save is a
    /// concurrency conflict that changes nothing.</summary>
    [Fact]
    public virtual async Task Preferences_are_versioned()
    {
        await WriteAsync(s => s.Consent.SavePreferencesAsync(Preferences(Ada), 0));
        Deep.Equal(Preferences(Ada) with { Version = 1 }, await ReadAsync(s => s.Consent.GetPreferencesAsync(Ada)));

        await WriteAsync(async s =>
        {
            var read = (await s.Consent.GetPreferencesAsync(Ada))!;
            await s.Consent.SavePreferencesAsync(read with { TopicsOptedOut = [], PausedUntil = null }, read.Version);
        });
        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Consent.SavePreferencesAsync(Preferences(Ada) with { TimeZone = "Asia/Tokyo" }, 1);
                await session.CommitAsync();
            });
        }

        var stored = await ReadAsync(s => s.Consent.GetPreferencesAsync(Ada));
        Assert.Equal((2L, 0, "America/New_York"), (stored!.Version, stored.TopicsOptedOut.Count, stored.TimeZone));
        Assert.Null(stored.PausedUntil);
    }

    /// <summary>The send log appends by compare-and-swap: an append at the log's current version succeeds and changes
    /// the version; an append at an older version, or of a message id already in the log, returns false and changes
    /// nothing; sends are listed oldest first, and each customer's log is separate.</summary>
    [Fact]
    public virtual async Task The_send_log_appends_by_compare_and_swap_on_its_version()
    {
        await using var session = await OpenAsync();
        var v0 = (await session.Consent.GetSendLogAsync(Ada)).Version;

        Assert.True(await session.Consent.TryAppendSendAsync(Send(Ada, "m1", At(1)), v0));
        var v1 = (await session.Consent.GetSendLogAsync(Ada)).Version;
        Assert.NotEqual(v0, v1);

        Assert.False(await session.Consent.TryAppendSendAsync(Send(Ada, "m2", At(2)), v0));
        Assert.Equal(v1, (await session.Consent.GetSendLogAsync(Ada)).Version);

        Assert.True(await session.Consent.TryAppendSendAsync(Send(Ada, "m2", At(2)), v1));
        var log = await session.Consent.GetSendLogAsync(Ada);
        Assert.False(await session.Consent.TryAppendSendAsync(Send(Ada, "m1", At(3)), log.Version));

        var final = await session.Consent.GetSendLogAsync(Ada);
        Assert.Equal(log.Version, final.Version);
        Assert.Equal(["m1", "m2"], final.Sends.Select(x => x.MessageId));
        Deep.Equal(Send(Ada, "m2", At(2)), final.Sends[1]);
        Assert.True(await session.Consent.TryAppendSendAsync(Send(Bob, "m1", At(1)), (await session.Consent.GetSendLogAsync(Bob)).Version));
    }

    /// <summary>Appending and removing sends apply at once: they stay when the session is disposed without commit.</summary>
    [Fact]
    public virtual async Task Send_log_changes_apply_at_once_without_commit()
    {
        await using (var session = await OpenAsync())
        {
            Assert.True(await session.Consent.TryAppendSendAsync(Send(Ada, "m1", At(1)), 0));
            Assert.True(await session.Consent.TryAppendSendAsync(Send(Ada, "m2", At(2)), (await session.Consent.GetSendLogAsync(Ada)).Version));
        }

        await using (var session = await OpenAsync())
        {
            Assert.Equal(["m1", "m2"], (await session.Consent.GetSendLogAsync(Ada)).Sends.Select(x => x.MessageId));
            Assert.True(await session.Consent.RemoveSendAsync(Ada, "m1"));
        }

        Assert.Equal(["m2"], (await ReadAsync(s => s.Consent.GetSendLogAsync(Ada))).Sends.Select(x => x.MessageId));
    }

    /// <summary>Removing a send changes the log's version (so a reservation racing with it fails); removing an unknown
    /// message, or from a customer without a log, returns false and changes nothing.</summary>
    [Fact]
    public virtual async Task Removing_a_send_changes_the_version_and_unknown_sends_are_not_removed()
    {
        await using var session = await OpenAsync();
        Assert.True(await session.Consent.TryAppendSendAsync(Send(Ada, "m1", At(1)), 0));
        var before = (await session.Consent.GetSendLogAsync(Ada)).Version;

        Assert.False(await session.Consent.RemoveSendAsync(Ada, "nope"));
        Assert.False(await session.Consent.RemoveSendAsync(Bob, "m1"));
        Assert.Equal(before, (await session.Consent.GetSendLogAsync(Ada)).Version);

        Assert.True(await session.Consent.RemoveSendAsync(Ada, "m1"));
        var after = await session.Consent.GetSendLogAsync(Ada);
        Assert.Empty(after.Sends);
        Assert.NotEqual(before, after.Version);
        Assert.False(await session.Consent.TryAppendSendAsync(Send(Ada, "m3", At(3)), before));
        Assert.True(await session.Consent.TryAppendSendAsync(Send(Ada, "m3", At(3)), after.Version));
    }

    /// <summary>Sends are listed for every customer of the tenant in the half-open range [from, to).</summary>
    [Fact]
    public virtual async Task Sends_are_listed_in_a_half_open_time_range_for_every_customer()
    {
        await using var session = await OpenAsync();
        Assert.True(await session.Consent.TryAppendSendAsync(Send(Ada, "a0", At(0)), 0));
        Assert.True(await session.Consent.TryAppendSendAsync(Send(Ada, "a10", At(10)), (await session.Consent.GetSendLogAsync(Ada)).Version));
        Assert.True(await session.Consent.TryAppendSendAsync(Send(Bob, "b5", At(5)), 0));
        Assert.True(await session.Consent.TryAppendSendAsync(Send(Bob, "b20", At(20)), (await session.Consent.GetSendLogAsync(Bob)).Version));

        var listed = await session.Consent.ListSendsAsync(At(5), At(20));

        Assert.Equal(["a10", "b5"], listed.Select(x => x.MessageId).Order(StringComparer.Ordinal));
        Deep.Equal(Send(Bob, "b5", At(5)), listed.Single(x => x.MessageId == "b5"));
        Assert.Empty(await session.Consent.ListSendsAsync(At(21), At(100)));
    }

    /// <summary>Gate outcome counts add up across sessions (only committed ones), and are listed for the weeks starting
    /// in [from, to), by week, verdict and reason.</summary>
    [Fact]
    public virtual async Task Gate_outcome_counts_add_up_and_are_listed_by_week_in_range()
    {
        var w1 = new LocalDate(2025, 3, 3);
        var w2 = w1.PlusWeeks(1);
        var w3 = w1.PlusWeeks(2);
        await WriteAsync(async s =>
        {
            await s.Consent.CountOutcomeAsync(w1, SendVerdict.Skip, SendReasonCode.FrequencyCap);
            await s.Consent.CountOutcomeAsync(w1, SendVerdict.Skip, SendReasonCode.FrequencyCap);
            await s.Consent.CountOutcomeAsync(w2, SendVerdict.Send, SendReasonCode.ConsentGranted);
        });
        await WriteAsync(async s =>
        {
            await s.Consent.CountOutcomeAsync(w1, SendVerdict.Skip, SendReasonCode.FrequencyCap);
            await s.Consent.CountOutcomeAsync(w1, SendVerdict.Defer, SendReasonCode.QuietHours);
            await s.Consent.CountOutcomeAsync(w3, SendVerdict.Send, SendReasonCode.ConsentGranted);
        });
        await using (var discarded = await OpenAsync())
        {
            await discarded.Consent.CountOutcomeAsync(w1, SendVerdict.Skip, SendReasonCode.FrequencyCap);
        }

        var listed = await ReadAsync(s => s.Consent.ListOutcomesAsync(w1, w3));

        Assert.Equal(
            new[]
            {
                new GateOutcomeCount(w1, SendVerdict.Defer, SendReasonCode.QuietHours, 1),
                new GateOutcomeCount(w1, SendVerdict.Skip, SendReasonCode.FrequencyCap, 3),
                new GateOutcomeCount(w2, SendVerdict.Send, SendReasonCode.ConsentGranted, 1),
            },
            listed);
    }
}
