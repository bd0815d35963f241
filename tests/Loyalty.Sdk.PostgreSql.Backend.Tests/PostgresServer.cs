using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

/// <summary>
/// The PostgreSQL server of the tests: the one named by <c>LOYALTY_POSTGRES_CONNECTION</c> when set, otherwise a
/// throwaway server (initdb + pg_ctl in a temporary directory, on a free loopback port, fsync off) started for the test
/// run and stopped and deleted at its end. Under root the server runs as the <c>postgres</c> OS user. Every test works in
/// a schema of its own (<see cref="NewSchema"/>), so the tests share the server without seeing each other's data.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string ConnectionVariable = "LOYALTY_POSTGRES_CONNECTION";

    private string? dataDirectory;
    private string? binDirectory;

    public string ConnectionString { get; private set; } = string.Empty;

    /// <summary>Whether this fixture started the server (and will stop it).</summary>
    public bool Throwaway => dataDirectory is not null;

    public async Task InitializeAsync()
    {
        var given = Environment.GetEnvironmentVariable(ConnectionVariable);
        if (!string.IsNullOrWhiteSpace(given))
        {
            ConnectionString = given;
            return;
        }

        binDirectory = FindBinDirectory() ?? throw new InvalidOperationException(
            $"No PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or on PATH: install PostgreSQL, or set {ConnectionVariable}.");
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var directory = Path.Combine(Path.GetTempPath(), "loyalty-pg-" + Guid.NewGuid().ToString("N")[..12]);
            try
            {
                await StartAsync(directory);
                return;
            }
            catch (Exception e) when (attempt < 2)
            {
                last = e;
                await StopAsync();
            }
        }

        throw new InvalidOperationException("Could not start a throwaway PostgreSQL server.", last);
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await StopAsync();
    }

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N")[..16];

    /// <summary>Options for a fresh schema of this server.</summary>
    public PostgreSqlStorageOptions Options(string? schema = null, bool migrateOnStart = false) => new()
    {
        ConnectionString = ConnectionString,
        Schema = schema ?? NewSchema(),
        MigrateOnStart = migrateOnStart,
    };

    /// <summary>A backend over a fresh, migrated schema.</summary>
    public async Task<PostgreSqlDocumentBackend> NewBackendAsync(string? schema = null)
    {
        var backend = new PostgreSqlDocumentBackend(Options(schema));
        await backend.MigrateAsync();
        return backend;
    }

    private async Task StartAsync(string directory)
    {
        dataDirectory = directory;
        var port = FreePort();
        await RunAsync("initdb", "-D", directory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync");
        await RunAsync(
            "pg_ctl",
            "-D",
            directory,
            "-l",
            Path.Combine(directory, "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "start");
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=30;Command Timeout=120";
    }

    private async Task StopAsync()
    {
        if (dataDirectory is null)
        {
            return;
        }

        try
        {
            if (File.Exists(Path.Combine(dataDirectory, "postmaster.pid")))
            {
                await RunAsync("pg_ctl", "-D", dataDirectory, "-m", "immediate", "-w", "stop");
            }
        }
        finally
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            dataDirectory = null;
        }
    }

    private async Task RunAsync(string tool, params string[] arguments)
    {
        var path = Path.Combine(binDirectory!, tool);
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (Environment.UserName == "root")
        {
            // initdb and postgres refuse to run as root.
            start.FileName = "runuser";
            foreach (var a in new[] { "-u", "postgres", "--", path })
            {
                start.ArgumentList.Add(a);
            }
        }
        else
        {
            start.FileName = path;
        }

        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            var log = dataDirectory is not null && File.Exists(Path.Combine(dataDirectory, "server.log")) ? File.ReadAllText(Path.Combine(dataDirectory, "server.log")) : string.Empty;
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}\n{log}");
        }
    }

    private static string? FindBinDirectory()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Directory: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(d => File.Exists(Path.Combine(d.Directory, "initdb")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Directory)
            : [];
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Where(d => d.Length > 0 && File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        return versions.Concat(onPath).FirstOrDefault();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The tests that share one <see cref="PostgresServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
