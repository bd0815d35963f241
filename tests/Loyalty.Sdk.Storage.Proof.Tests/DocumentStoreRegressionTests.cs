using Loyalty.Sdk.Segments;
using Loyalty.Sdk.Simulation;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Storage.Proof.Tests;

/// <summary>Focused regressions of the document store (over SQLite) found while building the proofs.</summary>
public sealed class DocumentStoreRegressionTests : IAsyncLifetime
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "loyalty-proof-regression-" + Guid.NewGuid().ToString("N")[..12]);

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(folder);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(folder, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Recording segment sizes reads the flow counters (entries and exits since the last record) and takes back what it
    /// read; the counters carry no version. Two nodes recording at once both committed: two points counting the same
    /// flows, and the next point reported negative entries and exits. Now the later commit conflicts (and the service
    /// records again after the first).
    /// </summary>
    [Fact]
    public async Task Two_sessions_recording_segment_sizes_at_once_do_not_count_the_flows_twice()
    {
        var shop = ShopGenerator.Generate(new ShopSettings { Customers = 40, Days = 30, Seed = 3 });
        await using var host = ProofHost.Create("sqlite:" + Path.Combine(folder, "sizes.db"));
        await new ProofIngestion(host, shop.Events, new ProofShare { Batch = 16 }, TextWriter.Null, TextWriter.Null).RunAsync();
        var tenant = shop.Settings.Tenant;
        var sizes = await host.Segments.GetSizesAsync(tenant);
        var segment = sizes.Where(kv => kv.Value > 0).Select(kv => kv.Key).Order(StringComparer.Ordinal).First();
        var at = Instant.FromUtc(2025, 2, 1, 0, 0);

        var first = await host.Store.OpenSessionAsync(tenant);
        var second = await host.Store.OpenSessionAsync(tenant);
        await first.Segments.RecordSizesAsync(at);
        await second.Segments.RecordSizesAsync(at);
        await first.CommitAsync();
        await Assert.ThrowsAsync<ConcurrencyConflictException>(async () => await second.CommitAsync());
        await first.DisposeAsync();
        await second.DisposeAsync();

        // Through the service, after the race: the next record counts nothing twice.
        await host.Segments.RecordSizesAsync(tenant, at + Duration.FromDays(7));
        var history = await host.Segments.GetSizeHistoryAsync(tenant, segment);
        Assert.Equal(2, history.Count);
        Assert.Equal(sizes[segment], history[0].Size);
        Assert.Equal(sizes[segment], history[0].Entered - history[0].Exited);
        Assert.Equal(new SegmentSizePoint(at + Duration.FromDays(7), sizes[segment], 0, 0), history[1]);
    }
}
