using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Journeys;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the journeys capability.</summary>
public static class JourneyServiceCollectionExtensions
{
    /// <summary>
    /// Adds journeys: the journey stage, <see cref="IJourneyService"/> (durable timers, measurement) and the
    /// <see cref="IOutboxDispatcher"/> (consent-gated delivery through the host's <see cref="IChannelSender"/>s and
    /// <see cref="IJourneyActionHandler"/>s). Definitions are validated on first use; invalid ones throw
    /// <see cref="JourneyValidationException"/> listing every error, and nothing is registered.
    /// </summary>
    public static ILoyaltyBuilder AddJourneys(this ILoyaltyBuilder builder, Action<JourneyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var optionsBuilder = services.AddOptions<JourneyOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        services.TryAddSingleton(sp => new JourneyRegistry(sp.GetRequiredService<IOptions<JourneyOptions>>().Value));
        services.TryAddSingleton(sp => new JourneyRunner(sp.GetRequiredService<IOptions<JourneyOptions>>().Value));
        services.TryAddSingleton(sp => new JourneyStage(sp.GetRequiredService<JourneyRegistry>(), sp.GetRequiredService<JourneyRunner>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IJourneyStage, JourneyStage>(sp => sp.GetRequiredService<JourneyStage>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataContributor, JourneyPersonalData>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICustomerMergeParticipant, JourneyMergeParticipant>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILedgerSignalObserver, JourneyLedgerObserver>(sp => new JourneyLedgerObserver(sp.GetRequiredService<JourneyRegistry>(), sp.GetRequiredService<JourneyRunner>())));
        services.TryAddSingleton<IJourneyService>(sp => new JourneyService(
            sp.GetRequiredService<ILoyaltyStore>(), sp.GetRequiredService<IProgramProvider>(), sp.GetRequiredService<JourneyRegistry>(), sp.GetRequiredService<JourneyRunner>()));
        services.TryAddSingleton<IOutboxDispatcher>(sp => new OutboxDispatcher(
            sp.GetRequiredService<ILoyaltyStore>(),
            sp.GetRequiredService<IProgramProvider>(),
            sp.GetRequiredService<NodaTime.IClock>(),
            sp.GetRequiredService<IOptions<JourneyOptions>>().Value,
            sp.GetServices<IChannelSender>(),
            sp.GetServices<IJourneyActionHandler>(),
            sp.GetService<IConsentService>(),
            sp.GetService<ILedgerService>()));
        return builder;
    }
}
