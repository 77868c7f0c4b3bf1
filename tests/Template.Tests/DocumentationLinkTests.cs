using Xunit;

namespace MskClickHouse.Template.Tests;

/// <summary>The README is the front door (at most 150 lines) and every relative link of the documentation resolves.</summary>
public class DocumentationLinkTests
{
    private static IEnumerable<string> DocumentationFiles() =>
        new[] { "README.md", "bench/README.md" }
            .Concat(Directory.GetFiles(Repo.File("docs"), "*.md", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Repo.Root, f)))
            .Order(StringComparer.Ordinal);

    [Fact]
    public void Readme_IsAtMost150Lines()
    {
        var lines = File.ReadAllLines(Repo.File("README.md")).Length;

        Assert.True(lines <= 150, $"README.md has {lines} lines; it is the front door (at most 150): move detail to docs/ or bench/README.md");
    }

    [Fact]
    public void Documentation_RelativeLinks_ResolveToFilesAndHeadings()
    {
        var files = DocumentationFiles().ToList();
        Assert.Contains(Path.Combine("docs", "README.md"), files);

        var broken = MarkdownLinks.Broken(Repo.Root, files);

        Assert.True(broken.Count == 0, "broken relative links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void Broken_NamesAMissingFileAndAMissingHeading_NotTheLinksThatResolve()
    {
        var dir = Directory.CreateTempSubdirectory("doc-links-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "docs", "internals"));
            File.WriteAllText(Path.Combine(dir.FullName, "docs", "internals", "runtime.md"), "# Runtime\n\n## The loop — `next` → response (AOT)\n\n## Pieces\n\n## Pieces\n");
            File.WriteAllLines(Path.Combine(dir.FullName, "README.md"),
            [
                "# Title",
                "[ok](docs/internals/runtime.md) [ok](docs/internals/runtime.md#the-loop--next--response-aot) [ok](docs/internals/runtime.md#pieces-1)",
                "[ok](docs/) [ok](#title) [web](https://example.com/missing.md) `[code](missing.md)`",
                "```",
                "[fenced](missing.md)",
                "```",
                "[moved](docs/runtime.md) and [stale](docs/internals/runtime.md#composition)",
            ]);

            var broken = MarkdownLinks.Broken(dir.FullName, ["README.md"]);

            Assert.Equal(
            [
                "README.md:7: docs/runtime.md (no such file)",
                "README.md:7: docs/internals/runtime.md#composition (no heading #composition in runtime.md)",
            ], broken);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
