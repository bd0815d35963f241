// A throwaway PostgreSQL server for tests. Test projects include this file with
//   <Compile Include="..\Shared\PostgresTestServer.cs" Link="Shared\PostgresTestServer.cs" />
// and reference the Npgsql and Xunit.SkippableFact packages.
//
// Usage: put every test class that needs PostgreSQL in [Collection(PostgresCollectionDefinition.Name)], take a
// PostgresServerFixture in the constructor, mark the tests [SkippableFact] and start them with
// fixture.DatabaseFor(GetType()) (one fresh database per test class) or fixture.RequireServer().
//
// Where the connection string comes from:
//   1. LOYALTY_POSTGRES_CONNECTION, used as is (no server is started; the databases created are dropped at the end).
//   2. Otherwise a server started from the machine's PostgreSQL binaries (initdb and pg_ctl on PATH, or the highest
//      version under /usr/lib/postgresql/*/bin) in a temporary folder, on a free port of 127.0.0.1, with trust
//      authentication. As root it runs as the 'postgres' OS user (PostgreSQL refuses to run as root). It is stopped
//      and its folder deleted when the fixture is disposed, when the process exits, and, if the test process is
//      killed, by a small watchdog shell process; folders left by dead test processes are swept on the next start.
// When neither is possible the server is "unavailable" with a reason: the tests are skipped with that reason, except
// when CI=true, where they fail with it.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Loyalty.Sdk.Tests.Shared;

/// <summary>A PostgreSQL server for tests: an external one (<see cref="ConnectionVariable"/>) or a throwaway one.</summary>
public sealed class PostgresTestServer : IDisposable
{
    /// <summary>An environment variable with the connection string of an existing server to use instead of starting one.</summary>
    public const string ConnectionVariable = "LOYALTY_POSTGRES_CONNECTION";

    private const string FolderPrefix = "loyalty-pg-";
    private const string OsUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private readonly object gate = new();
    private readonly ConcurrentBag<string> createdDatabases = [];
    private readonly ThrowawayInstance? instance;
    private readonly EventHandler? onProcessExit;
    private readonly string? connectionString;
    private int databaseCounter;
    private bool disposed;

    private PostgresTestServer(string? connectionString, string? unavailableReason, ThrowawayInstance? instance, TimeSpan startupTime)
    {
        this.connectionString = connectionString;
        UnavailableReason = unavailableReason;
        this.instance = instance;
        StartupTime = startupTime;
        if (instance is not null)
        {
            onProcessExit = (_, _) => Dispose();
            AppDomain.CurrentDomain.ProcessExit += onProcessExit;
        }
    }

    /// <summary>Whether a server can be used; when false, <see cref="UnavailableReason"/> says why.</summary>
    public bool IsAvailable => UnavailableReason is null;

    /// <summary>Why no server can be used, in words meant for a person; null when one can.</summary>
    public string? UnavailableReason { get; }

    /// <summary>Whether the server was started here (and is stopped and deleted on dispose).</summary>
    public bool IsThrowaway => instance is not null;

    /// <summary>How long finding, initializing and starting the throwaway server took (zero for an external one).</summary>
    public TimeSpan StartupTime { get; }

    /// <summary>How long each step of starting the throwaway server took (e.g. <c>initdb 1050 ms, pg_ctl start 120 ms</c>), or null.</summary>
    public string? StartupSteps => instance?.Steps;

    /// <summary>The throwaway server's data directory, or null.</summary>
    public string? DataDirectory => instance?.DataDirectory;

    /// <summary>A connection string for the maintenance database (<c>postgres</c>) as a superuser.</summary>
    /// <exception cref="InvalidOperationException">The server is unavailable.</exception>
    public string ConnectionString => connectionString ?? throw new InvalidOperationException("PostgreSQL is unavailable: " + UnavailableReason);

    /// <summary>
    /// Uses <see cref="ConnectionVariable"/> when it is set, else starts a throwaway server. Never throws: a failure
    /// gives an unavailable server with the reason.
    /// </summary>
    public static PostgresTestServer Start()
    {
        var external = Environment.GetEnvironmentVariable(ConnectionVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            return new PostgresTestServer(external.Trim(), null, null, TimeSpan.Zero);
        }

        var clock = Stopwatch.StartNew();
        try
        {
            var (started, reason) = ThrowawayInstance.Start();
            return started is null
                ? Unavailable(reason ?? "the throwaway PostgreSQL server did not start")
                : new PostgresTestServer(started.ConnectionString, null, started, clock.Elapsed);
        }
#pragma warning disable CA1031 // Any failure to start is reported as a reason, never thrown from the fixture.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Unavailable($"starting a throwaway PostgreSQL server failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>An unavailable server with <paramref name="reason"/> (for tests of the skip/fail policy).</summary>
    public static PostgresTestServer Unavailable(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new PostgresTestServer(null, reason, null, TimeSpan.Zero);
    }

    /// <summary>
    /// Creates a new, uniquely named database (<c>loyalty_test_&lt;hint&gt;_&lt;n&gt;_&lt;random&gt;</c>) and returns a
    /// connection string for it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server is unavailable.</exception>
    public string CreateDatabase(string? nameHint = null)
    {
        var admin = ConnectionString;
        ObjectDisposedException.ThrowIf(disposed, this);
        var name = DatabaseName(nameHint, Interlocked.Increment(ref databaseCounter));
        using (var connection = new NpgsqlConnection(admin))
        {
            connection.Open();
            using var command = connection.CreateCommand();
#pragma warning disable CA2100 // The name is built here from [a-z0-9_] only.
            command.CommandText = $"CREATE DATABASE \"{name}\"";
#pragma warning restore CA2100
            command.ExecuteNonQuery();
        }

        createdDatabases.Add(name);
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    /// <summary>
    /// Stops and deletes a throwaway server; for an external server, drops the databases created here.
    /// </summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
        }

        if (onProcessExit is not null)
        {
            AppDomain.CurrentDomain.ProcessExit -= onProcessExit;
        }

        NpgsqlConnection.ClearAllPools();
        if (instance is not null)
        {
            instance.Stop();
        }
        else if (connectionString is not null)
        {
            DropCreatedDatabases(connectionString);
        }
    }

    /// <summary>Where the PostgreSQL server binaries are, or why none were found.</summary>
    /// <param name="path">The PATH to search first (null: none).</param>
    /// <param name="versionedRoot">A folder with one sub-folder per major version, each with a <c>bin</c> (Debian's <c>/usr/lib/postgresql</c>).</param>
    /// <returns>The folder holding both <c>initdb</c> and <c>pg_ctl</c>, or null with the reason.</returns>
    public static (string? BinDirectory, string? Reason) FindBinaries(string? path, string versionedRoot)
    {
        var searched = new List<string>();
        foreach (var dir in (path ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (HasServerBinaries(dir))
            {
                return (dir, null);
            }
        }

        if (!string.IsNullOrEmpty(path))
        {
            searched.Add("PATH");
        }

        if (Directory.Exists(versionedRoot))
        {
            var best = Directory.EnumerateDirectories(versionedRoot)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: Version.TryParse(VersionText(Path.GetFileName(d)), out var v) ? v : null))
                .Where(c => c.Version is not null && HasServerBinaries(c.Dir))
                .OrderByDescending(c => c.Version)
                .Select(c => c.Dir)
                .FirstOrDefault();
            if (best is not null)
            {
                return (best, null);
            }
        }

        searched.Add(Path.Combine(versionedRoot, "*", "bin"));
        return (null, $"no PostgreSQL server binaries: initdb and pg_ctl are in none of {string.Join(" or ", searched)} "
            + $"(install PostgreSQL, e.g. apt-get install postgresql, or set {ConnectionVariable} to an existing server)");

        static string VersionText(string name) => name.Contains('.', StringComparison.Ordinal) ? name : name + ".0";
    }

    private static bool HasServerBinaries(string dir) =>
        File.Exists(Path.Combine(dir, Exe("initdb"))) && File.Exists(Path.Combine(dir, Exe("pg_ctl")));

    private static string Exe(string name) => OperatingSystem.IsWindows() ? name + ".exe" : name;

    private static string DatabaseName(string? hint, int counter)
    {
        var clean = new StringBuilder();
        foreach (var c in (hint ?? "db").ToLowerInvariant())
        {
            if (clean.Length == 24)
            {
                break;
            }

            clean.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : '_');
        }

        var random = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4));
        return string.Create(CultureInfo.InvariantCulture, $"loyalty_test_{clean}_{counter}_{random}");
    }

    private void DropCreatedDatabases(string admin)
    {
        try
        {
            using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(admin) { Pooling = false }.ConnectionString);
            connection.Open();
            foreach (var name in createdDatabases)
            {
                using var command = connection.CreateCommand();
#pragma warning disable CA2100 // Names built by DatabaseName.
                command.CommandText = $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)";
#pragma warning restore CA2100
                command.ExecuteNonQuery();
            }
        }
#pragma warning disable CA1031 // Best effort: an external server keeps the databases if it cannot be reached now.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>A server started here: its folder, its binaries and how to run them.</summary>
    private sealed class ThrowawayInstance
    {
        private readonly string binDirectory;
        private readonly bool asOsUser;
        private readonly string? runuser;

        private ThrowawayInstance(string root, string binDirectory, bool asOsUser, string? runuser)
        {
            Root = root;
            this.binDirectory = binDirectory;
            this.asOsUser = asOsUser;
            this.runuser = runuser;
        }

        public string Root { get; }

        public string DataDirectory => Path.Combine(Root, "data");

        public string LogFile => Path.Combine(Root, "postgres.log");

        public string ConnectionString { get; private set; } = string.Empty;

        public string Steps => string.Join(", ", steps);

        private readonly List<string> steps = [];

        private T Timed<T>(string step, Func<T> action)
        {
            var clock = Stopwatch.StartNew();
            var result = action();
            steps.Add(string.Create(CultureInfo.InvariantCulture, $"{step} {clock.ElapsedMilliseconds} ms"));
            return result;
        }

        public static (ThrowawayInstance? Instance, string? Reason) Start()
        {
            var checks = Stopwatch.StartNew();
            var (bin, reason) = FindBinaries(Environment.GetEnvironmentVariable("PATH"), "/usr/lib/postgresql");
            if (bin is null)
            {
                return (null, reason);
            }

            var asOsUser = !OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess;
            string? runuser = null;
            if (asOsUser)
            {
                runuser = FindExecutable("runuser", "/usr/sbin", "/sbin", "/usr/bin", "/bin");
                if (runuser is null && FindExecutable("su", "/bin", "/usr/bin") is null)
                {
                    return (null, "running as root, and neither runuser nor su is available to run PostgreSQL as the "
                        + $"'{OsUser}' OS user (PostgreSQL refuses to run as root)");
                }

                var id = Run("id", ["-u", OsUser], Path.GetTempPath(), TimeSpan.FromSeconds(10));
                if (id.ExitCode != 0)
                {
                    return (null, $"running as root, and there is no '{OsUser}' OS user to run PostgreSQL as (PostgreSQL "
                        + $"refuses to run as root): create one (useradd --system {OsUser}) or set {ConnectionVariable}");
                }
            }

            // As root the folder must be reachable by the postgres user: /tmp, not a TMPDIR under /root.
            var tempRoot = asOsUser && Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath();
            var checkMs = checks.ElapsedMilliseconds;
            var sweep = Stopwatch.StartNew();
            SweepLeftovers(tempRoot, bin, asOsUser, runuser);
            var sweepMs = sweep.ElapsedMilliseconds;

            var root = Path.Combine(tempRoot, string.Create(CultureInfo.InvariantCulture,
                $"{FolderPrefix}{Environment.ProcessId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4))}"));
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(root);
            }
            else
            {
                Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var server = new ThrowawayInstance(root, bin, asOsUser, runuser);
            server.steps.Add(string.Create(CultureInfo.InvariantCulture, $"find binaries and OS user {checkMs} ms, sweep leftovers {sweepMs} ms"));
            string? failure;
            try
            {
                failure = server.Initialize();
            }
            catch
            {
                server.Stop();
                throw;
            }

            if (failure is not null)
            {
                server.Stop();
                return (null, failure);
            }

            return (server, null);
        }

        /// <summary>initdb, watchdog, pg_ctl start; null when the server runs, else the reason.</summary>
        private string? Initialize()
        {
            if (asOsUser)
            {
                var chown = Timed("chown", () => Run("chown", [OsUser, Root], Root, TimeSpan.FromSeconds(10)));
                if (chown.ExitCode != 0)
                {
                    return $"chown {OsUser} {Root} failed (exit {chown.ExitCode}): {Tail(chown.Output, 10)}";
                }
            }

            var initdb = Timed("initdb", () => RunServerTool("initdb", ["-D", DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]));
            if (initdb.ExitCode != 0)
            {
                return $"initdb ({binDirectory}) failed (exit {initdb.ExitCode}{RunAs()}): {Tail(initdb.Output, 20)}";
            }

            Timed("watchdog", StartWatchdog);

            const int attempts = 3;
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort();
                var options = string.Create(CultureInfo.InvariantCulture,
                    $"-p {port} -k {Root} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
                var start = Timed("pg_ctl start", () => RunServerTool("pg_ctl", ["-D", DataDirectory, "-o", options, "-l", LogFile, "-w", "-t", "60", "start"]));
                if (start.ExitCode == 0)
                {
                    ConnectionString = new NpgsqlConnectionStringBuilder
                    {
                        Host = "127.0.0.1",
                        Port = port,
                        Username = "postgres",
                        Database = "postgres",
                        IncludeErrorDetail = true,
                        Timeout = 30,
                    }.ConnectionString;
                    return null;
                }

                var log = ReadLogTail(30);
                StopServer();
                var portTaken = log.Contains("could not bind", StringComparison.OrdinalIgnoreCase)
                    || log.Contains("already in use", StringComparison.OrdinalIgnoreCase);
                if (!portTaken || attempt == attempts)
                {
                    return $"pg_ctl start ({binDirectory}, port {port}{RunAs()}) failed (exit {start.ExitCode}): "
                        + $"{Tail(start.Output, 10)}{Environment.NewLine}--- last lines of the server log (the folder is deleted) ---{Environment.NewLine}{log}";
                }
            }
        }

        public void Stop()
        {
            StopServer();
            DeleteFolder(Root);
        }

        private void StopServer()
        {
            var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
            if (!File.Exists(pidFile))
            {
                return;
            }

            var postmaster = ReadPostmasterPid(pidFile);
            var stop = RunServerTool("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"]);
            if (stop.ExitCode != 0 && postmaster is { } pid)
            {
                Kill(pid);
            }
        }

        /// <summary>Stops the servers and deletes the folders of test processes that died without cleaning up.</summary>
        private static void SweepLeftovers(string tempRoot, string binDirectory, bool asOsUser, string? runuser)
        {
            try
            {
                foreach (var dir in Directory.EnumerateDirectories(tempRoot, FolderPrefix + "*"))
                {
                    var rest = Path.GetFileName(dir)[FolderPrefix.Length..];
                    var dash = rest.IndexOf('-', StringComparison.Ordinal);
                    if (dash <= 0 || !int.TryParse(rest.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var owner) || IsAlive(owner))
                    {
                        continue;
                    }

                    new ThrowawayInstance(dir, binDirectory, asOsUser, runuser).Stop();
                }
            }
#pragma warning disable CA1031 // Best effort: someone else's leftovers must not stop this run.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        /// <summary>
        /// A detached shell that waits for this process to end (however it ends) and then stops the server and deletes
        /// the folder; it also ends by itself once the folder is gone (normal dispose).
        /// </summary>
        private bool StartWatchdog()
        {
            if (OperatingSystem.IsWindows())
            {
                return false;
            }

            const string script = """
                (
                  trap '' HUP INT
                  while kill -0 "$1" 2>/dev/null && [ -d "$3" ]; do sleep 1; done
                  if [ -d "$3" ]; then
                    if [ -f "$2/postmaster.pid" ]; then
                      pm=$(head -n 1 "$2/postmaster.pid")
                      kill -QUIT "$pm" 2>/dev/null
                      i=0
                      # The server deletes postmaster.pid as it exits (a zombie would still pass kill -0).
                      while [ -f "$2/postmaster.pid" ] && kill -0 "$pm" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
                      [ -f "$2/postmaster.pid" ] && kill -KILL "$pm" 2>/dev/null
                    fi
                    rm -rf "$3"
                  fi
                ) </dev/null >/dev/null 2>&1 &
                """;
            // Best effort: without it, Dispose, ProcessExit and the next run's sweep still clean up.
            return Run("/bin/sh", ["-c", script, "loyalty-pg-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), DataDirectory, Root], Root, TimeSpan.FromSeconds(10)).ExitCode == 0;
        }

        private string ReadLogTail(int lines)
        {
            try
            {
                return File.Exists(LogFile) ? Tail(File.ReadAllText(LogFile), lines) : "(no log file)";
            }
            catch (IOException ex)
            {
                return "(log unreadable: " + ex.Message + ")";
            }
            catch (UnauthorizedAccessException ex)
            {
                return "(log unreadable: " + ex.Message + ")";
            }
        }

        private string RunAs() => asOsUser ? $", as OS user '{OsUser}' via {(runuser is not null ? "runuser" : "su")}" : string.Empty;

        /// <summary>Runs a PostgreSQL binary, as the postgres OS user when this process is root.</summary>
        private CommandResult RunServerTool(string tool, IReadOnlyList<string> arguments)
        {
            var file = Path.Combine(binDirectory, Exe(tool));
            var cwd = Directory.Exists(Root) ? Root : Path.GetTempPath();
            if (!asOsUser)
            {
                return Run(file, arguments, cwd, CommandTimeout);
            }

            if (runuser is not null)
            {
                return Run(runuser, ["-u", OsUser, "--", file, .. arguments], cwd, CommandTimeout);
            }

            var command = string.Join(' ', new[] { file }.Concat(arguments).Select(ShellQuote));
            return Run("su", ["-s", "/bin/sh", "-c", command, OsUser], cwd, CommandTimeout);
        }

        private static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

        private static int? ReadPostmasterPid(string pidFile)
        {
            try
            {
                var first = File.ReadLines(pidFile).FirstOrDefault();
                return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }

        private static bool IsAlive(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }

        private static void Kill(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(10_000);
            }
#pragma warning disable CA1031 // Best effort: already gone, or not ours to kill.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        private static void DeleteFolder(string path)
        {
            for (var attempt = 0; attempt < 5 && Directory.Exists(path); attempt++)
            {
                try
                {
                    Directory.Delete(path, recursive: true);
                }
                catch (IOException)
                {
                    Thread.Sleep(100);
                }
                catch (UnauthorizedAccessException)
                {
                    Thread.Sleep(100);
                }
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private static string? FindExecutable(string name, params string[] fallbacks)
        {
            var dirs = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Concat(fallbacks);
            return dirs.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
        }

        private static string Tail(string text, int lines)
        {
            var all = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return all.Length == 0 ? "(no output)" : string.Join(Environment.NewLine, all.TakeLast(lines));
        }

        private static CommandResult Run(string file, IReadOnlyList<string> arguments, string workingDirectory, TimeSpan timeout)
        {
            var info = new ProcessStartInfo(file)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                WorkingDirectory = workingDirectory,
            };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            // Settings for a client or another cluster must not leak into initdb/pg_ctl.
            foreach (var name in new[] { "PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE", "PGOPTIONS" })
            {
                info.Environment.Remove(name);
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
            process.StandardInput.Close();

            // Dedicated threads, not the thread pool: xUnit's pool threads are busy running tests, and a starved pool
            // made each command wait ~0.5 s for its output.
            string stdout = string.Empty, stderr = string.Empty;
            var readers = new[]
            {
                new Thread(() => stdout = process.StandardOutput.ReadToEnd()) { IsBackground = true, Name = "pg stdout" },
                new Thread(() => stderr = process.StandardError.ReadToEnd()) { IsBackground = true, Name = "pg stderr" },
            };
            foreach (var reader in readers)
            {
                reader.Start();
            }

            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
                return new CommandResult(-1, $"{Path.GetFileName(file)} timed out after {timeout.TotalSeconds:0}s");
            }

            // A child that keeps the pipes open (it should not: pg_ctl sends the server's output to its log) must not hang the tests.
            foreach (var reader in readers)
            {
                reader.Join(TimeSpan.FromSeconds(5));
            }

            return new CommandResult(process.ExitCode, stdout + stderr);
        }

        private readonly record struct CommandResult(int ExitCode, string Output);
    }
}

/// <summary>Thrown instead of skipping when PostgreSQL is unavailable under <c>CI=true</c>.</summary>
public sealed class PostgresUnavailableException : Exception
{
    public PostgresUnavailableException()
    {
    }

    public PostgresUnavailableException(string message)
        : base(message)
    {
    }

    public PostgresUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What a test that needs PostgreSQL does when there is none: skip locally, fail under CI.</summary>
public static class PostgresTestPolicy
{
    /// <summary>The environment variable that marks a CI run; <c>true</c> (any case) turns skips into failures.</summary>
    public const string CiVariable = "CI";

    /// <summary>Whether <see cref="CiVariable"/> is <c>true</c> (case-insensitive) in <paramref name="environment"/>.</summary>
    public static bool IsCi(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return string.Equals(environment(CiVariable)?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Returns when <paramref name="unavailableReason"/> is null; otherwise skips the test, or fails it under CI.</summary>
    public static void RequireAvailable(string? unavailableReason) => RequireAvailable(unavailableReason, Environment.GetEnvironmentVariable);

    /// <summary>Returns when <paramref name="unavailableReason"/> is null; otherwise skips the test, or fails it under CI.</summary>
    /// <exception cref="PostgresUnavailableException">Unavailable and <c>CI=true</c>.</exception>
    /// <exception cref="SkipException">Unavailable and not under CI (a <c>[SkippableFact]</c> reports it as skipped).</exception>
    public static void RequireAvailable(string? unavailableReason, Func<string, string?> environment)
    {
        if (unavailableReason is null)
        {
            return;
        }

        if (IsCi(environment))
        {
            throw new PostgresUnavailableException($"PostgreSQL is required (CI=true, so this is a failure, not a skip): {unavailableReason}");
        }

        Skip.If(true, $"PostgreSQL unavailable (under CI=true this fails): {unavailableReason}");
    }
}

/// <summary>
/// One PostgreSQL server for the test classes of the <c>postgres</c> collection, started on first use; databases per
/// test class.
/// </summary>
public sealed class PostgresServerFixture : IDisposable
{
    private readonly Lazy<PostgresTestServer> server;
    private readonly Func<string, string?> environment;
    private readonly ConcurrentDictionary<Type, Lazy<string>> classDatabases = new();

    public PostgresServerFixture()
        : this(PostgresTestServer.Start, Environment.GetEnvironmentVariable)
    {
    }

    /// <summary>A fixture with its own way to get the server and to read the environment (for tests of the policy).</summary>
    internal PostgresServerFixture(Func<PostgresTestServer> start, Func<string, string?> environment)
    {
        server = new Lazy<PostgresTestServer>(start, LazyThreadSafetyMode.ExecutionAndPublication);
        this.environment = environment;
    }

    /// <summary>The server, started on first use (it may be unavailable).</summary>
    public PostgresTestServer Server => server.Value;

    /// <summary>The superuser connection string to the <c>postgres</c> database; skips (or fails under CI) without a server.</summary>
    public string RequireServer()
    {
        var s = server.Value;
        PostgresTestPolicy.RequireAvailable(s.UnavailableReason, environment);
        return s.ConnectionString;
    }

    /// <summary>A new database, for tests that need more than one; skips (or fails under CI) without a server.</summary>
    public string CreateDatabase(string? nameHint = null)
    {
        RequireServer();
        return server.Value.CreateDatabase(nameHint);
    }

    /// <summary>The database of <paramref name="testClass"/>, created on its first use; skips (or fails under CI) without a server.</summary>
    public string DatabaseFor(Type testClass)
    {
        ArgumentNullException.ThrowIfNull(testClass);
        RequireServer();
        return classDatabases.GetOrAdd(testClass, t => new Lazy<string>(() => server.Value.CreateDatabase(t.Name))).Value;
    }

    /// <summary>The database of <typeparamref name="TTestClass"/>, created on its first use.</summary>
    public string DatabaseFor<TTestClass>() => DatabaseFor(typeof(TTestClass));

    public void Dispose()
    {
        if (server.IsValueCreated)
        {
            server.Value.Dispose();
        }
    }
}

/// <summary>The <c>postgres</c> test collection: its classes share one <see cref="PostgresServerFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollectionDefinition : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "postgres";
}
