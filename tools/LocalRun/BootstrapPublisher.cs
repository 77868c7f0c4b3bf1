using System.Diagnostics;
using System.Globalization;

namespace MskClickHouse.LocalRun;

/// <summary>Publishes src/Function as Native AOT into artifacts/localrun/bootstrap/, unless the sources are unchanged since.</summary>
internal static class BootstrapPublisher
{
    public static async Task<string> PublishAsync(string root, TextWriter log, CancellationToken ct)
    {
        var output = Path.Combine(root, "artifacts", "localrun", "bootstrap");
        var product = Path.Combine(output, "bootstrap");
        var stampFile = Path.Combine(output, ".source-stamp");
        var stamp = SourceStamp(root);
        if (File.Exists(product) && File.Exists(stampFile) && await File.ReadAllTextAsync(stampFile, ct) == stamp)
        {
            return product;
        }

        await log.WriteLineAsync($"publishing the AOT bootstrap into {output} ...");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
        foreach (var a in new[] { "publish", Path.Combine(root, "src", "Function", "Function.csproj"), "-c", "Release", "-r", "linux-x64", "-o", output, "-nologo" })
        {
            info.ArgumentList.Add(a);
        }

        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            info.Environment.Remove(key);
        }

        using var process = Process.Start(info) ?? throw new LocalRunException("could not run dotnet publish");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0 || !File.Exists(product))
        {
            throw new LocalRunException($"dotnet publish of src/Function failed ({process.ExitCode}):\n{await stdout}{await stderr}");
        }

        await File.WriteAllTextAsync(stampFile, stamp, ct);
        return product;
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
