using Loyalty.Sdk;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures Loyalty.Sdk: capabilities and storage adapters are extension methods on it.</summary>
public interface ILoyaltyBuilder
{
    /// <summary>The service collection being configured.</summary>
    IServiceCollection Services { get; }
}

/// <summary>Registration of Loyalty.Sdk in a <see cref="IServiceCollection"/>.</summary>
public static class LoyaltyServiceCollectionExtensions
{
    /// <summary>
    /// Adds the engine (<see cref="ILoyaltyEngine"/>) with the identity and profile stages. Every registration uses
    /// <c>TryAdd</c>, so a host registers its own <see cref="IClock"/>, stage or store first to replace ours. Options
    /// are validated at start. Choose a store with <see cref="UseInMemoryStorage"/> (or an adapter package).
    /// </summary>
    public static ILoyaltyBuilder AddLoyalty(this IServiceCollection services, Action<LoyaltyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<LoyaltyOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LoyaltyOptions>, LoyaltyOptionsValidator>());
        services.TryAddSingleton<IClock>(SystemClock.Instance);
        services.TryAddSingleton<IProgramProvider, OptionsProgramProvider>();
        services.TryAddSingleton<ProfileStage>();
        services.TryAddSingleton<IIdentityStage, IdentityStage>();
        services.TryAddSingleton<IProfileStage>(sp => sp.GetRequiredService<ProfileStage>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICustomerMergeParticipant, ProfileStage>(sp => sp.GetRequiredService<ProfileStage>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICustomerSplitParticipant, ProfileStage>(sp => sp.GetRequiredService<ProfileStage>()));
        services.TryAddSingleton<IIdentityService, IdentityService>();
        services.TryAddSingleton<LoyaltyEngine>();
        services.TryAddSingleton<ILoyaltyEngine>(sp =>
        {
            if (sp.GetService<ILoyaltyStore>() is null)
            {
                throw new InvalidOperationException("No Loyalty.Sdk store is configured: call UseInMemoryStorage() or a storage adapter's Use... method on the builder returned by AddLoyalty().");
            }

            return sp.GetRequiredService<LoyaltyEngine>();
        });
        return new LoyaltyBuilder(services);
    }

    /// <summary>Keeps all data in memory (thread-safe, lost when the process ends).</summary>
    public static ILoyaltyBuilder UseInMemoryStorage(this ILoyaltyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<InMemoryLoyaltyStore>();
        builder.Services.TryAddSingleton<ILoyaltyStore>(sp => sp.GetRequiredService<InMemoryLoyaltyStore>());
        return builder;
    }

    /// <summary>Uses <paramref name="program"/> for every tenant without a program of its own.</summary>
    public static ILoyaltyBuilder UseDefaultProgram(this ILoyaltyBuilder builder, LoyaltyProgram program)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(program);
        builder.Services.Configure<LoyaltyOptions>(o => o.DefaultProgram = program);
        return builder;
    }

    /// <summary>Uses <paramref name="program"/> for <paramref name="tenant"/>.</summary>
    public static ILoyaltyBuilder UseProgram(this ILoyaltyBuilder builder, TenantId tenant, LoyaltyProgram program)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(program);
        builder.Services.Configure<LoyaltyOptions>(o => o.Programs[tenant.Value] = program);
        return builder;
    }

    private sealed class LoyaltyBuilder(IServiceCollection services) : ILoyaltyBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>Validates <see cref="LoyaltyOptions"/> at start.</summary>
internal sealed class LoyaltyOptionsValidator(IEnumerable<Loyalty.Sdk.Segments.ICustomerTraitProvider> providers) : IValidateOptions<LoyaltyOptions>
{
    private readonly Loyalty.Sdk.Segments.ICustomerTraitProvider[] providers = providers.ToArray();

    public ValidateOptionsResult Validate(string? name, LoyaltyOptions options)
    {
        var failures = new List<string>();
        if (options.DefaultProgram is null && options.Programs.Count == 0)
        {
            failures.Add("No program is configured: call UseDefaultProgram(...) or UseProgram(tenant, ...).");
        }

        if (options.MaxFutureSkew < Duration.Zero)
        {
            failures.Add("MaxFutureSkew cannot be negative.");
        }

        if (options.MaxBatchSize < 1)
        {
            failures.Add("MaxBatchSize must be at least 1.");
        }

        if (options.MaxConflictRetries < 0)
        {
            failures.Add("MaxConflictRetries cannot be negative.");
        }

        foreach (var (tenant, program) in options.Programs.Select(kv => (kv.Key, kv.Value)).Prepend(("(default)", options.DefaultProgram!)).Where(p => p.Item2 is not null))
        {
            failures.AddRange(ProgramValidator.Validate(program, providers.Length == 0 ? null : providers).Select(e => $"Program of tenant {tenant}: {e}"));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
