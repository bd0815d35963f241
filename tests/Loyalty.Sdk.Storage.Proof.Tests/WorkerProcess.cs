using System.Diagnostics;
using System.Threading.Channels;

namespace Loyalty.Sdk.Storage.Proof.Tests;

/// <summary>A proof worker running as a separate process (<c>dotnet Loyalty.Sdk.Storage.ProofWorker.dll ...</c>).</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly Channel<string> lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
    private readonly List<string> errors = [];
    private readonly TaskCompletionSource<bool> stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
    }

    /// <summary>A name for the test output.</summary>
    public string Name { get; }

    /// <summary>The process id.</summary>
    public int Id => process.Id;

    /// <summary>The last progress line's applied count.</summary>
    public long Applied { get; private set; }

    /// <summary>Progress lines seen.</summary>
    public int ProgressLines { get; private set; }

    /// <summary>The <c>done</c> line, once the worker finished.</summary>
    public ProofIngestionSummary? Summary { get; private set; }

    /// <summary>What the worker wrote to stderr.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (errors)
            {
                return [.. errors];
            }
        }
    }

    /// <summary>The worker assembly: copied next to the tests by the project reference (with its runtimeconfig and
    /// deps files).</summary>
    public static string WorkerDll
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "Loyalty.Sdk.Storage.ProofWorker.dll");
            return File.Exists(path) && File.Exists(Path.ChangeExtension(path, ".runtimeconfig.json"))
                ? path
                : throw new FileNotFoundException("The proof worker was not copied next to the tests (ProjectReference to Loyalty.Sdk.Storage.ProofWorker).", path);
        }
    }

    /// <summary>Starts a worker with <paramref name="args"/>.</summary>
    public static WorkerProcess Start(string name, IEnumerable<string> args)
    {
        // The dotnet host running us (the CLI sets DOTNET_HOST_PATH for the processes it starts), else the one on PATH.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        info.ArgumentList.Add(WorkerDll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var worker = new WorkerProcess(name, process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                worker.lines.Writer.TryComplete();
                worker.stdoutClosed.TrySetResult(true);
            }
            else
            {
                worker.lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (worker.errors)
                {
                    worker.errors.Add(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Reads lines until <paramref name="stop"/> holds for the worker's state or the output ends (false).</summary>
    public async Task<bool> ReadUntilAsync(Func<WorkerProcess, bool> stop, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (!stop(this))
            {
                if (!await lines.Reader.WaitToReadAsync(cts.Token))
                {
                    return stop(this);
                }

                while (lines.Reader.TryRead(out var line))
                {
                    Observe(line);
                    if (stop(this))
                    {
                        return true;
                    }
                }
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} (pid {Id}) made no progress within {timeout}; last applied {Applied}; stderr: {string.Join(" | ", Errors.TakeLast(5))}");
        }
    }

    /// <summary>SIGKILL (<see cref="Process.Kill()"/> sends SIGKILL on Linux), then waits for the process to be gone.</summary>
    public async Task KillAsync()
    {
        try
        {
            process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }

        await process.WaitForExitAsync();
    }

    /// <summary>Reads the rest of the output and waits for a clean exit; returns the summary.</summary>
    public async Task<ProofIngestionSummary> WaitForCompletionAsync(TimeSpan timeout)
    {
        await ReadUntilAsync(_ => false, timeout);
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0 || Summary is null)
        {
            throw new InvalidOperationException($"{Name} (pid {Id}) exited with code {process.ExitCode} {(Summary is null ? "without a summary" : string.Empty)}; stderr: {string.Join(Environment.NewLine, Errors)}");
        }

        return Summary;
    }

    private void Observe(string line)
    {
        if (line.StartsWith("applied ", StringComparison.Ordinal))
        {
            ProgressLines++;
            Applied = long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (ProofIngestionSummary.TryParse(line) is { } summary)
        {
            Summary = summary;
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
    }
}
