using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;

namespace MskClickHouse.Bench.EndToEnd;

/// <summary>Plain HTTP SQL against the engine (embedded or given by URL).</summary>
internal sealed class EngineClient(Uri url, string user, string password) : IDisposable
{
    private readonly HttpClient _http = CreateClient(url, user, password);

    public Uri Url { get; } = url;

    public string User { get; } = user;

    public string Password { get; } = password;

    public async Task<string> QueryAsync(string sql, CancellationToken ct)
    {
        using var content = new StringContent(sql, Encoding.UTF8);
        using var response = await _http.PostAsync(new Uri("/", UriKind.Relative), content, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"ClickHouse answered {(int)response.StatusCode} to {sql[..Math.Min(200, sql.Length)]}: {body.Trim()}");
        }

        return body;
    }

    public async Task<long> CountAsync(string table, CancellationToken ct) =>
        long.Parse((await QueryAsync($"SELECT count() FROM {table}", ct)).Trim(), CultureInfo.InvariantCulture);

    public void Dispose() => _http.Dispose();

    private static HttpClient CreateClient(Uri url, string user, string password)
    {
        var http = new HttpClient { BaseAddress = new Uri(url.GetLeftPart(UriPartial.Authority)), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }
}

/// <summary>Times every gateway call (start/end since a common origin) and sorts it: row inserts, state, other queries.</summary>
internal sealed class TimingGateway(IClickHouseGateway inner, string stateTable) : IClickHouseGateway
{
    private readonly List<(string Kind, double Start, double End)> _calls = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public List<(string Kind, double Start, double End)> TakeCalls()
    {
        lock (_calls)
        {
            var copy = _calls.ToList();
            _calls.Clear();
            return copy;
        }
    }

    public double NowMs => _clock.Elapsed.TotalMilliseconds;

    public Task<InsertResult> InsertAsync(string insertSql, IReadOnlyList<ReadOnlyMemory<byte>> body, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken) =>
        Time(Kind(insertSql, insert: true), () => inner.InsertAsync(insertSql, body, settings, cancellationToken));

    public Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken) =>
        Time(Kind(sql, insert: false), () => inner.QueryAsync(sql, cancellationToken));

    public Task ExecuteAsync(string sql, CancellationToken cancellationToken) =>
        Time(Kind(sql, insert: false), async () =>
        {
            await inner.ExecuteAsync(sql, cancellationToken);
            return 0;
        });

    private string Kind(string sql, bool insert) =>
        sql.Contains(stateTable, StringComparison.Ordinal) ? (insert ? "state write" : "state read")
        : insert ? "row insert" : "other query";

    private async Task<T> Time<T>(string kind, Func<Task<T>> call)
    {
        var start = NowMs;
        try
        {
            return await call();
        }
        finally
        {
            var end = NowMs;
            lock (_calls)
            {
                _calls.Add((kind, start, end));
            }
        }
    }
}

internal sealed class NullLog : ISinkLog
{
    public bool IsEnabled(LogLevel level) => level >= LogLevel.Warning;

    public void Write(LogLevel level, string message, in LogFields fields = default, Exception? exception = null)
    {
        if (level >= LogLevel.Warning)
        {
            Console.Error.WriteLine($"in-process sink {level}: {message}");
        }
    }
}

internal sealed class NullMetrics : IMetricsSink
{
    public void Publish(InvocationMetrics metrics)
    {
    }
}

/// <summary>CPU time (user + system) of a process from /proc/PID/stat, in ms (clock ticks of 10 ms).</summary>
internal static class ProcessCpu
{
    public static double Ms(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks * 10.0;
    }
}

/// <summary>dotnet publish of src/Function (AOT or JIT) into artifacts/bench/, skipped when no source is newer than the last publish.</summary>
internal static class Publisher
{
    public static async Task<string> PublishAsync(string root, bool aot, TextWriter log, CancellationToken ct)
    {
        var output = Path.Combine(root, "artifacts", "bench", aot ? "aot" : "jit");
        var product = Path.Combine(output, aot ? "bootstrap" : "bootstrap.dll");
        var stampFile = Path.Combine(output, ".source-stamp");
        var stamp = Directory.EnumerateFiles(Path.Combine(root, "src"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .Concat(Directory.EnumerateFiles(root, "Directory.*.props"))
            .Max(f => File.GetLastWriteTimeUtc(f).Ticks).ToString(CultureInfo.InvariantCulture);
        if (File.Exists(product) && File.Exists(stampFile) && await File.ReadAllTextAsync(stampFile, ct) == stamp)
        {
            return product;
        }

        await log.WriteLineAsync($"publishing the {(aot ? "Native AOT" : "JIT")} bootstrap into {output} ...");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
        string[] args = ["publish", Path.Combine(root, "src", "Function", "Function.csproj"), "-c", "Release", "-o", output, "-nologo", .. aot ? new[] { "-r", "linux-x64" } : ["-p:PublishAot=false"]];
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            info.Environment.Remove(key);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not run dotnet publish");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0 || !File.Exists(product))
        {
            throw new InvalidOperationException($"dotnet publish failed ({process.ExitCode}):\n{await stdout}{await stderr}");
        }

        await File.WriteAllTextAsync(stampFile, stamp, ct);
        return product;
    }

    public static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("cannot find the repository (no Serverless.sln above the current directory)");
    }
}
