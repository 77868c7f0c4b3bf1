using System.Globalization;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Bench.EndToEnd;

/// <summary>What every section of one bench run shares: options, the engine, the bootstraps, scratch space, one stamp.</summary>
internal sealed class BenchContext(BenchOptions options, EngineClient engine, string root, string aot, string? jit, TextWriter error)
{
    private int _database;

    public BenchOptions Options { get; } = options;

    public EngineClient Engine { get; } = engine;

    public string Root { get; } = root;

    public string Aot { get; } = aot;

    /// <summary>Published only when a section needs it (cold start).</summary>
    public string? Jit { get; } = jit;

    public TextWriter Error { get; } = error;

    public string Stamp { get; } = DateTime.UtcNow.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);

    public string Tmp
    {
        get
        {
            var tmp = Path.Combine(Root, "artifacts", "bench", "tmp");
            Directory.CreateDirectory(tmp);
            return tmp;
        }
    }

    /// <summary>The bootstrap's environment for one database and compression, every topic routed to <c>events</c>.</summary>
    public Dictionary<string, string?> Env(Uri url, string db, string compression)
    {
        var env = BaseEnv(url, db, compression);
        foreach (var (k, v) in Options.BootstrapEnv)
        {
            env[k] = v;
        }

        return env;
    }

    private Dictionary<string, string?> BaseEnv(Uri url, string db, string compression)
    {
        var env = FunctionEnvironment.For(url, Engine.User, Engine.Password, db, "bench");
        env["CLICKHOUSE_COMPRESSION"] = compression;
        env["TOPIC_TABLES"] = Workload.TopicTables("events");
        env["POWERTOOLS_LOG_LEVEL"] = "Warning";
        return env;
    }

    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken ct)
    {
        var name = $"bench_{prefix}_{Stamp}_{Interlocked.Increment(ref _database)}";
        await Engine.QueryAsync($"CREATE DATABASE {name}", ct);
        return name;
    }

    /// <summary>One invocation through the emulator; its time is /next served → response posted, in ms.</summary>
    public static async Task<double> InvokeAsync(Emulator emulator, BootstrapProcess function, byte[] mskEvent, CancellationToken ct)
    {
        var result = await emulator.EnqueueAsync(mskEvent, TimeSpan.FromMinutes(2), cancellationToken: ct);
        if (!result.Success || result.BodyText != BatchItemFailures.None)
        {
            throw new InvalidOperationException($"invocation failed: {result.BodyText}\nbootstrap stdout (tail):\n{string.Join('\n', function.StandardOutputLines.TakeLast(10))}\n{string.Join('\n', function.StandardErrorLines.TakeLast(10))}");
        }

        return result.LatencyMs;
    }

    /// <summary>The 1, 5 and 15 minute load averages from /proc/loadavg ("n/a" where there is none): ratios move with the machine's load.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    public static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown CPU" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }
}

/// <summary>A pass/fail line of a section (e.g. every row landed exactly once); a failed one makes the run exit 1.</summary>
internal sealed record Check(bool Ok, string What);
