using Xunit.Abstractions;

namespace Loyalty.Sdk.Storage.Proof.Tests;

/// <summary>The storage proofs on SQLite: several processes share one database file (WAL).</summary>
public sealed class SqliteStorageProofs(ProofEvents source, ITestOutputHelper output) : StorageProofs(source, output)
{
    protected override string CreateStoreSpec() => "sqlite:" + Path.Combine(Source.Folder, $"store-{Guid.NewGuid():N}.db");
}

// PostgreSQL, once the backend lands (and ProofStores maps "postgres:" to UsePostgreSqlStorage):
//
// public sealed class PostgreSqlStorageProofs(ProofEvents source, ITestOutputHelper output) : StorageProofs(source, output)
// {
//     // A fresh database (or schema) per call, e.g. created from LOYALTY_PROOF_POSTGRES.
//     protected override string CreateStoreSpec() => "postgres:" + ...;
// }
