using System.Diagnostics;
using System.Runtime.InteropServices;
using Tomlyn.Model;
using Xunit;

namespace MskClickHouse.Template.Tests;

/// <summary>The SAM build target (Makefile) and samconfig.toml.</summary>
public class BuildTests
{
    private static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = Repo.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 8 minutes");
        }

        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Theory]
    [InlineData("x86_64", "linux-x64", "x86_64")]
    [InlineData("amd64", "linux-x64", "x86_64")]
    [InlineData("arm64", "linux-arm64", "arm64")]
    [InlineData("aarch64", "linux-arm64", "arm64")]
    public void Makefile_ArchSelectsRuntimeIdentifier(string arch, string rid, string architecture)
    {
        var (code, output) = Run("make", "-n", "build-MskToClickHouseFunction", "ARTIFACTS_DIR=/tmp/sam-artifacts", $"ARCH={arch}", $"ARCHITECTURE={architecture}");
        Assert.True(code == 0, output);
        Assert.Contains($"dotnet publish src/Function/Function.csproj -c Release -r {rid} -p:PublishAot=true", output, StringComparison.Ordinal);
        Assert.Contains($"cp \"{Repo.Root}/artifacts/publish/{rid}/bootstrap\" \"/tmp/sam-artifacts/bootstrap\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Makefile_UnknownArch_FailsClearly()
    {
        var (code, output) = Run("make", "-n", "build-MskToClickHouseFunction", "ARTIFACTS_DIR=/tmp/x", "ARCH=sparc");
        Assert.NotEqual(0, code);
        Assert.Contains("Unsupported ARCH 'sparc'", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x86_64", "arm64")]
    [InlineData("arm64", "x86_64")]
    public void Makefile_ArchitectureMismatch_FailsBeforeBuildingNamingBoth(string arch, string functionArchitecture)
    {
        var (code, output) = Run("make", "-n", "build-MskToClickHouseFunction", "ARTIFACTS_DIR=/tmp/x", $"ARCH={arch}", $"ARCHITECTURE={functionArchitecture}");

        Assert.NotEqual(0, code);
        Assert.Contains($"Architecture mismatch: the bootstrap would be {arch} (ARCH={arch}) but the function is deployed as {functionArchitecture}", output, StringComparison.Ordinal);
        Assert.Contains("Runtime.InvalidEntrypoint", output, StringComparison.Ordinal);
        Assert.Contains("public.ecr.aws/sam/build-dotnet10", output, StringComparison.Ordinal);
        Assert.DoesNotContain("dotnet publish", output, StringComparison.Ordinal);
    }

    /// <summary>SAM gives make only ARTIFACTS_DIR, so the function's Architecture comes from samconfig.toml as sam deploy reads it.</summary>
    [Theory]
    [InlineData("default", "x86_64", true)]
    [InlineData("default", "arm64", false)]
    [InlineData("prod", "arm64", true)]
    [InlineData("prod", "x86_64", false)]
    public void Makefile_WithoutArchitecture_ChecksAgainstTheSamconfigEnvironment(string configEnv, string arch, bool accepted)
    {
        var configured = SamConfig.ParameterOverrides(SamConfig.Effective(SamConfig.Read(), configEnv, "deploy"))["Architecture"];
        Assert.Equal(accepted, configured == arch);

        var (code, output) = Run("make", "-n", "build-MskToClickHouseFunction", "ARTIFACTS_DIR=/tmp/x", $"ARCH={arch}", $"SAM_CONFIG_ENV={configEnv}");

        Assert.True(accepted == (code == 0), output);
    }

    [Fact]
    public void FunctionArchitectureScript_WithoutSamconfigEntry_UsesTheTemplateDefault()
    {
        var (code, output) = Run("python3", "scripts/function-architecture.py", "no-such-environment");

        Assert.True(code == 0, output);
        Assert.Equal("arm64", output.Trim());
    }

    /// <summary>The bootstrap built once by make for this host (ARCHITECTURE = the host's), shared by the checks below.</summary>
    private static readonly Lazy<string> Built = new(() =>
    {
        var artifacts = Path.Combine(Path.GetTempPath(), "sam-artifacts-" + Guid.NewGuid().ToString("N"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Directory.Exists(artifacts))
            {
                Directory.Delete(artifacts, recursive: true);
            }
        };
        var host = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "x86_64";
        var (code, output) = Run("make", "build-MskToClickHouseFunction", $"ARTIFACTS_DIR={artifacts}", $"ARCHITECTURE={host}");
        Assert.True(code == 0, output);
        return artifacts;
    });

    /// <summary>
    /// provided.al2023 is Amazon Linux 2023, whose glibc is 2.34: a bootstrap linked against a newer symbol version
    /// (built on a newer distribution) fails to start there. objdump -T lists the versions the binary needs.
    /// </summary>
    [Fact]
    public void Bootstrap_NeedsAtMostGlibc234()
    {
        var bootstrap = Path.Combine(Built.Value, "bootstrap");
        var run = Tool.Run("objdump", ["-T", bootstrap], "install binutils: `apt-get install binutils` (scripts/install-binutils.sh does it)");
        Assert.True(run.ExitCode == 0, run.Output);

        var versions = System.Text.RegularExpressions.Regex.Matches(run.StandardOutput, @"GLIBC_(\d+)\.(\d+)")
            .Select(m => new Version(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .Distinct().ToList();
        Assert.NotEmpty(versions); // dynamically linked against glibc: the check saw its symbol versions
        var newest = versions.Max()!;
        TestContext.Current.SendDiagnosticMessage($"bootstrap needs GLIBC {newest}");
        Assert.True(newest <= new Version(2, 34), $"bootstrap needs GLIBC_{newest}; Amazon Linux 2023 (provided.al2023) has 2.34");
    }

    [Fact]
    public void Makefile_BuildsOnlyAnElfBootstrapForTheHostArchitecture()
    {
        var artifacts = Built.Value;
        Assert.Equal(["bootstrap"], Directory.GetFiles(artifacts).Select(Path.GetFileName));
        var header = new byte[20];
        using (var f = File.OpenRead(Path.Combine(artifacts, "bootstrap")))
        {
            f.ReadExactly(header);
        }

        Assert.Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], header[..4]);
        Assert.Equal(2, header[4]); // 64-bit
        var machine = BitConverter.ToUInt16(header, 18);
        var expected = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? 0xB7 /* EM_AARCH64 */ : 0x3E /* EM_X86_64 */;
        Assert.Equal(expected, machine);
        if (!OperatingSystem.IsWindows())
        {
            Assert.True(File.GetUnixFileMode(Path.Combine(artifacts, "bootstrap")).HasFlag(UnixFileMode.UserExecute));
        }
    }

    [Theory]
    [InlineData("default")]
    [InlineData("prod")]
    public void SamConfig_EnvironmentDeploysWithIamCapabilityAndBatchSize(string environment)
    {
        var config = SamConfig.Read();
        Assert.Equal(0.1, Convert.ToDouble(config["version"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(((TomlTable)config[environment]).ContainsKey("build"), $"{environment}.build missing");
        var deploy = SamConfig.Effective(config, environment, "deploy");
        Assert.Equal("CAPABILITY_IAM", deploy["capabilities"]);
        Assert.Equal(true, deploy["resolve_s3"]);
        Assert.Equal(true, deploy["confirm_changeset"]);
        Assert.False(string.IsNullOrEmpty(deploy["stack_name"] as string));
        Assert.False(string.IsNullOrEmpty(deploy["region"] as string));
        var overrides = SamConfig.ParameterOverrides(deploy);
        Assert.Contains("BatchSize", overrides.Keys);

        // Every override names a real template parameter, and nothing password-like is passed in clear.
        var parameters = CfnYaml.Load(Repo.File("template.yaml"))["Parameters"]!.AsObject().Select(kv => kv.Key).ToHashSet();
        foreach (var (name, value) in overrides)
        {
            Assert.Contains(name, parameters);
            Assert.DoesNotContain("Password=", name + "=" + value, StringComparison.OrdinalIgnoreCase);
        }

        Assert.True(((string)deploy["stack_name"]).Length <= 47, "stack name + '-MskToClickHouse' must fit Lambda's 64-character limit");
    }

    /// <summary>
    /// SAM CLI never merges makefile functions into one build (samcli/lib/build/build_graph.py: FunctionBuildDefinition
    /// equality is false for BuildMethod makefile), so `sam build` with parallel = true runs the three targets at once.
    /// A stand-in dotnet (the real publish takes minutes) counts the publishes: one, and all three get its bootstrap.
    /// </summary>
    [Fact]
    public async Task Makefile_ThreeParallelFunctionBuilds_PublishOnce()
    {
        var dir = Directory.CreateTempSubdirectory("one-publish-");
        try
        {
            var bin = Directory.CreateDirectory(Path.Combine(dir.FullName, "bin"));
            var log = Path.Combine(dir.FullName, "publishes.log");
            var dotnet = Path.Combine(bin.FullName, "dotnet");
            await File.WriteAllTextAsync(dotnet, """
                #!/bin/sh
                echo "$*" >> "$FAKE_PUBLISH_LOG"; sleep 1
                while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
                mkdir -p "$out"; printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\076\000' > "$out/bootstrap"
                """.Replace("\r", "", StringComparison.Ordinal), TestContext.Current.CancellationToken);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var functions = new[] { "MskToClickHouseFunction", "AuditFunction", "ReplayFunction" };
            var builds = functions.Select(f =>
            {
                var psi = new ProcessStartInfo("make") { WorkingDirectory = Repo.Root, RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in new[] { "-s", $"build-{f}", $"ARTIFACTS_DIR={dir.FullName}/out/{f}", "ARCH=x86_64", "ARCHITECTURE=x86_64", $"PUBLISH_DIR={dir.FullName}/publish" })
                {
                    psi.ArgumentList.Add(a);
                }

                psi.Environment["PATH"] = bin.FullName + ":" + Environment.GetEnvironmentVariable("PATH");
                psi.Environment["FAKE_PUBLISH_LOG"] = log;
                var p = Process.Start(psi)!;
                return (Process: p, Output: p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken), Stdout: p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken));
            }).ToList();
            foreach (var b in builds)
            {
                await b.Process.WaitForExitAsync(TestContext.Current.CancellationToken);
                Assert.True(b.Process.ExitCode == 0, await b.Output + await b.Stdout);
                b.Process.Dispose();
            }

            Assert.Single(await File.ReadAllLinesAsync(log, TestContext.Current.CancellationToken));
            foreach (var f in functions)
            {
                Assert.True(File.Exists(Path.Combine(dir.FullName, "out", f, "bootstrap")), f);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
