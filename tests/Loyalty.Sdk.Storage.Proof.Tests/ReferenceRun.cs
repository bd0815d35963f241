using Loyalty.Sdk.Events;

namespace Loyalty.Sdk.Storage.Proof.Tests;

/// <summary>Runs of the proof ingestion inside the test process.</summary>
internal static class ReferenceRun
{
    /// <summary>Ingests every event in one clean, serial run into the store of <paramref name="spec"/>, digests it and
    /// lists its outbox keys.</summary>
    public static async Task<(StateDigestResult Digest, IReadOnlyList<string> OutboxKeys)> RunAsync(string spec, IReadOnlyList<LoyaltyEvent> events, int batch = 1)
    {
        await using var host = ProofHost.Create(spec);
        await new ProofIngestion(host, events, new ProofShare { Batch = batch }, TextWriter.Null, TextWriter.Null).RunAsync();
        var digest = await StateDigest.ComputeAsync(host, events);
        return (digest, await StateDigest.ClaimAllOutboxKeysAsync(host));
    }

    /// <summary>The digest of the store of <paramref name="spec"/> as it is.</summary>
    public static async Task<(StateDigestResult Digest, IReadOnlyList<string> OutboxKeys)> ReadAsync(string spec, IReadOnlyList<LoyaltyEvent> events)
    {
        await using var host = ProofHost.Create(spec);
        var digest = await StateDigest.ComputeAsync(host, events);
        return (digest, await StateDigest.ClaimAllOutboxKeysAsync(host));
    }
}
