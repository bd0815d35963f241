using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Storage.Documents;

// Consent as documents, one per customer and kind: "consent-records" (the customer's history, oldest first),
// "consent-suppressions", "consent-preferences", "consent-sends" (the send log, changed by compare-and-swap at once,
// not on commit, like every adapter's send log); "consent-address" per address hash; counters "consent-outcome" and
// "consent-sequence".
internal sealed partial class DocumentSession : IConsentRepository
{
    internal const string ConsentRecordsCollection = "consent-records";
    internal const string SuppressionsCollection = "consent-suppressions";
    internal const string AddressCollection = "consent-address";
    internal const string PreferencesCollection = "consent-preferences";
    internal const string SendsCollection = "consent-sends";
    internal const string OutcomeCounters = "consent-outcome";
    internal const string SequenceCounters = "consent-sequence";

    private long consentSequence = -1;

    public IConsentRepository Consent => this;

    async ValueTask<IReadOnlyList<ConsentRecord>> IConsentRepository.GetHistoryAsync(CustomerId customer, CancellationToken cancellationToken) =>
        [.. await RecordsAsync(customer, cancellationToken).ConfigureAwait(false)];

    async ValueTask IConsentRepository.AppendAsync(ConsentRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (consentSequence < 0)
        {
            consentSequence = (await ReadCountersAsync(SequenceCounters, cancellationToken).ConfigureAwait(false)).GetValueOrDefault("log");
        }

        var list = await WriteRecordsAsync(record.Customer, cancellationToken).ConfigureAwait(false);
        list.Add(record with { Sequence = ++consentSequence });
        Count(SequenceCounters, "log", 1);
    }

    async ValueTask IConsentRepository.MoveAsync(CustomerId from, CustomerId to, CancellationToken cancellationToken)
    {
        var moved = await WriteRecordsAsync(from, cancellationToken).ConfigureAwait(false);
        var target = await WriteRecordsAsync(to, cancellationToken).ConfigureAwait(false);
        target.AddRange(moved.Select(r => r with { Customer = to, OriginalCustomer = r.OriginalCustomer ?? r.Customer }));
        moved.Clear();
        var entries = await WriteSuppressionsAsync(from, cancellationToken).ConfigureAwait(false);
        var into = await WriteSuppressionsAsync(to, cancellationToken).ConfigureAwait(false);
        foreach (var e in entries)
        {
            if (!into.Exists(x => x.List == e.List && x.Channel == e.Channel))
            {
                into.Add(e with { Customer = to });
            }
        }

        entries.Clear();
    }

    async ValueTask<IReadOnlyList<SuppressionEntry>> IConsentRepository.GetSuppressionsAsync(CustomerId customer, CancellationToken cancellationToken) =>
        [.. await LoadAsync(SuppressionsCollection, customer.Value, DocumentJson.Suppressions, cancellationToken).ConfigureAwait(false) ?? []];

    async ValueTask IConsentRepository.AddSuppressionAsync(SuppressionEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var list = await WriteSuppressionsAsync(entry.Customer, cancellationToken).ConfigureAwait(false);
        if (!list.Exists(x => x.List == entry.List && x.Channel == entry.Channel))
        {
            list.Add(entry);
        }
    }

    async ValueTask IConsentRepository.RemoveSuppressionAsync(CustomerId customer, SuppressionList list, ContactChannel? channel, CancellationToken cancellationToken) =>
        (await WriteSuppressionsAsync(customer, cancellationToken).ConfigureAwait(false)).RemoveAll(x => x.List == list && x.Channel == channel);

    async ValueTask<IReadOnlyList<AddressSuppression>> IConsentRepository.GetAddressSuppressionsAsync(string addressHash, CancellationToken cancellationToken) =>
        [.. await LoadAsync(AddressCollection, addressHash, DocumentJson.AddressSuppressions, cancellationToken).ConfigureAwait(false) ?? []];

    async ValueTask IConsentRepository.AddAddressSuppressionAsync(AddressSuppression entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var list = await LoadAsync(AddressCollection, entry.AddressHash, DocumentJson.AddressSuppressions, cancellationToken).ConfigureAwait(false);
        list = list is null ? [] : [.. list];
        if (!list.Exists(x => x.List == entry.List && x.Channel == entry.Channel))
        {
            list.Add(entry);
        }

        await PutReadAsync(AddressCollection, entry.AddressHash, list, DocumentJson.AddressSuppressions, null, cancellationToken).ConfigureAwait(false);
    }

    ValueTask<PreferenceSettings?> IConsentRepository.GetPreferencesAsync(CustomerId customer, CancellationToken cancellationToken) =>
        LoadAsync(PreferencesCollection, customer.Value, DocumentJson.Preferences, cancellationToken);

    ValueTask IConsentRepository.SavePreferencesAsync(PreferenceSettings preferences, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(preferences);
        Put(PreferencesCollection, preferences.Customer.Value, preferences with { Version = expectedVersion + 1 }, expectedVersion, DocumentJson.Preferences, p => p.Customer.Value);
        return ValueTask.CompletedTask;
    }

    async ValueTask<SendLog> IConsentRepository.GetSendLogAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        // Always fresh: the send log is shared by every session and changed by compare-and-swap.
        var stored = await backend.GetAsync(tenant, SendsCollection, customer.Value, cancellationToken).ConfigureAwait(false);
        return stored is null ? new SendLog([], 0) : new SendLog(System.Text.Json.JsonSerializer.Deserialize(stored.Body, DocumentJson.Sends)!, stored.Version);
    }

    async ValueTask<bool> IConsentRepository.TryAppendSendAsync(SendRecord send, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(send);
        var log = await ((IConsentRepository)this).GetSendLogAsync(send.Customer, cancellationToken).ConfigureAwait(false);
        if (log.Version != expectedVersion || log.Sends.Any(s => s.MessageId == send.MessageId))
        {
            return false;
        }

        return await SwapSendsAsync(send.Customer, [.. log.Sends, send], expectedVersion, cancellationToken).ConfigureAwait(false);
    }

    async ValueTask<bool> IConsentRepository.RemoveSendAsync(CustomerId customer, string messageId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var log = await ((IConsentRepository)this).GetSendLogAsync(customer, cancellationToken).ConfigureAwait(false);
            if (!log.Sends.Any(s => s.MessageId == messageId))
            {
                return false;
            }

            if (await SwapSendsAsync(customer, [.. log.Sends.Where(s => s.MessageId != messageId)], log.Version, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }
    }

    private async ValueTask<bool> SwapSendsAsync(CustomerId customer, List<SendRecord> sends, long expectedVersion, CancellationToken cancellationToken)
    {
        var changes = new DocumentChangeSet();
        var at = sends.Count == 0 ? (Instant?)null : sends.Max(s => s.SentAt);
        changes.Documents.Add(new DocumentWrite(SendsCollection, customer.Value, customer.Value, at, System.Text.Json.JsonSerializer.Serialize(sends, DocumentJson.Sends), expectedVersion, expectedVersion + 1));
        try
        {
            await backend.CommitAsync(tenant, changes, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConcurrencyConflictException)
        {
            return false;
        }
    }

    async ValueTask<IReadOnlyList<SendRecord>> IConsentRepository.ListSendsAsync(Instant from, Instant to, CancellationToken cancellationToken)
    {
        var logs = await backend.QueryAsync(tenant, new DocumentQuery { Collection = SendsCollection }, cancellationToken).ConfigureAwait(false);
        return [.. logs.SelectMany(l => System.Text.Json.JsonSerializer.Deserialize(l.Body, DocumentJson.Sends)!).Where(s => s.SentAt >= from && s.SentAt < to)];
    }

    ValueTask IConsentRepository.CountOutcomeAsync(LocalDate weekStart, SendVerdict verdict, SendReasonCode reason, CancellationToken cancellationToken)
    {
        Count(OutcomeCounters, Names.Join(NodaTime.Text.LocalDatePattern.Iso.Format(weekStart), verdict.ToString(), reason.ToString()), 1);
        return ValueTask.CompletedTask;
    }

    async ValueTask<IReadOnlyList<GateOutcomeCount>> IConsentRepository.ListOutcomesAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken)
    {
        var counts = await ReadCountersAsync(OutcomeCounters, cancellationToken).ConfigureAwait(false);
        return [.. counts.Select(kv =>
            {
                var p = Names.Split(kv.Key);
                return new GateOutcomeCount(NodaTime.Text.LocalDatePattern.Iso.Parse(p[0]).Value, Enum.Parse<SendVerdict>(p[1]), Enum.Parse<SendReasonCode>(p[2]), kv.Value);
            })
            .Where(c => c.WeekStart >= from && c.WeekStart < to && c.Count != 0)
            .OrderBy(c => c.WeekStart).ThenBy(c => c.Verdict).ThenBy(c => c.Reason)];
    }

    async ValueTask IConsentRepository.EraseCustomerAsync(CustomerId customer, CustomerId pseudonym, CancellationToken cancellationToken)
    {
        var own = await WriteRecordsAsync(customer, cancellationToken).ConfigureAwait(false);
        var target = await WriteRecordsAsync(pseudonym, cancellationToken).ConfigureAwait(false);
        target.AddRange(own.Select(r => r with
        {
            Customer = pseudonym,
            OriginalCustomer = null,
            Evidence = null,
            Source = null,
            Actor = "erased",
            CausedBy = null,
        }));
        own.Clear();
        (await WriteSuppressionsAsync(customer, cancellationToken).ConfigureAwait(false)).Clear();
        await PutReadAsync<PreferenceSettings>(PreferencesCollection, customer.Value, null, DocumentJson.Preferences, null, cancellationToken).ConfigureAwait(false);
        await PutReadAsync<List<SendRecord>>(SendsCollection, customer.Value, null, DocumentJson.Sends, null, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<List<ConsentRecord>> RecordsAsync(CustomerId customer, CancellationToken cancellationToken) =>
        await LoadAsync(ConsentRecordsCollection, customer.Value, DocumentJson.ConsentRecords, cancellationToken).ConfigureAwait(false) ?? [];

    /// <summary>The customer's records as a list this session writes.</summary>
    private async ValueTask<List<ConsentRecord>> WriteRecordsAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        var list = await LoadAsync(ConsentRecordsCollection, customer.Value, DocumentJson.ConsentRecords, cancellationToken).ConfigureAwait(false) ?? [];
        await PutReadAsync(ConsentRecordsCollection, customer.Value, list, DocumentJson.ConsentRecords, _ => customer.Value, cancellationToken).ConfigureAwait(false);
        return list;
    }

    private async ValueTask<List<SuppressionEntry>> WriteSuppressionsAsync(CustomerId customer, CancellationToken cancellationToken)
    {
        var list = await LoadAsync(SuppressionsCollection, customer.Value, DocumentJson.Suppressions, cancellationToken).ConfigureAwait(false) ?? [];
        await PutReadAsync(SuppressionsCollection, customer.Value, list, DocumentJson.Suppressions, _ => customer.Value, cancellationToken).ConfigureAwait(false);
        return list;
    }
}
