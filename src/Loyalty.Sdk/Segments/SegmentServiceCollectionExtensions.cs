using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Segments;
using Loyalty.Sdk.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the segmentation capability.</summary>
public static class SegmentServiceCollectionExtensions
{
    /// <summary>
    /// Adds segments: the segment stage (computed traits, live membership), its merge participant,
    /// <see cref="ISegmentService"/> (due work, batch recompute, sizes, overlap, explain) and the default
    /// <see cref="ReachabilityTraitProvider"/>, and the segments' part of GDPR export and erasure (<see cref="SegmentPersonalData"/>). Segments come from the program's <c>segments</c> section and
    /// <see cref="SegmentOptions.Segments"/>.
    /// </summary>
    public static ILoyaltyBuilder AddSegments(this ILoyaltyBuilder builder, Action<SegmentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var optionsBuilder = services.AddOptions<SegmentOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICustomerTraitProvider, ReachabilityTraitProvider>());
        services.TryAddSingleton(sp => new SegmentRegistry(sp.GetRequiredService<IOptions<SegmentOptions>>().Value, sp.GetServices<ICustomerTraitProvider>()));
        services.TryAddSingleton(sp => new SegmentStage(sp.GetRequiredService<SegmentRegistry>(), sp.GetRequiredService<IOptions<SegmentOptions>>().Value));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISegmentStage, SegmentStage>(sp => sp.GetRequiredService<SegmentStage>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICustomerMergeParticipant, SegmentStage>(sp => sp.GetRequiredService<SegmentStage>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Loyalty.Sdk.Consent.IPersonalDataContributor, SegmentPersonalData>());
        services.TryAddSingleton<ISegmentService>(sp => new SegmentService(
            sp.GetRequiredService<ILoyaltyStore>(), sp.GetRequiredService<IProgramProvider>(), sp.GetRequiredService<SegmentRegistry>(), sp.GetRequiredService<IOptions<SegmentOptions>>().Value));
        return builder;
    }
}
