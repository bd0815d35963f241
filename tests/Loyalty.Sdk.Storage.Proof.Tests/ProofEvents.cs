using System.Diagnostics;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Simulation;

namespace Loyalty.Sdk.Storage.Proof.Tests;

/// <summary>The event source of the proofs: a deterministic synthetic shop written to an NDJSON file once per test
/// class, and the reference digest D0 of a clean single-process, in-memory run of it.</summary>
public sealed class ProofEvents : IAsyncLifetime
{
    /// <summary>The shop's settings (about 3,000 events).</summary>
    public static readonly ShopSettings Settings = new() { Customers = 300, Days = 60, Seed = 7 };

    /// <summary>A folder for this run's files (removed at the end unless <c>LOYALTY_PROOF_KEEP</c> is set).</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "loyalty-proof-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The NDJSON file.</summary>
    public string File => Path.Combine(Folder, "events.ndjson");

    /// <summary>The events, in file order.</summary>
    public IReadOnlyList<LoyaltyEvent> Events { get; private set; } = [];

    /// <summary>Distinct event ids (the source re-sends some events).</summary>
    public int DistinctEvents { get; private set; }

    /// <summary>The reference: digest of the events ingested by one in-process engine over the in-memory store.</summary>
    public StateDigestResult Reference { get; private set; } = null!;

    /// <summary>The outbox keys of the reference run.</summary>
    public IReadOnlyList<string> ReferenceOutboxKeys { get; private set; } = [];

    /// <summary>How long generating and the reference run took.</summary>
    public TimeSpan Elapsed { get; private set; }

    public async Task InitializeAsync()
    {
        var watch = Stopwatch.StartNew();
        Directory.CreateDirectory(Folder);
        var shop = ShopGenerator.Generate(Settings);
        await System.IO.File.WriteAllLinesAsync(File, shop.Events.Select(LoyaltyJson.SerializeEvent));
        Events = await Program.ReadEventsAsync(File);
        DistinctEvents = Events.Select(e => e.Id).Distinct().Count();
        (Reference, ReferenceOutboxKeys) = await ReferenceRun.RunAsync("memory:in-process", Events);
        Elapsed = watch.Elapsed;
    }

    public Task DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("LOYALTY_PROOF_KEEP") is { Length: > 0 })
        {
            return Task.CompletedTask; // keep the events and stores to look at (the test output names the folder)
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}
