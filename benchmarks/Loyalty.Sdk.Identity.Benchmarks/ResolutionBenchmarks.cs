using BenchmarkDotNet.Attributes;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Programs;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Loyalty.Sdk.Identity.Benchmarks;

/// <summary>The resolution core: O(1) lookups of an event's 2–3 normalized identifiers plus the limit check
/// (<see cref="IdentityStage.CheckLimits"/>), over 100,000 customers; 5% of events carry a new identifier.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class ResolutionBenchmarks
{
    private const int Events = 10_000;
    // The identifier index of the in-memory store (IdentifierIndex), here mapping straight to the identity.
    private readonly IdentifierIndex<CustomerIdentity> index = new();
    private readonly IdentityPolicy policy = DefaultPrograms.Retail().Identity;
    private readonly Instant now = Instant.FromUtc(2026, 1, 1, 0, 0);
    private Identifier[][] events = [];
    private Identifier[][] rawEvents = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        var before = GC.GetTotalMemory(true);
        for (var c = 0; c < 100_000; c++)
        {
            var links = new[]
            {
                new IdentityLink(new Identifier(IdentifierType.Email, $"p{c}@example.com"), new EventId($"e{c}"), now, IdentityStage.NewCustomerRule),
                new IdentityLink(new Identifier(IdentifierType.LoyaltyCard, $"LC{c}"), new EventId($"e{c}"), now, IdentityStage.NewCustomerRule),
                new IdentityLink(new Identifier(IdentifierType.DeviceId, $"d{c}"), new EventId($"e{c}"), now, IdentityStage.NewCustomerRule),
            };
            var identity = new CustomerIdentity
            {
                Customer = new CustomerId($"cus_{c}"), FirstSeen = now, Links = links,
                Evidence = [new LinkEvidence(new EventId($"e{c}"), [.. links.Select(l => l.Identifier)], now, IdentityStage.NewCustomerRule)],
            };
            foreach (var l in links)
            {
                index[l.Identifier] = identity;
            }
        }

        var after = GC.GetTotalMemory(true);
        Console.WriteLine($"// Memory per identifier (identity record with links and evidence, index entry): {(after - before) / 300_000.0:0} bytes");
        events = new Identifier[Events][];
        for (var i = 0; i < Events; i++)
        {
            var c = random.Next(100_000);
            var ids = new List<Identifier> { new(IdentifierType.Email, $"p{c}@example.com"), new(IdentifierType.LoyaltyCard, $"LC{c}") };
            if (random.NextDouble() < 0.5)
            {
                ids.Add(new Identifier(IdentifierType.DeviceId, $"d{c}"));
            }

            if (random.NextDouble() < 0.05)
            {
                ids[^1] = new Identifier(IdentifierType.DeviceId, $"new-{i}");
            }

            events[i] = [.. ids];
        }

        // The same events as a source sends them: new instances, one e-mail in ten upper-cased.
        rawEvents = events.Select(ids => ids.Select(id => id.Type == IdentifierType.Email && random.NextDouble() < 0.1
            ? new Identifier(id.Type, id.Value.ToUpperInvariant())
            : new Identifier(id.Type, new string(id.Value.AsSpan()))).ToArray()).ToArray();
        if (ResolveRaw() != ResolveCore())
        {
            throw new InvalidOperationException("Normalizing the raw events must resolve them as the normalized ones.");
        }
    }

    /// <summary>What the identity stage does per event before touching storage, on identifiers as sources send
    /// them (one e-mail in ten upper-cased): normalization under the type's policy (placeholders, blocked values and
    /// patterns), the O(1) lookups, and the limit check.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public int ResolveRaw()
    {
        var refused = 0;
        var holders = new List<CustomerIdentity>(3);
        var incoming = new List<Identifier>(3);
        foreach (var ids in rawEvents)
        {
            holders.Clear();
            incoming.Clear();
            foreach (var raw in ids)
            {
                var n = IdentifierNormalizer.Normalize(raw, "FR", policy.For(raw.Type));
                if (n.Identifier is not { } id)
                {
                    continue;
                }

                if (index.TryGetValue(id, out var holder))
                {
                    if (!holders.Contains(holder))
                    {
                        holders.Add(holder);
                    }
                }
                else
                {
                    incoming.Add(id);
                }
            }

            refused += IdentityStage.CheckLimits(holders, incoming, policy, now) is null ? 0 : 1;
        }

        return refused;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public int ResolveCore()
    {
        var refused = 0;
        var holders = new List<CustomerIdentity>(3);
        var incoming = new List<Identifier>(3);
        foreach (var ids in events)
        {
            holders.Clear();
            incoming.Clear();
            foreach (var id in ids)
            {
                if (index.TryGetValue(id, out var holder))
                {
                    if (!holders.Contains(holder))
                    {
                        holders.Add(holder);
                    }
                }
                else
                {
                    incoming.Add(id);
                }
            }

            refused += IdentityStage.CheckLimits(holders, incoming, policy, now) is null ? 0 : 1;
        }

        return refused;
    }
}

/// <summary>The full pipeline with the in-memory store (identity and profile stages, one event per unit of work).</summary>
[MemoryDiagnoser]
[MedianColumn]
public class FullStageBenchmarks
{
    private const int Events = 2_000;
    private ILoyaltyEngine engine = null!;
    private ServiceProvider provider = null!;
    private int round;

    [GlobalSetup]
    public async Task Setup()
    {
        var services = new ServiceCollection();
        services.AddLoyalty(o => o.MaxFutureSkew = Duration.FromDays(3650)).UseInMemoryStorage().UseDefaultProgram(DefaultPrograms.Retail());
        provider = services.BuildServiceProvider();
        engine = provider.GetRequiredService<ILoyaltyEngine>();
        var before = GC.GetTotalMemory(true);
        for (var c = 0; c < 10_000; c++)
        {
            await engine.IngestAsync(Visit($"seed-{c}", c, c % 2 == 0));
        }

        var after = GC.GetTotalMemory(true);
        Console.WriteLine($"// Memory per identifier (identity + profile + decisions, in memory): {(after - before) / 25_000.0:0} bytes");
    }

    [GlobalCleanup]
    public void Cleanup() => provider.Dispose();

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task IngestThroughFullPipeline()
    {
        round++;
        for (var i = 0; i < Events; i++)
        {
            await engine.IngestAsync(Visit($"r{round}-{i}", (i * 7919) % 10_000, i % 20 == 0));
        }
    }

    private static Interaction Visit(string id, int person, bool device) => new()
    {
        Id = new EventId(id), Tenant = new TenantId("bench"), OccurredAt = Instant.FromUtc(2026, 1, 1, 0, 0), Channel = Channel.Pos, InteractionKind = InteractionKind.AppVisit,
        Identifiers = device
            ? [new Identifier(IdentifierType.Email, $"p{person}@example.com"), new Identifier(IdentifierType.LoyaltyCard, $"LC{person}"), new Identifier(IdentifierType.DeviceId, $"d-{id}")]
            : [new Identifier(IdentifierType.Email, $"p{person}@example.com"), new Identifier(IdentifierType.LoyaltyCard, $"LC{person}")],
    };
}
