using BenchmarkDotNet.Attributes;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Benchmarks;

/// <summary>
/// Where the time of <see cref="IngestBenchmarks"/> goes: the pieces of the pipeline run alone on the same order
/// workload, per event. The stage benchmarks run in one session that is disposed without commit, so every invocation
/// sees the same seeded store (like one batch of <see cref="EventsPerInvoke"/> events, minus the commit).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[OperationsPerSecond]
public class StageBenchmarks
{
    /// <summary>Events processed by one invocation.</summary>
    public const int EventsPerInvoke = 2_000;

    private LoyaltyHost host = null!;
    private OrderPlaced[] events = [];
    private IIngestStage identity = null!;
    private IIngestStage profile = null!;
    private Instant now;

    /// <summary>Customers in the store (each signed up and placed one order). Lookups are O(1): a smaller store than
    /// <see cref="IngestBenchmarks"/> keeps the setup short without changing the per-event cost much.</summary>
    [Params(20_000)]
    public int SeededCustomers { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        host = new LoyaltyHost();
        var workload = new OrderWorkload();
        await host.SeedCustomersAsync(workload, 0, SeededCustomers).ConfigureAwait(false);
        events = Enumerable.Range(0, EventsPerInvoke).Select(_ => workload.NextOrder()).ToArray();
        identity = host.Services.GetRequiredService<IIdentityStage>();
        profile = host.Services.GetRequiredService<IProfileStage>();
        now = OrderWorkload.ClockNow;
    }

    [GlobalCleanup]
    public void Cleanup() => host.Dispose();

    /// <summary><see cref="EventValidator.Validate"/> of each event.</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public int Validate()
    {
        var errors = 0;
        foreach (var e in events)
        {
            errors += EventValidator.Validate(e, host.Program, now, Duration.FromMinutes(5)).Count;
        }

        return errors;
    }

    /// <summary><see cref="IdentifierNormalizer.Normalize"/> of each event's 2–3 identifiers.</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public int NormalizeIdentifiers()
    {
        var blocked = 0;
        foreach (var e in events)
        {
            foreach (var identifier in e.Identifiers)
            {
                blocked += IdentifierNormalizer.Normalize(identifier, host.Program.DefaultRegion).Blocked ? 1 : 0;
            }
        }

        return blocked;
    }

    /// <summary>The phone numbers alone (libphonenumber parse, validate, format E.164).</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public int NormalizePhones()
    {
        var length = 0;
        foreach (var e in events)
        {
            foreach (var identifier in e.Identifiers)
            {
                if (identifier.Type == IdentifierType.Phone)
                {
                    length += IdentifierNormalizer.Normalize(identifier, host.Program.DefaultRegion).Identifier!.Value.Length;
                }
            }
        }

        return length;
    }

    /// <summary>A session opened, the duplicate check of each event, the session disposed.</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public async Task<int> SessionAndDuplicateCheck()
    {
        var session = await host.Store.OpenSessionAsync(OrderWorkload.Tenant).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var duplicates = 0;
            foreach (var e in events)
            {
                duplicates += await session.Events.FindAsync(e.Id).ConfigureAwait(false) is null ? 0 : 1;
            }

            return duplicates;
        }
    }

    /// <summary>The identity stage on each event (normalize, look up, create or link, decisions).</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public Task<int> IdentityStage() => RunStagesAsync(withProfile: false);

    /// <summary>The identity then the profile stage on each event.</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public Task<int> IdentityAndProfileStages() => RunStagesAsync(withProfile: true);

    private async Task<int> RunStagesAsync(bool withProfile)
    {
        var session = await host.Store.OpenSessionAsync(OrderWorkload.Tenant).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var decisions = 0;
            foreach (var e in events)
            {
                var context = new IngestContext(e, host.Program, session, now);
                await identity.ProcessAsync(context, default).ConfigureAwait(false);
                if (withProfile)
                {
                    await profile.ProcessAsync(context, default).ConfigureAwait(false);
                }

                decisions += context.Decisions.Count;
            }

            return decisions;
        }
    }
}
