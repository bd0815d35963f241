using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using NodaTime.Testing;

namespace Loyalty.Sdk.Benchmarks;

/// <summary>
/// The engine as a host wires it: in-memory storage, the default retail program, every capability (consent, ledger,
/// segments, predictive traits — as the <c>loyalty</c> CLI does), a fixed clock, no logging.
/// </summary>
public sealed class LoyaltyHost : IDisposable
{
    private readonly ServiceProvider provider;

    /// <summary>Builds the container and resolves the engine.</summary>
    /// <param name="coreOnly">Only identity and profile (what <c>AddLoyalty()</c> registers), to see what the
    /// capabilities cost.</param>
    public LoyaltyHost(bool coreOnly = false)
    {
        var services = new ServiceCollection();

        // Registered before AddLoyalty(), which only adds its own defaults (TryAdd): a clock after every generated
        // event, and loggers that discard everything (the engine logs each event at Debug, which hosts filter out).
        services.AddSingleton<IClock>(new FakeClock(OrderWorkload.ClockNow));
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        var loyalty = services.AddLoyalty()
            .UseInMemoryStorage()
            .UseDefaultProgram(Program);
        if (!coreOnly)
        {
            loyalty.AddConsent().AddLedger().AddSegments().AddPredictive();
        }

        provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        Engine = provider.GetRequiredService<ILoyaltyEngine>();
        Store = provider.GetRequiredService<InMemoryLoyaltyStore>();
        Stages = provider.GetRequiredService<LoyaltyEngine>().Stages.Select(s => s.GetType().Name).ToArray();
    }

    /// <summary>The container, to resolve single stages.</summary>
    public IServiceProvider Services => provider;

    /// <summary>The program of every tenant.</summary>
    public LoyaltyProgram Program { get; } = DefaultPrograms.Retail();

    /// <summary>The engine.</summary>
    public ILoyaltyEngine Engine { get; }

    /// <summary>The store behind it.</summary>
    public InMemoryLoyaltyStore Store { get; }

    /// <summary>The stages the engine runs, by type name.</summary>
    public IReadOnlyList<string> Stages { get; }

    /// <summary>Ingests <see cref="OrderWorkload.SignUp"/> and <see cref="OrderWorkload.WebOrder"/> for customers
    /// <paramref name="from"/> .. <paramref name="to"/>-1, in batches, and marks them known.</summary>
    public async Task SeedCustomersAsync(OrderWorkload workload, int from, int to, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(workload);
        var batch = new List<Events.LoyaltyEvent>(batchSize);
        for (var i = from; i < to; i++)
        {
            batch.Add(workload.SignUp(i));
            batch.Add(workload.WebOrder(i));
            if (batch.Count >= batchSize || i == to - 1)
            {
                await Engine.IngestBatchAsync(batch).ConfigureAwait(false);
                batch.Clear();
            }
        }

        workload.MarkKnown(to);
    }

    /// <inheritdoc />
    public void Dispose() => provider.Dispose();
}
