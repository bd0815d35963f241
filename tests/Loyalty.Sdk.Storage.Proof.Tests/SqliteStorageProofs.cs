using Xunit.Abstractions;

namespace Loyalty.Sdk.Storage.Proof.Tests;

/// <summary>The storage proofs on SQLite: several processes share one database file (WAL).</summary>
public sealed class SqliteStorageProofs(ProofEvents source, ITestOutputHelper output) : StorageProofs(source, output)
{
    protected override string CreateStoreSpec() => "sqlite:" + Path.Combine(Source.Folder, $"store-{Guid.NewGuid():N}.db");
}

/// <summary>The storage proofs on PostgreSQL: several processes against one server (a throwaway one started from the
/// machine's binaries, or <c>LOYALTY_POSTGRES_CONNECTION</c>), a fresh database per proof. Without a server they skip with
/// the reason, except under <c>CI=true</c>, where they fail.</summary>
public sealed class PostgreSqlStorageProofs(ProofEvents source, ITestOutputHelper output) : StorageProofs(source, output)
{
    private static readonly Lazy<Loyalty.Sdk.Tests.Shared.PostgresTestServer> Server = new(Loyalty.Sdk.Tests.Shared.PostgresTestServer.Start, LazyThreadSafetyMode.ExecutionAndPublication);

    protected override string CreateStoreSpec()
    {
        // Skips with the reason, or fails under CI=true.
        Loyalty.Sdk.Tests.Shared.PostgresTestPolicy.RequireAvailable(Server.Value.UnavailableReason);

        return "postgres:" + Server.Value.CreateDatabase("proof");
    }
}
