using System.Diagnostics;
using System.ComponentModel;

namespace MskClickHouse.Template.Tests;

/// <summary>Runs a command-line tool the template checks rely on (cfn-lint, python3, make, objdump).</summary>
internal static class Tool
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Output => StandardOutput + StandardError;
    }

    /// <summary>Runs <paramref name="file"/>; a missing tool fails with <paramref name="installHint"/> (never a skip).</summary>
    public static Result Run(string file, IEnumerable<string> args, string installHint, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = Repo.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"'{file}' is not installed or not on PATH: {installHint}", e);
        }

        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            var limit = timeout ?? TimeSpan.FromMinutes(8);
            if (!p.WaitForExit(limit))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {limit}");
            }

            return new Result(p.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
