using Loyalty.Sdk.Events;
using Loyalty.Sdk.Pipeline;
using NodaTime;

namespace Loyalty.Sdk.Consent;

/// <summary>The consent stage of the pipeline: records <c>consent_changed</c> events and suppression signals
/// (bounces, spam complaints, unsubscribes). It runs after the profile stage.</summary>
public interface IConsentStage : IIngestStage;

/// <summary>
/// The host API of the consent capability: record choices with their evidence, confirm double opt-ins, and ask the
/// send gate at dispatch time. Every gate decision made through this service is kept in the decision trail.
/// </summary>
public interface IConsentService
{
    /// <summary>Records a consent choice with its full evidence.</summary>
    /// <exception cref="ConsentValidationException">Unknown channel or purpose, dated in the future, withdrawal without
    /// a grant, unknown customer: nothing was applied.</exception>
    ValueTask<ConsentRecord> RecordAsync(ConsentRecordRequest request, CancellationToken cancellationToken = default);

    /// <summary>Confirms a pending double opt-in with its token.</summary>
    /// <exception cref="ConsentValidationException">No pending opt-in with that token, or the timeout passed.</exception>
    ValueTask<ConsentRecord> ConfirmDoubleOptInAsync(TenantId tenant, CustomerId customer, ContactChannel channel, ConsentPurpose purpose, string token, Instant confirmedAt, CancellationToken cancellationToken = default);

    /// <summary>A customer's consent history (merges followed).</summary>
    ValueTask<IReadOnlyList<ConsentRecord>> GetHistoryAsync(TenantId tenant, CustomerId customer, CancellationToken cancellationToken = default);

    /// <summary>The current state of every channel × purpose with a history, at <paramref name="at"/>.</summary>
    ValueTask<IReadOnlyList<ConsentState>> GetStatesAsync(TenantId tenant, CustomerId customer, Instant at, CancellationToken cancellationToken = default);

    /// <summary>Asks the send gate (no slot is consumed); the decision is kept in the trail.</summary>
    ValueTask<SendDecision> CheckAsync(SendCheck check, CancellationToken cancellationToken = default);

    /// <summary>Asks the send gate and, when the verdict is send, atomically consumes a cap slot: of two dispatchers
    /// racing for the last slot exactly one wins. Reserving the same message id twice consumes one slot.</summary>
    ValueTask<SendReservation> TryReserveSendAsync(SendCheck check, CancellationToken cancellationToken = default);

    /// <summary>Gives a slot back when a reserved message was not dispatched.</summary>
    ValueTask<bool> ReleaseSendAsync(TenantId tenant, CustomerId customer, string messageId, CancellationToken cancellationToken = default);

    /// <summary>Puts a customer on a suppression list (e.g. staff do-not-contact).</summary>
    ValueTask SuppressAsync(TenantId tenant, CustomerId customer, SuppressionList list, ContactChannel? channel, Instant at, string actor, CancellationToken cancellationToken = default);

    /// <summary>Takes a customer off a suppression list.</summary>
    ValueTask LiftSuppressionAsync(TenantId tenant, CustomerId customer, SuppressionList list, ContactChannel? channel, Instant at, string actor, CancellationToken cancellationToken = default);

    /// <summary>Contact pressure: messages per customer per week, deferred and skipped counts by reason.</summary>
    ValueTask<SaturationView> GetSaturationAsync(TenantId tenant, Instant from, Instant to, CancellationToken cancellationToken = default);
}

/// <summary>The preference center API the host's UI calls.</summary>
public interface IPreferenceCenter
{
    /// <summary>The customer's channels, topics, frequency, pause and data-sharing choices.</summary>
    ValueTask<PreferenceCenterView> GetAsync(TenantId tenant, CustomerId customer, Instant at, CancellationToken cancellationToken = default);

    /// <summary>Applies a change; every change writes consent or preference history with its source.</summary>
    /// <exception cref="ConsentValidationException">Unknown topic, invalid time zone, future date: nothing applied.</exception>
    ValueTask<PreferenceCenterView> UpdateAsync(PreferenceUpdate update, CancellationToken cancellationToken = default);
}
