using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the consent capability.</summary>
public static class ConsentServiceCollectionExtensions
{
    /// <summary>
    /// Adds consent and contact policy: the consent stage (after the profile stage), its merge participant, the send
    /// gate (<see cref="IConsentService"/>), the preference center (<see cref="IPreferenceCenter"/>), and GDPR export
    /// and erasure (<see cref="IPersonalDataService"/>). The policy comes from each program's <c>consent</c> section.
    /// </summary>
    public static ILoyaltyBuilder AddConsent(this ILoyaltyBuilder builder, Action<ConsentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<ConsentOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsentOptions>, ConsentOptionsValidator>());
        services.TryAddSingleton<AddressHasher>();
        services.TryAddSingleton<ConsentStage>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConsentStage, ConsentStage>(sp => sp.GetRequiredService<ConsentStage>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICustomerMergeParticipant, ConsentStage>(sp => sp.GetRequiredService<ConsentStage>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataContributor, ConsentPersonalData>());
        services.TryAddSingleton<IConsentService, ConsentService>();
        services.TryAddSingleton<IPreferenceCenter, PreferenceCenter>();
        services.TryAddSingleton<IPersonalDataService, PersonalDataService>();
        return builder;
    }
}
