using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>
/// The storage port of the consent capability, scoped to the session's tenant. Consent records are append-only;
/// writes are applied when the session commits, except <see cref="TryAppendSendAsync"/> and
/// <see cref="RemoveSendAsync"/>, which are atomic compare-and-swap operations applied at once (like outbox claims), so
/// that two dispatchers racing for the last cap slot cannot both win.
/// </summary>
public interface IConsentRepository
{
    /// <summary>A customer's consent history, in append order.</summary>
    ValueTask<IReadOnlyList<ConsentRecord>> GetHistoryAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Appends a record; the store assigns <see cref="ConsentRecord.Sequence"/>.</summary>
    ValueTask AppendAsync(ConsentRecord record, CancellationToken cancellationToken = default);

    /// <summary>Moves every record of <paramref name="from"/> to <paramref name="to"/> (merge), keeping
    /// <see cref="ConsentRecord.OriginalCustomer"/>.</summary>
    ValueTask MoveAsync(CustomerId from, CustomerId to, CancellationToken cancellationToken = default);

    /// <summary>A customer's suppression entries.</summary>
    ValueTask<IReadOnlyList<SuppressionEntry>> GetSuppressionsAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Adds a suppression entry (an entry with the same customer, list and channel is kept once).</summary>
    ValueTask AddSuppressionAsync(SuppressionEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Removes a customer's entry from a list.</summary>
    ValueTask RemoveSuppressionAsync(CustomerId customer, SuppressionList list, ContactChannel? channel, CancellationToken cancellationToken = default);

    /// <summary>Suppressions of an address hash.</summary>
    ValueTask<IReadOnlyList<AddressSuppression>> GetAddressSuppressionsAsync(string addressHash, CancellationToken cancellationToken = default);

    /// <summary>Suppresses an address hash.</summary>
    ValueTask AddAddressSuppressionAsync(AddressSuppression entry, CancellationToken cancellationToken = default);

    /// <summary>A customer's preferences.</summary>
    ValueTask<PreferenceSettings?> GetPreferencesAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Saves preferences with optimistic concurrency (0 for new).</summary>
    ValueTask SavePreferencesAsync(PreferenceSettings preferences, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>A customer's dispatched messages and the log's version.</summary>
    ValueTask<SendLog> GetSendLogAsync(CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>Atomically appends <paramref name="send"/> if the log is still at <paramref name="expectedVersion"/>;
    /// returns false (and changes nothing) when another reservation came first. Applied immediately.</summary>
    ValueTask<bool> TryAppendSendAsync(SendRecord send, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Removes a reserved send that was not dispatched after all. Applied immediately.</summary>
    ValueTask<bool> RemoveSendAsync(CustomerId customer, string messageId, CancellationToken cancellationToken = default);

    /// <summary>Every dispatched message of the tenant in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    ValueTask<IReadOnlyList<SendRecord>> ListSendsAsync(Instant from, Instant to, CancellationToken cancellationToken = default);

    /// <summary>Counts a gate outcome for the saturation view.</summary>
    ValueTask CountOutcomeAsync(LocalDate weekStart, SendVerdict verdict, SendReasonCode reason, CancellationToken cancellationToken = default);

    /// <summary>Gate outcome counts of weeks starting in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    ValueTask<IReadOnlyList<GateOutcomeCount>> ListOutcomesAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken = default);

    /// <summary>Erasure: deletes the customer's preferences, suppression entries and send log, and anonymizes their
    /// consent records under <paramref name="pseudonym"/> (status, purpose, times and wording are kept as proof;
    /// evidence, source and actor are dropped).</summary>
    ValueTask EraseCustomerAsync(CustomerId customer, CustomerId pseudonym, CancellationToken cancellationToken = default);
}
