using Loyalty.Sdk.Tests.Shared;
using Npgsql;
using NpgsqlTypes;
using Xunit.Abstractions;

namespace Loyalty.Sdk.PostgreSql.Tests;

[Collection(PostgresCollectionDefinition.Name)]
public sealed class ServerFixtureTests(PostgresServerFixture fixture, ITestOutputHelper output)
{
    [SkippableFact]
    public async Task The_server_answers_select_version()
    {
        await using var connection = await Open(fixture.RequireServer());
        await using var command = new NpgsqlCommand("select version()", connection);
        var version = (string?)await command.ExecuteScalarAsync();

        Assert.NotNull(version);
        Assert.StartsWith("PostgreSQL", version, StringComparison.Ordinal);
        var server = fixture.Server;
        output.WriteLine(server.IsThrowaway
            ? $"throwaway server in {server.DataDirectory}, started in {server.StartupTime.TotalMilliseconds:0} ms ({server.StartupSteps}): {version}"
            : $"external server ({PostgresTestServer.ConnectionVariable}): {version}");
    }

    [SkippableFact]
    public async Task Databases_of_two_test_classes_are_distinct_and_isolated()
    {
        var first = new NpgsqlConnectionStringBuilder(fixture.DatabaseFor<IsolationFirstClassTests>());
        var second = new NpgsqlConnectionStringBuilder(fixture.DatabaseFor<IsolationSecondClassTests>());
        Assert.NotEqual(first.Database, second.Database);
        Assert.Equal(first.Database, new NpgsqlConnectionStringBuilder(fixture.DatabaseFor<IsolationFirstClassTests>()).Database);

        var table = "isolation_probe_" + Guid.NewGuid().ToString("N")[..8];
        await using (var a = await Open(first.ConnectionString))
        {
            await Execute(a, $"create table {table} (id int primary key)");
            Assert.Equal(first.Database, await Scalar<string>(a, "select current_database()"));
            Assert.True(await Scalar<bool>(a, $"select to_regclass('{table}') is not null"));
        }

        await using var b = await Open(second.ConnectionString);
        Assert.Equal(second.Database, await Scalar<string>(b, "select current_database()"));
        Assert.True(await Scalar<bool>(b, $"select to_regclass('{table}') is null"));
    }

    [SkippableFact]
    public async Task Parameterized_insert_and_select_round_trip()
    {
        await using var connection = await Open(fixture.DatabaseFor(GetType()));
        await Execute(connection, "create table if not exists round_trip (id bigint primary key, name text, points numeric(18,2), at timestamptz, note text, payload bytea)");

        var at = new DateTime(2025, 3, 30, 1, 30, 0, DateTimeKind.Utc);
        byte[] payload = [0, 1, 2, 254, 255];
        await using (var insert = new NpgsqlCommand("insert into round_trip (id, name, points, at, note, payload) values (@id, @name, @points, @at, @note, @payload)", connection))
        {
            insert.Parameters.AddWithValue("id", 42L);
            insert.Parameters.AddWithValue("name", "O'Brien; drop table round_trip; -- Zoë 🎉");
            insert.Parameters.AddWithValue("points", 1234.56m);
            insert.Parameters.AddWithValue("at", at);
            insert.Parameters.Add(new NpgsqlParameter("note", NpgsqlDbType.Text) { Value = DBNull.Value });
            insert.Parameters.AddWithValue("payload", payload);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        await using var select = new NpgsqlCommand("select name, points, at, note, payload from round_trip where id = $1", connection);
        select.Parameters.Add(new NpgsqlParameter { Value = 42L });
        await using var reader = await select.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("O'Brien; drop table round_trip; -- Zoë 🎉", reader.GetString(0));
        Assert.Equal(1234.56m, reader.GetDecimal(1));
        Assert.Equal(at, reader.GetDateTime(2));
        Assert.True(reader.IsDBNull(3));
        Assert.Equal(payload, reader.GetFieldValue<byte[]>(4));
        Assert.False(await reader.ReadAsync());
    }

    [SkippableFact]
    public async Task For_update_skip_locked_skips_the_row_another_connection_locked()
    {
        var database = fixture.DatabaseFor(GetType());
        await using var first = await Open(database);
        await Execute(first, "create table if not exists jobs (id int primary key, state text not null)");
        await Execute(first, "truncate jobs; insert into jobs (id, state) values (1, 'ready'), (2, 'ready'), (3, 'ready')");
        await using var second = await Open(database);
        const string claim = "select id from jobs where state = 'ready' order by id limit 1 for update skip locked";

        await using var firstTx = await first.BeginTransactionAsync();
        Assert.Equal(1, await Scalar<int>(first, claim));

        await using (var secondTx = await second.BeginTransactionAsync())
        {
            Assert.Equal(2, await Scalar<int>(second, claim));
            await using var locked = new NpgsqlCommand("select id from jobs where id = 1 for update skip locked", second);
            Assert.Null(await locked.ExecuteScalarAsync());
            await secondTx.RollbackAsync();
        }

        await firstTx.CommitAsync();
        await using var third = await Open(database);
        await using var thirdTx = await third.BeginTransactionAsync();
        Assert.Equal(1, await Scalar<int>(third, claim));
        await thirdTx.RollbackAsync();
    }

    internal static async Task<NpgsqlConnection> Open(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    internal static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>Two classes that each create the same table in their own database: a shared database would make one fail.</summary>
[Collection(PostgresCollectionDefinition.Name)]
public sealed class IsolationFirstClassTests(PostgresServerFixture fixture)
{
    [SkippableFact]
    public async Task Its_own_database_holds_only_its_own_rows() => await IsolationProbe.Run(fixture.DatabaseFor(GetType()), "first");
}

[Collection(PostgresCollectionDefinition.Name)]
public sealed class IsolationSecondClassTests(PostgresServerFixture fixture)
{
    [SkippableFact]
    public async Task Its_own_database_holds_only_its_own_rows() => await IsolationProbe.Run(fixture.DatabaseFor(GetType()), "second");
}

internal static class IsolationProbe
{
    public static async Task Run(string connectionString, string owner)
    {
        await using var connection = await ServerFixtureTests.Open(connectionString);
        await ServerFixtureTests.Execute(connection, "create table marker (owner text not null)");
        await using (var insert = new NpgsqlCommand("insert into marker (owner) values (@owner)", connection))
        {
            insert.Parameters.AddWithValue("owner", owner);
            await insert.ExecuteNonQueryAsync();
        }

        Assert.Equal(owner, await ServerFixtureTests.Scalar<string>(connection, "select string_agg(owner, ',') from marker"));
    }
}

public sealed class PolicyTests
{
    private const string Reason = "no PostgreSQL server binaries (simulated)";

    [Theory]
    [InlineData("true")]
    [InlineData("TRUE")]
    [InlineData("True")]
    public void Under_ci_an_unavailable_server_fails_instead_of_skipping(string ci)
    {
        var ex = Assert.Throws<PostgresUnavailableException>(() => PostgresTestPolicy.RequireAvailable(Reason, Env(ci)));
        Assert.Contains(Reason, ex.Message, StringComparison.Ordinal);
        Assert.Contains("CI=true", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("false")]
    [InlineData("1")]
    public void Outside_ci_an_unavailable_server_skips_with_the_reason(string? ci)
    {
        var ex = Assert.Throws<SkipException>(() => PostgresTestPolicy.RequireAvailable(Reason, Env(ci)));
        Assert.Contains(Reason, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true")]
    [InlineData(null)]
    public void An_available_server_neither_skips_nor_fails(string? ci) => PostgresTestPolicy.RequireAvailable(null, Env(ci));

    [Fact]
    public void The_fixture_applies_the_policy_to_an_unavailable_server()
    {
        using (var ci = new PostgresServerFixture(() => PostgresTestServer.Unavailable(Reason), Env("true")))
        {
            Assert.Contains(Reason, Assert.Throws<PostgresUnavailableException>(() => ci.RequireServer()).Message, StringComparison.Ordinal);
            Assert.Throws<PostgresUnavailableException>(() => ci.DatabaseFor<PolicyTests>());
            Assert.Throws<PostgresUnavailableException>(() => ci.CreateDatabase());
        }

        using var local = new PostgresServerFixture(() => PostgresTestServer.Unavailable(Reason), Env(null));
        Assert.Throws<SkipException>(() => local.RequireServer());
        Assert.Throws<SkipException>(() => local.DatabaseFor<PolicyTests>());
        Assert.False(local.Server.IsAvailable);
        Assert.Equal(Reason, local.Server.UnavailableReason);
    }

    [Fact]
    public void Binaries_are_found_on_path_first_then_under_the_highest_version()
    {
        var root = Directory.CreateTempSubdirectory("loyalty-pg-find-").FullName;
        try
        {
            string Bin(params string[] parts)
            {
                var dir = Path.Combine([root, .. parts]);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, OperatingSystem.IsWindows() ? "initdb.exe" : "initdb"), string.Empty);
                File.WriteAllText(Path.Combine(dir, OperatingSystem.IsWindows() ? "pg_ctl.exe" : "pg_ctl"), string.Empty);
                return dir;
            }

            var versions = Path.Combine(root, "lib");
            Bin("lib", "9.6", "bin");
            var v15 = Bin("lib", "15", "bin");
            Bin("lib", "13", "bin");
            Directory.CreateDirectory(Path.Combine(versions, "17", "bin")); // no binaries: ignored
            var onPath = Bin("path");
            var empty = Path.Combine(root, "empty");
            Directory.CreateDirectory(empty);

            Assert.Equal((v15, (string?)null), PostgresTestServer.FindBinaries(empty, versions));
            Assert.Equal((onPath, (string?)null), PostgresTestServer.FindBinaries(empty + Path.PathSeparator + onPath, versions));

            var (none, reason) = PostgresTestServer.FindBinaries(empty, Path.Combine(root, "missing"));
            Assert.Null(none);
            Assert.Contains("initdb and pg_ctl", reason, StringComparison.Ordinal);
            Assert.Contains(PostgresTestServer.ConnectionVariable, reason, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static Func<string, string?> Env(string? ci) => name => name == PostgresTestPolicy.CiVariable ? ci : null;
}
