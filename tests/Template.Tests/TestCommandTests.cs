using System.Diagnostics;
using Xunit;

namespace MskClickHouse.Template.Tests;

/// <summary>The test command itself on a fresh machine: prerequisites named exactly, installs from empty caches.</summary>
public class TestCommandTests
{
    private static string Which(string tool) =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{tool} is not on PATH");

    [Fact]
    public async Task TestSh_WithoutCfnLint_FailsWithTheInstallCommand()
    {
        // A PATH holding everything test.sh checks for except cfn-lint.
        var bin = Directory.CreateTempSubdirectory("no-cfn-lint-");
        try
        {
            foreach (var tool in new[] { "bash", "dirname", "dotnet", "npm", "python3" })
            {
                File.CreateSymbolicLink(Path.Combine(bin.FullName, tool), Which(tool));
            }

            var psi = new ProcessStartInfo(Path.Combine(bin.FullName, "bash")) { WorkingDirectory = Repo.Root, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(Repo.File("test.sh"));
            psi.Environment["PATH"] = bin.FullName;
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(1)); // it must stop at the missing prerequisite, long before any test
            await p.WaitForExitAsync(timeout.Token);

            Assert.Equal(1, p.ExitCode);
            Assert.Equal("test.sh: cfn-lint is missing: pipx install cfn-lint\n", await stderr);
            Assert.Empty(await stdout);
        }
        finally
        {
            bin.Delete(recursive: true);
        }
    }

    [Fact]
    public void TestSh_RunsEveryInstallScript()
    {
        var testSh = File.ReadAllText(Repo.File("test.sh"));
        Assert.Contains("for script in scripts/install-*.sh; do", testSh, StringComparison.Ordinal);
        Assert.Contains("CHDB_LIB=\"$(scripts/install-chdb.sh)\"", testSh, StringComparison.Ordinal);
        var scripts = Directory.GetFiles(Repo.File("scripts"), "install-*.sh").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["install-binutils.sh", "install-cfn-spec.sh", "install-chdb.sh"], scripts);
        foreach (var s in scripts)
        {
            if (!OperatingSystem.IsWindows())
            {
                Assert.True(File.GetUnixFileMode(Repo.File("scripts/" + s!)).HasFlag(UnixFileMode.UserExecute), $"{s} is not executable");
            }
        }
    }

    [Fact]
    public void CiRun_RunsTheReadmeTestCommandFromAnEmptyProjectCache()
    {
        var ci = File.ReadAllText(Repo.File(".ci/run"));
        Assert.Contains("cache=\"$(mktemp -d)\"", ci, StringComparison.Ordinal);
        Assert.Contains("export MSK_CLICKHOUSE_CACHE=\"$cache\"", ci, StringComparison.Ordinal);
        Assert.Contains("unset CHDB_LIB CHDB_CACHE_DIR CFN_SPEC_DB", ci, StringComparison.Ordinal);
        Assert.EndsWith("\n./test.sh\n", ci, StringComparison.Ordinal);
        Assert.Contains("\n./test.sh ", File.ReadAllText(Repo.File("README.md")), StringComparison.Ordinal);

        // Every cache path the install scripts and the tests use hangs off MSK_CLICKHOUSE_CACHE.
        foreach (var script in new[] { "scripts/install-chdb.sh", "scripts/install-cfn-spec.sh" })
        {
            Assert.Contains("${MSK_CLICKHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msk-clickhouse}", File.ReadAllText(Repo.File(script)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Gitignore_IgnoresTheSamBuildFolder() =>
        Assert.Contains(".aws-sam/", File.ReadAllLines(Repo.File(".gitignore")));
}
