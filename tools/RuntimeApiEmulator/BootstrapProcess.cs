using System.Diagnostics;
using System.Globalization;

namespace MskClickHouse.RuntimeApiEmulator;

/// <summary>
/// Runs a bootstrap executable (a Native AOT binary, or a .dll run with <c>dotnet</c>) against a Runtime API endpoint
/// with Lambda's environment variables, captures its output lines, and tracks its peak resident memory (VmHWM).
/// Killed on dispose if still running.
/// </summary>
public sealed class BootstrapProcess : IDisposable
{
    /// <summary>Host variables passed through so that the program (and the dotnet host) can start; everything else is Lambda's.</summary>
    private static readonly string[] PassThrough = ["PATH", "HOME", "TMPDIR", "DOTNET_ROOT", "LANG"];

    private readonly Process _process;
    private readonly Lock _gate = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _polling = new();
    private readonly Task _memoryPoller;
    private long _peakRssBytes;

    private BootstrapProcess(ProcessStartInfo startInfo)
    {
        _process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, _stdout, _stdoutClosed, StandardOutputLine);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, _stderr, _stderrClosed, StandardErrorLine);
        StartTimestamp = Stopwatch.GetTimestamp();
        StartedAt = DateTimeOffset.UtcNow;
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        ProcessId = _process.Id;
        _memoryPoller = PollMemoryAsync(_polling.Token);
    }

    /// <summary>A line arrived on standard output (raised on a thread-pool thread).</summary>
    public event EventHandler<string>? StandardOutputLine;

    public event EventHandler<string>? StandardErrorLine;

    public int ProcessId { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> just before the process was started.</summary>
    public long StartTimestamp { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The highest VmHWM seen so far (bytes); it is polled every 10 ms and read once more on demand.</summary>
    public long PeakRssBytes
    {
        get
        {
            SampleMemory();
            return Interlocked.Read(ref _peakRssBytes);
        }
    }

    public IReadOnlyList<string> StandardOutputLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _stdout];
            }
        }
    }

    public IReadOnlyList<string> StandardErrorLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _stderr];
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="executablePath"/> (a path ending in .dll runs under <c>dotnet</c>, i.e. JIT) with
    /// AWS_LAMBDA_RUNTIME_API and Lambda's usual variables; <paramref name="environment"/> adds or overrides (null removes).
    /// </summary>
    public static BootstrapProcess Start(
        string executablePath,
        string runtimeApiEndpoint,
        IReadOnlyDictionary<string, string?>? environment = null,
        string functionName = "msk-clickhouse-sink",
        int memoryMb = 512)
    {
        ArgumentException.ThrowIfNullOrEmpty(executablePath);
        ArgumentException.ThrowIfNullOrEmpty(runtimeApiEndpoint);
        var full = Path.GetFullPath(executablePath);
        var jit = full.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var info = new ProcessStartInfo(jit ? "dotnet" : full)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            WorkingDirectory = Path.GetDirectoryName(full)!,
        };
        if (jit)
        {
            info.ArgumentList.Add(full);
        }

        var inherited = PassThrough
            .Select(name => (name, value: Environment.GetEnvironmentVariable(name)))
            .Where(p => p.value is not null)
            .ToList();
        info.Environment.Clear();
        foreach (var (name, value) in inherited)
        {
            info.Environment[name] = value;
        }

        info.Environment["AWS_LAMBDA_RUNTIME_API"] = runtimeApiEndpoint;
        info.Environment["AWS_LAMBDA_FUNCTION_NAME"] = functionName;
        info.Environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = memoryMb.ToString(CultureInfo.InvariantCulture);
        info.Environment["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
        info.Environment["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + functionName;
        info.Environment["AWS_LAMBDA_LOG_STREAM_NAME"] = "2026/01/01/[$LATEST]0123456789abcdef";
        info.Environment["AWS_REGION"] = "eu-west-1";
        info.Environment["AWS_DEFAULT_REGION"] = "eu-west-1";
        info.Environment["LAMBDA_TASK_ROOT"] = info.WorkingDirectory;
        info.Environment["TZ"] = ":UTC";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        return new BootstrapProcess(info);
    }

    /// <summary>The first stdout line (already seen or still to come) that matches, or a TimeoutException.</summary>
    public async Task<string> WaitForOutputLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object? sender, string line)
        {
            if (predicate(line))
            {
                found.TrySetResult(line);
            }
        }

        StandardOutputLine += OnLine;
        try
        {
            foreach (var line in StandardOutputLines)
            {
                if (predicate(line))
                {
                    return line;
                }
            }

            return await found.Task.WaitAsync(timeout);
        }
        finally
        {
            StandardOutputLine -= OnLine;
        }
    }

    /// <summary>Waits for the process to exit and for its output to be fully read; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"process {ProcessId} did not exit within {timeout.TotalSeconds:0.#} s");
        }

        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as Lambda does at shutdown.</summary>
    public void Terminate()
    {
        if (_process.HasExited)
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", ProcessId.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
        kill?.WaitForExit();
    }

    public void Dispose()
    {
        _polling.Cancel();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        try
        {
            _memoryPoller.Wait(1000);
        }
        catch (AggregateException)
        {
        }

        _polling.Dispose();
        _process.Dispose();
    }

    private void OnLine(string? line, List<string> lines, TaskCompletionSource closed, EventHandler<string>? handler)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_gate)
        {
            lines.Add(line);
        }

        handler?.Invoke(this, line);
    }

    private async Task PollMemoryAsync(CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
            do
            {
                if (!SampleMemory())
                {
                    return;
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Reads VmHWM from /proc/pid/status; false once the process is gone.</summary>
    private bool SampleMemory()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{ProcessId}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    var bytes = kb * 1024;
                    long seen;
                    while ((seen = Interlocked.Read(ref _peakRssBytes)) < bytes && Interlocked.CompareExchange(ref _peakRssBytes, bytes, seen) != seen)
                    {
                    }

                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }
}
