using NodaTime;
using Microsoft.Extensions.Options;
using Npgsql;
using static Loyalty.Sdk.PostgreSql.Backend.Tests.Kit;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

[Collection(PostgresCollection.Name)]
public sealed class MigrationTests(PostgresServer server)
{
    private async Task<long> ScalarAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private Task<long> TablesAsync(string schema) =>
        ScalarAsync($"SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}'");

    [Fact]
    public async Task Migrations_apply_once_and_migrating_again_changes_nothing()
    {
        var schema = PostgresServer.NewSchema();
        await using var db = new PostgreSqlDocumentBackend(server.Options(schema));
        var before = await db.CheckSchemaAsync();
        Assert.True(before.IsBehind);
        Assert.Equal([1, 2], before.Pending);
        Assert.Equal(0, before.DatabaseVersion);

        var status = await db.MigrateAsync();
        Assert.True(status.IsCurrent, status.ToString());
        Assert.Equal([1, 2], status.Applied);
        Assert.Equal(5, await TablesAsync(schema)); // documents, entries, counters, outbox, migrations
        var appliedAt = await ScalarAsync($"SELECT extract(epoch FROM applied_at) * 1000000 FROM {schema}.loyalty_migrations WHERE version = 1");

        var again = await db.MigrateAsync();
        Assert.True(again.IsCurrent);
        Assert.Equal(2, await ScalarAsync($"SELECT count(*) FROM {schema}.loyalty_migrations"));
        Assert.Equal(appliedAt, await ScalarAsync($"SELECT extract(epoch FROM applied_at) * 1000000 FROM {schema}.loyalty_migrations WHERE version = 1"));
        Assert.True((await db.CheckSchemaAsync()).IsCurrent);
    }

    [Fact]
    public async Task Nodes_migrating_at_once_apply_each_migration_once()
    {
        var schema = PostgresServer.NewSchema();
        var backends = Enumerable.Range(0, 4).Select(_ => new PostgreSqlDocumentBackend(server.Options(schema))).ToArray();
        try
        {
            var statuses = await Task.WhenAll(backends.Select(b => Task.Run(() => b.MigrateAsync())));
            Assert.All(statuses, s => Assert.True(s.IsCurrent));
            Assert.Equal(2, await ScalarAsync($"SELECT count(*) FROM {schema}.loyalty_migrations"));
        }
        finally
        {
            foreach (var b in backends)
            {
                await b.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Check_reports_a_missing_migration_and_a_newer_one()
    {
        var schema = PostgresServer.NewSchema();
        await using var db = await server.NewBackendAsync(schema);
        var extra = new Migration(3, "extra", "CREATE TABLE {schema}.{prefix}extra (id integer PRIMARY KEY);");
        IReadOnlyList<Migration> newer = [.. PostgreSqlMigrator.Shipped, extra];

        // An SDK that ships migration 3 finds the database behind.
        var behind = await db.CheckSchemaAsync(newer, default);
        Assert.True(behind.IsBehind);
        Assert.Equal([3], behind.Pending);
        Assert.Throws<PostgreSqlSchemaException>(() => behind.ThrowIfIncompatible());

        var migrated = await db.MigrateAsync(newer, default);
        Assert.True(migrated.IsCurrent);
        Assert.Equal(1, await ScalarAsync($"SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}' AND tablename = 'loyalty_extra'"));

        // This SDK (which ships only migrations 1 and 2) now finds the database ahead: it says so but keeps working.
        var ahead = await db.CheckSchemaAsync();
        Assert.True(ahead.IsAhead);
        Assert.False(ahead.IsBehind);
        Assert.Equal([3], ahead.Unknown);
        ahead.ThrowIfIncompatible();
        Assert.Throws<PostgreSqlSchemaException>(() => ahead.ThrowIfIncompatible(allowAhead: false));
        await using var older = new PostgreSqlDocumentBackend(server.Options(schema));
        Assert.Null(await older.GetAsync(Tenant, "c", "k"));

        // A shipped script that differs from the applied one is reported.
        await ScalarAsync($"UPDATE {schema}.loyalty_migrations SET checksum = 'edited' WHERE version = 1 RETURNING 1");
        Assert.Equal([1], (await db.CheckSchemaAsync()).Modified);
    }

    [Fact]
    public async Task Without_migrate_on_start_the_first_use_of_an_unmigrated_schema_fails_clearly()
    {
        await using var db = new PostgreSqlDocumentBackend(server.Options(migrateOnStart: false));
        var error = await Assert.ThrowsAsync<PostgreSqlSchemaException>(async () => await db.GetAsync(Tenant, "c", "k"));
        Assert.Equal([1, 2], error.Status!.Pending);
        Assert.Contains("MigrateAsync", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PostgreSqlSchemaException>(async () => await db.Outbox.CountPendingAsync(Tenant));

        await db.MigrateAsync();
        Assert.Null(await db.GetAsync(Tenant, "c", "k"));
    }

    [Fact]
    public async Task With_migrate_on_start_concurrent_first_uses_migrate_once()
    {
        var schema = PostgresServer.NewSchema();
        await using var db = new PostgreSqlDocumentBackend(server.Options(schema, migrateOnStart: true));
        await using var other = new PostgreSqlDocumentBackend(server.Options(schema, migrateOnStart: true));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var backend = i % 2 == 0 ? db : other;
            await backend.CommitAsync(Insert("c", $"k{i}"));
            Assert.NotNull(await backend.GetAsync(Tenant, "c", $"k{i}"));
        })));
        Assert.Equal(2, await ScalarAsync($"SELECT count(*) FROM {schema}.loyalty_migrations"));
        Assert.Equal(8, await db.CountAsync(Tenant, "c"));
    }

    [Fact]
    public async Task A_database_at_version_1_upgrades_to_due_leases_and_keeps_its_documents()
    {
        var schema = PostgresServer.NewSchema();
        await using var db = new PostgreSqlDocumentBackend(server.Options(schema));
        Assert.Equal([1], (await db.MigrateAsync([.. PostgreSqlMigrator.Shipped.Where(m => m.Version == 1)], default)).Applied);
        var due = T0.ToUnixTimeTicks();
        await ScalarAsync($"INSERT INTO {schema}.loyalty_documents (tenant, collection, key, version, due_at, body) VALUES ('{Tenant.Value}', 'ledger', 'cus-1', 3, {due}, '{{}}') RETURNING 1");

        var status = await db.MigrateAsync();
        Assert.True(status.IsCurrent, status.ToString());
        Assert.Equal([1, 2], status.Applied);
        var claimed = await db.ClaimDueAsync(Tenant, "ledger", T0, 10, "worker", T0 + Duration.FromMinutes(5));
        Assert.Equal(("cus-1", 3L), (Assert.Single(claimed).Key, claimed[0].Version));
    }

    [Fact]
    public async Task Schema_and_prefix_are_configurable_and_separate_two_stores()
    {
        var schema = PostgresServer.NewSchema();
        var a = server.Options(schema);
        a.TablePrefix = "a_";
        var b = server.Options(schema);
        b.TablePrefix = string.Empty;
        await using var first = new PostgreSqlDocumentBackend(a);
        await using var second = new PostgreSqlDocumentBackend(b);
        await first.MigrateAsync();
        await second.MigrateAsync();
        Assert.Equal(10, await TablesAsync(schema));
        Assert.Equal(1, await ScalarAsync($"SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}' AND tablename = 'a_documents'"));
        Assert.Equal(1, await ScalarAsync($"SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}' AND tablename = 'documents'"));

        await first.CommitAsync(Insert("c", "k", "\"first\""));
        Assert.Null(await second.GetAsync(Tenant, "c", "k"));
    }

    [Theory]
    [InlineData("Bad-Name", "loyalty_")]
    [InlineData("loyalty", "Prefix")]
    [InlineData("", "loyalty_")]
    [InlineData("loyalty\n", "loyalty_")]
    [InlineData("loyalty", "a_very_long_prefix_that_is_too_long_")]
    public void Invalid_schema_names_and_prefixes_are_refused(string schema, string prefix)
    {
        var options = server.Options(schema);
        options.TablePrefix = prefix;
        Assert.Throws<OptionsValidationException>(() => new PostgreSqlDocumentBackend(options));
    }

    [Fact]
    public void A_missing_connection_string_is_refused()
    {
        var options = new PostgreSqlStorageOptions();
        Assert.NotEmpty(options.Validate());
        Assert.Throws<OptionsValidationException>(() => new PostgreSqlDocumentBackend(options));
    }

    [Fact]
    public void Max_auto_prepare_is_set_unless_the_connection_string_sets_it()
    {
        Assert.Equal(PostgreSqlDocumentBackend.DefaultMaxAutoPrepare, new NpgsqlConnectionStringBuilder(PostgreSqlDocumentBackend.WithAutoPrepare("Host=h;Username=u")).MaxAutoPrepare);
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(PostgreSqlDocumentBackend.WithAutoPrepare("Host=h;Max Auto Prepare=0")).MaxAutoPrepare);
        Assert.Equal(5, new NpgsqlConnectionStringBuilder(PostgreSqlDocumentBackend.WithAutoPrepare("Host=h;maxautoprepare=5")).MaxAutoPrepare);
        Assert.True(new NpgsqlConnectionStringBuilder(PostgreSqlDocumentBackend.WithAutoPrepare("Host=h;Username=u")).NoResetOnClose);
        Assert.False(new NpgsqlConnectionStringBuilder(PostgreSqlDocumentBackend.WithAutoPrepare("Host=h;No Reset On Close=false")).NoResetOnClose);
    }

    [Fact]
    public async Task Hot_statements_are_prepared_on_the_connection()
    {
        var options = server.Options();
        options.ConnectionString += ";Maximum Pool Size=1";
        await using var db = new PostgreSqlDocumentBackend(options);
        await db.MigrateAsync();
        for (var i = 0; i < 10; i++)
        {
            await db.CommitAsync(Insert("c", $"k{i}"));
            await db.CommitAsync(Update("c", $"k{i}", 1));
            await db.GetAsync(Tenant, "c", $"k{i}");
        }

        // One pooled connection: this one, where the statements were prepared.
        await using var command = db.DataSource.CreateCommand("SELECT statement FROM pg_prepared_statements");
        var prepared = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                prepared.Add(reader.GetString(0));
            }
        }

        Assert.Contains(db.Statements.GetDocument, prepared);
        Assert.Contains(db.Statements.InsertDocument, prepared);
        Assert.Contains(db.Statements.UpdateDocument, prepared);
    }
}
