using System.Text.RegularExpressions;

namespace MskClickHouse.EmbeddedClickHouse.Tests;

/// <summary>
/// The chDB version is pinned in scripts/install-chdb.sh (with its sha512); the C# copy that finds the installed
/// library (tools/EmbeddedClickHouse/Chdb/ChdbLibrary.cs) and the README must name the same version.
/// </summary>
public partial class VersionPinTests
{
    [Fact]
    public void ChdbVersion_InTheLauncherAndTheReadme_IsTheInstallScriptsPin()
    {
        var pinned = InstallScriptVersion().Match(File.ReadAllText(RepoFile("scripts/install-chdb.sh")));
        Assert.True(pinned.Success, "scripts/install-chdb.sh has no readonly VERSION='...'");

        var csharp = CSharpVersion().Match(File.ReadAllText(RepoFile("tools/EmbeddedClickHouse/Chdb/ChdbLibrary.cs")));
        Assert.True(csharp.Success, "ChdbLibrary.cs has no Version constant");
        Assert.Equal(pinned.Groups[1].Value, csharp.Groups[1].Value);
        Assert.Contains($"pinned to {pinned.Groups[1].Value}", File.ReadAllText(RepoFile("README.md")), StringComparison.Ordinal);
    }

    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
            {
                return Path.Combine(dir.FullName, relative);
            }
        }

        throw new InvalidOperationException($"no Serverless.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^readonly VERSION='([^']+)'", RegexOptions.Multiline)]
    private static partial Regex InstallScriptVersion();

    [GeneratedRegex(@"public const string Version = ""([^""]+)"";")]
    private static partial Regex CSharpVersion();
}
