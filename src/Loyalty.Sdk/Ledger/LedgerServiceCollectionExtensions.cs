using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the points ledger.</summary>
public static class LedgerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the points ledger: the <see cref="LedgerStage"/> in the ingest pipeline (earning from orders, returns,
    /// completion, merges), the <see cref="ILedgerService"/> application API, the engines and the ledger's part of GDPR
    /// export and erasure (<see cref="LedgerPersonalData"/>). Registrations use
    /// <c>TryAdd</c>; the program's <c>ledger</c> section says what earns.
    /// </summary>
    public static ILoyaltyBuilder AddLedger(this ILoyaltyBuilder builder, Action<LedgerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<LedgerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddSingleton<LedgerEngines>();
        builder.Services.TryAddSingleton<LedgerStage>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILedgerStage, LedgerStage>(sp => sp.GetRequiredService<LedgerStage>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ICustomerMergeParticipant, LedgerStage>(sp => sp.GetRequiredService<LedgerStage>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ICustomerSplitParticipant, LedgerStage>(sp => sp.GetRequiredService<LedgerStage>()));
        builder.Services.TryAddSingleton<ILedgerService, LedgerService>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Loyalty.Sdk.Consent.IPersonalDataContributor, LedgerPersonalData>());
        return builder;
    }
}
