using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Predictive.Engine;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the predictive capability.</summary>
public static class PredictiveServiceCollectionExtensions
{
    /// <summary>Maintains purchase histories from order events, adds <see cref="IPredictiveService"/> (BG/NBD,
    /// Gamma-Gamma, CLV scores) and exposes the scores as rule traits (<see cref="PredictiveTraitProvider"/>)
    /// and takes part in GDPR export and erasure (<see cref="PredictivePersonalData"/>).</summary>
    public static ILoyaltyBuilder AddPredictive(this ILoyaltyBuilder builder, Action<PredictiveOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<PredictiveOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.PurchaseHorizonDays > 0 && o.ClvMonths > 0 && o.MonthlyDiscountRate >= 0 && o.MinimumCustomers >= 2 && o.Penalizer >= 0,
            "PredictiveOptions: horizons must be positive, the discount rate and penalizer not negative, and MinimumCustomers at least 2.").ValidateOnStart();
        builder.Services.TryAddSingleton<PurchaseHistoryStage>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ITraitStage, PurchaseHistoryStage>(sp => sp.GetRequiredService<PurchaseHistoryStage>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ICustomerMergeParticipant, PurchaseHistoryStage>(sp => sp.GetRequiredService<PurchaseHistoryStage>()));
        builder.Services.TryAddSingleton<IPredictiveService, PredictiveService>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Loyalty.Sdk.Segments.ICustomerTraitProvider, PredictiveTraitProvider>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Loyalty.Sdk.Consent.IPersonalDataContributor, PredictivePersonalData>());
        return builder;
    }
}
