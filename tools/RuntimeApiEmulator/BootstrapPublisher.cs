using System.Diagnostics;
using System.Globalization;

namespace MskClickHouse.RuntimeApiEmulator;

/// <summary>
/// Publishes src/Function into a folder and returns the product, unless the folder already holds a publish of the
/// current sources (the stamp is the newest write time under src/ and of the root Directory.*.props).
/// </summary>
/// <remarks>
/// Publishes of src/Function share its obj/ folder, so two at once (the test assemblies run in parallel, and the
/// Makefile's publish in Template.Tests) corrupt each other's native link. Every publish holds
/// <c>artifacts/.publish.lock</c>: .NET's FileShare.None is an advisory flock(2) on Linux, the same lock the
/// Makefile takes with flock(1).
/// </remarks>
public static class BootstrapPublisher
{
    /// <param name="root">The repository root (the folder of Serverless.sln).</param>
    /// <param name="output">Where to publish.</param>
    /// <param name="extraArguments">E.g. <c>-r linux-x64</c> (Native AOT) or <c>-p:PublishAot=false</c> (JIT).</param>
    /// <returns>The path of <c>bootstrap</c>, or of <c>bootstrap.dll</c> when the arguments turn AOT off.</returns>
    public static async Task<string> PublishAsync(string root, string output, IReadOnlyList<string> extraArguments, TextWriter? log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(extraArguments);
        var product = Path.Combine(output, extraArguments.Contains("-p:PublishAot=false") ? "bootstrap.dll" : "bootstrap");
        var stampFile = Path.Combine(output, ".source-stamp");
        var stamp = SourceStamp(root);
        if (File.Exists(product) && File.Exists(stampFile) && await File.ReadAllTextAsync(stampFile, cancellationToken) == stamp)
        {
            return product;
        }

        await using var publishLock = await AcquirePublishLockAsync(root, cancellationToken);
        if (File.Exists(product) && File.Exists(stampFile) && await File.ReadAllTextAsync(stampFile, cancellationToken) == SourceStamp(root))
        {
            return product; // published by another process while this one waited for the lock
        }

        if (log is not null)
        {
            await log.WriteLineAsync($"publishing src/Function into {output} ...");
        }

        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
        foreach (var a in (string[])["publish", Path.Combine(root, "src", "Function", "Function.csproj"), "-c", "Release", "-o", output, "-nologo", "--disable-build-servers", .. extraArguments])
        {
            info.ArgumentList.Add(a);
        }

        // `dotnet test` and `dotnet run` hand their MSBuild settings to the child; a nested publish must not inherit them.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            info.Environment.Remove(key);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not run dotnet publish");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0 || !File.Exists(product))
        {
            throw new InvalidOperationException($"dotnet publish of src/Function into {output} failed ({process.ExitCode}):\n{await stdout}{await stderr}");
        }

        await File.WriteAllTextAsync(stampFile, stamp, cancellationToken);
        return product;
    }

    /// <summary>Waits for the repository's publish lock (see remarks); dispose the stream to release it.</summary>
    public static async Task<FileStream> AcquirePublishLockAsync(string root, CancellationToken cancellationToken)
    {
        var path = Path.Combine(root, "artifacts", ".publish.lock");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            }
        }
    }

    /// <summary>The folder of Serverless.sln above the current directory or the running program.</summary>
    public static string FindRepositoryRoot()
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

    private static string SourceStamp(string root)
    {
        var sep = Path.DirectorySeparatorChar;
        return Directory.EnumerateFiles(Path.Combine(root, "src"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{sep}bin{sep}", StringComparison.Ordinal) && !f.Contains($"{sep}obj{sep}", StringComparison.Ordinal))
            .Concat(Directory.EnumerateFiles(root, "Directory.*.props"))
            .Max(f => File.GetLastWriteTimeUtc(f).Ticks)
            .ToString(CultureInfo.InvariantCulture);
    }
}
