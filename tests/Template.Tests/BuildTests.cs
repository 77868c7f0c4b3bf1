using System.Diagnostics;
using System.Runtime.InteropServices;
using Tomlyn;
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
    [InlineData("x86_64", "linux-x64")]
    [InlineData("amd64", "linux-x64")]
    [InlineData("arm64", "linux-arm64")]
    [InlineData("aarch64", "linux-arm64")]
    public void Makefile_ArchSelectsRuntimeIdentifier(string arch, string rid)
    {
        var (code, output) = Run("make", "-n", "build-MskToClickHouseFunction", "ARTIFACTS_DIR=/tmp/sam-artifacts", $"ARCH={arch}");
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

    [Fact]
    public void Makefile_BuildsOnlyAnElfBootstrapForTheHostArchitecture()
    {
        var artifacts = Path.Combine(Path.GetTempPath(), "sam-artifacts-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output) = Run("make", "build-MskToClickHouseFunction", $"ARTIFACTS_DIR={artifacts}");
            Assert.True(code == 0, output);
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
        finally
        {
            if (Directory.Exists(artifacts))
            {
                Directory.Delete(artifacts, recursive: true);
            }
        }
    }

    private static TomlTable SamConfig => TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(Repo.File("samconfig.toml")))!;

    [Theory]
    [InlineData("default")]
    [InlineData("prod")]
    public void SamConfig_EnvironmentDeploysWithIamCapabilityAndBatchSize(string environment)
    {
        var config = SamConfig;
        Assert.Equal(0.1, Convert.ToDouble(config["version"], System.Globalization.CultureInfo.InvariantCulture));
        var env = (TomlTable)config[environment];
        Assert.True(env.ContainsKey("build"), $"{environment}.build missing");
        var deploy = (TomlTable)((TomlTable)env["deploy"])["parameters"];
        Assert.Equal("CAPABILITY_IAM", deploy["capabilities"]);
        Assert.Equal(true, deploy["resolve_s3"]);
        Assert.Equal(true, deploy["confirm_changeset"]);
        Assert.False(string.IsNullOrEmpty(deploy["stack_name"] as string));
        Assert.False(string.IsNullOrEmpty(deploy["region"] as string));
        var overrides = ((TomlArray)deploy["parameter_overrides"]).Select(o => (string)o!).ToList();
        Assert.Contains(overrides, o => o.StartsWith("BatchSize=", StringComparison.Ordinal));

        // Every override names a real template parameter, and nothing password-like is passed in clear.
        var parameters = CfnYaml.Load(Repo.File("template.yaml"))["Parameters"]!.AsObject().Select(kv => kv.Key).ToHashSet();
        foreach (var o in overrides)
        {
            var name = o[..o.IndexOf('=', StringComparison.Ordinal)];
            Assert.Contains(name, parameters);
            Assert.DoesNotContain("Password=", o, StringComparison.OrdinalIgnoreCase);
        }

        Assert.True(((string)deploy["stack_name"]).Length <= 47, "stack name + '-MskToClickHouse' must fit Lambda's 64-character limit");
    }
}
