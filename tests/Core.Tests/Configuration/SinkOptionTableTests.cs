using System.Text.RegularExpressions;
using MskClickHouse.Core.Configuration;

namespace MskClickHouse.Core.Tests.Configuration;

/// <summary>SinkOptionTable is the one list of options: the template's function environment and the docs agree with it.</summary>
public partial class SinkOptionTableTests
{
    /// <summary>
    /// Every function of the template runs the same bootstrap: the sink function sets the options marked Set; the audit
    /// and replay functions set those too (same ClickHouse, tables and sink id) plus the ones marked for their mode.
    /// </summary>
    [Theory]
    [InlineData("MskToClickHouseFunction", SinkMode.Sink)]
    [InlineData("AuditFunction", SinkMode.Audit)]
    [InlineData("ReplayFunction", SinkMode.Replay)]
    public void Template_EachFunctionSetsExactlyTheOptionsTheTableSaysItSets(string function, SinkMode mode)
    {
        var template = File.ReadAllLines(RepoFile("template.yaml"));
        var resource = Array.IndexOf(template, $"  {function}:");
        Assert.True(resource >= 0, $"template.yaml has no resource {function}");
        var start = Array.FindIndex(template, resource, l => l.Trim() == "Variables:");
        Assert.True(start >= 0, $"{function} has no Environment Variables block");
        var indent = template[start + 1].Length - template[start + 1].TrimStart().Length;
        var set = template.Skip(start + 1)
            .TakeWhile(l => l.Trim().Length == 0 || l.Length - l.TrimStart().Length >= indent)
            .Select(l => TemplateVariable().Match(l))
            .Where(m => m.Success && m.Groups[1].Length == indent)
            .Select(m => m.Groups[2].Value)
            .Order(StringComparer.Ordinal)
            .ToList();

        var expected = SinkOptionTable.All
            .Where(o => o.Template == TemplateUse.Set || (o.Template == TemplateUse.ModeFunctions && o.Modes.Contains(mode)))
            .Select(o => o.Name)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(expected, set);
    }

    [Fact]
    public void ModeFunctionOptions_NameTheirModes_AndOnlyThey()
    {
        Assert.All(SinkOptionTable.All, o => Assert.Equal(o.Template == TemplateUse.ModeFunctions, o.Modes.Count > 0));
    }

    [Fact]
    public void Docs_ListEveryOptionWithTheTablesDefault()
    {
        var rows = File.ReadAllLines(RepoFile("docs/configuration.md"))
            .Select(l => DocRow().Match(l))
            .Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim(), StringComparer.Ordinal);

        Assert.All(SinkOptionTable.All, o =>
        {
            Assert.True(rows.TryGetValue(o.Name, out var shown), $"docs/configuration.md has no row for {o.Name}");
            Assert.Equal(o.DocDefault, shown);
        });
        Assert.Empty(rows.Keys.Except(SinkOptionTable.All.Select(o => o.Name)));
    }

    [Fact]
    public void Parser_ReadsEveryOptionOfTheTable()
    {
        var parser = File.ReadAllText(RepoFile("src/Core/Configuration/SinkOptionsParser.cs"))
            + File.ReadAllText(RepoFile("src/Core/Configuration/SchemaRegistryOptions.cs"));

        Assert.All(SinkOptionTable.All, o => Assert.Contains($"\"{o.Name}\"", parser, StringComparison.Ordinal));
    }

    [Fact]
    public void Defaults_AreTheParsedValuesOfAnEmptyEnvironment()
    {
        var parsed = SinkOptionsParser.Parse(new Dictionary<string, string?> { ["CLICKHOUSE_URL"] = "https://h:8443", ["SINK_ID"] = "s" });

        Assert.Equal(SinkOptionTable.Default("CLICKHOUSE_USER"), parsed.User);
        Assert.Equal(SinkOptionTable.IntDefault("INSERT_PARALLELISM"), parsed.InsertParallelism);
        Assert.Equal(TimeSpan.FromMilliseconds(SinkOptionTable.IntDefault("CLICKHOUSE_TIMEOUT_MS")), parsed.RequestTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(SinkOptionTable.IntDefault("DEADLINE_SAFETY_MARGIN_MS")), parsed.DeadlineSafetyMargin);
        Assert.Equal(SinkOptionTable.Default("DEAD_LETTER_TABLE"), parsed.DeadLetterTable.Table);
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

    [GeneratedRegex(@"^( *)([A-Z][A-Z0-9_]+):")]
    private static partial Regex TemplateVariable();

    /// <summary>A row of the options table: <c>| `NAME` | default | meaning |</c> (also <c>`A` / `B`</c>: the first name).</summary>
    [GeneratedRegex(@"^\| `([A-Z][A-Z0-9_]+)`(?: / `[A-Z_]+`)? \| ([^|]*) \|")]
    private static partial Regex DocRow();
}
