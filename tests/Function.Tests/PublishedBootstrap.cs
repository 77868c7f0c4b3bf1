using System.Diagnostics;
using System.Globalization;
using System.Text;

[assembly: AssemblyFixture(typeof(MskClickHouse.Function.Tests.PublishedBootstrap))]

namespace MskClickHouse.Function.Tests;

/// <summary>
/// Publishes src/Function once per test run, as Native AOT (linux-x64, the Lambda binary) and as a JIT app
/// (bootstrap.dll, run with dotnet) for comparison, into artifacts/function-tests/. Skips the publish when the
/// sources are no newer than the last one (the stamp is the newest source write time).
/// </summary>
public sealed class PublishedBootstrap : IAsyncLifetime
{
    public string RepositoryRoot { get; } = FindRoot();

    public string AotDirectory => Path.Combine(RepositoryRoot, "artifacts", "function-tests", "aot");

    public string JitDirectory => Path.Combine(RepositoryRoot, "artifacts", "function-tests", "jit");

    public string AotBootstrap => Path.Combine(AotDirectory, "bootstrap");

    public string JitBootstrap => Path.Combine(JitDirectory, "bootstrap.dll");

    public string PublishLog { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        var stamp = SourceStamp();
        var log = new StringBuilder();
        await PublishAsync(AotDirectory, AotBootstrap, stamp, ["-r", "linux-x64"], log);
        await PublishAsync(JitDirectory, JitBootstrap, stamp, ["-p:PublishAot=false"], log);
        PublishLog = log.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task PublishAsync(string output, string product, string stamp, string[] extra, StringBuilder log)
    {
        var stampFile = Path.Combine(output, ".source-stamp");
        if (File.Exists(product) && File.Exists(stampFile) && await File.ReadAllTextAsync(stampFile) == stamp)
        {
            log.AppendLine(CultureInfo.InvariantCulture, $"{output}: up to date");
            return;
        }

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot,
        };
        foreach (var arg in (string[])["publish", Path.Combine(RepositoryRoot, "src", "Function", "Function.csproj"), "-c", "Release", "-o", output, "-nologo", "--disable-build-servers", .. extra])
        {
            info.ArgumentList.Add(arg);
        }

        // `dotnet test` hands its MSBuild settings to the test process; a nested build must not inherit them.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            info.Environment.Remove(key);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        var text = await stdout + await stderr;
        log.AppendLine(CultureInfo.InvariantCulture, $"{output}: published in {watch.Elapsed.TotalSeconds:0.0} s");
        if (process.ExitCode != 0 || !File.Exists(product))
        {
            throw new InvalidOperationException($"dotnet publish into {output} failed ({process.ExitCode}):\n{text}");
        }

        if (text.Contains("warning", StringComparison.OrdinalIgnoreCase) && text.Contains("IL", StringComparison.Ordinal))
        {
            log.AppendLine(text);
        }

        await File.WriteAllTextAsync(stampFile, stamp);
    }

    private string SourceStamp()
    {
        var files = Directory.EnumerateFiles(Path.Combine(RepositoryRoot, "src"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Concat(Directory.EnumerateFiles(RepositoryRoot, "Directory.*.props"));
        var newest = files.Max(f => File.GetLastWriteTimeUtc(f).Ticks);
        return newest.ToString(CultureInfo.InvariantCulture);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Serverless.sln above {AppContext.BaseDirectory}");
    }
}
