using System.Text.RegularExpressions;

namespace MskClickHouse.Core.Tests.Architecture;

/// <summary>
/// Dependencies inside src/Core point one way (docs/architecture.md): a namespace may import only namespaces ranked
/// after it in <see cref="Ranks"/>. A total order leaves no room for a cycle, so this also keeps the namespaces acyclic.
/// Imports are read from the sources: <c>using MskClickHouse.Core.X</c> lines and fully-qualified
/// <c>MskClickHouse.Core.X.</c> references; sub-namespaces (Formats.Avro) count as their top-level folder.
/// </summary>
public partial class DependencyDirectionTests
{
    /// <summary>
    /// The entry first; then the stages, each before the models it consumes (delivery reads encoded rows, formats and
    /// rows read the decoded batch); then the shared services every stage may use.
    /// </summary>
    internal static readonly string[] Ranks =
    [
        "Audit",         // SINK_MODE=audit: a handler of its own over the state, target and dead-letter tables
        "Replay",        // SINK_MODE=replay: dead letters back through the sink's decoder and encoder (a handler, like Hosting's)
        "Hosting",       // the sink's invocation handler and composition root: drives the pipeline
        "Delivery",      // reconcile, token, state, insert, dead letters, retries
        "Evolution",     // SCHEMA_EVOLUTION / AUTO_CREATE_TABLES: new fields of the batch → ALTER/CREATE before the insert
        "Drift",         // sampled top-level field names vs the table's columns (UnknownFields)
        "Routing",       // topic → table and shape
        "Rows",          // table shape, row encoder, encoded partitions
        "Formats",       // registry-framed values (Avro, Protobuf, JSON Schema) → JSON
        "Cdc",           // Debezium change events → rows of a ReplacingMergeTree (_version, _is_deleted)
        "Events",        // the MSK event: batch model, decoder, metadata columns
        "Secrets",       // Secrets Manager, SigV4, credentials
        "Configuration", // the options record and its parser
        "ClickHouse",    // gateway, catalog, identifiers, SQL text, error classification
        "Metrics",       // EMF
        "Runtime",       // the Lambda Runtime API client, loop and bootstrap: a handler plugs in, nothing of the sink
        "Logging",       // structured log lines, invocation context
        "Json",          // the JSON text writer and the pooled buffer rows are written into
        "Errors",        // the sink's exception base
    ];

    [Fact]
    public void CoreSources_ImportOnlyNamespacesRankedAfterTheirOwn()
    {
        var violations = CoreSources().SelectMany(f => Violations(f.Path, f.Text)).ToList();

        Assert.True(violations.Count == 0, "upstream imports (docs/architecture.md):\n" + string.Join('\n', violations));
    }

    [Fact]
    public void CoreSources_DeclareTheNamespaceOfTheirFolder()
    {
        var wrong = new List<string>();
        foreach (var (path, text) in CoreSources())
        {
            var folder = Path.GetDirectoryName(path)!.Replace(Path.DirectorySeparatorChar, '.');
            var expected = folder.Length == 0 ? "MskClickHouse.Core" : "MskClickHouse.Core." + folder;
            var declared = NamespaceLine().Match(text);
            if (!declared.Success || declared.Groups[1].Value != expected)
            {
                wrong.Add($"src/Core/{path}: namespace {(declared.Success ? declared.Groups[1].Value : "(none)")}, folder says {expected}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public void EveryTopLevelCoreFolder_HasARank()
    {
        var folders = Directory.GetDirectories(CoreRoot())
            .Select(Path.GetFileName)
            .Where(n => n is not ("bin" or "obj"))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(Ranks.Order(StringComparer.Ordinal), folders);
    }

    [Fact]
    public void ArchitectureDoc_ShowsTheRanksAndEveryFolder()
    {
        var doc = File.ReadAllText(Path.Combine(CoreRoot(), "..", "..", "docs", "architecture.md"));

        Assert.Contains("    " + string.Join(" → ", Ranks) + "\n", doc.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.All(Ranks, r => Assert.Contains($"| `{r}/` |", doc, StringComparison.Ordinal));
    }

    [Fact]
    public void Violations_NameTheFileAndTheUpstreamImport()
    {
        const string source = """
            using MskClickHouse.Core.Errors;
            using MskClickHouse.Core.Hosting;

            namespace MskClickHouse.Core.Logging;

            // MskClickHouse.Core.Delivery.Reconciler in a comment is not an import
            public sealed class X { public object Y => new MskClickHouse.Core.Routing.TopicRouter(null!); }
            """;

        var found = Violations("Logging/X.cs", source);

        Assert.Equal(
            [
                "src/Core/Logging/X.cs: Logging imports Hosting (using MskClickHouse.Core.Hosting), which is upstream of it",
                "src/Core/Logging/X.cs: Logging imports Routing (MskClickHouse.Core.Routing.), which is upstream of it",
            ],
            found);
    }

    [Fact]
    public void Violations_NameAShortNameBackReference()
    {
        // Inside MskClickHouse.Core a sibling namespace needs no prefix: Hosting.X compiles in Logging without any using.
        const string source = """
            namespace MskClickHouse.Core.Logging;

            public sealed class X
            {
                private static readonly string Text = "Delivery.Retrier in a string is not an import";
                public object Y(object batch) => Hosting.InvocationAnswer.For(default, []);
            }
            """;

        var found = Violations("Logging/X.cs", source);

        Assert.Equal(["src/Core/Logging/X.cs: Logging imports Hosting (Hosting.), which is upstream of it"], found);
    }

    [Fact]
    public void Violations_NameAUsingAliasOfAnUpstreamType()
    {
        var found = Violations("Logging/X.cs", "using R = MskClickHouse.Core.Replay.ReplayHandler;\n\nnamespace MskClickHouse.Core.Logging;\n");

        Assert.Equal(["src/Core/Logging/X.cs: Logging imports Replay (MskClickHouse.Core.Replay.), which is upstream of it"], found);
    }

    [Fact]
    public void Runtime_MayNotImportTheSinksStagesOrOptions()
    {
        // The Lambda transport a handler plugs into: only logging, JSON and the error base rank after it.
        const string source = """
            using MskClickHouse.Core.Configuration;
            using MskClickHouse.Core.Errors;
            using MskClickHouse.Core.Logging;

            namespace MskClickHouse.Core.Runtime;

            public sealed class X { public object Y() => Hosting.InvocationAnswer.For(default, []); }
            """;

        var found = Violations("Runtime/X.cs", source);

        Assert.Equal(
            [
                "src/Core/Runtime/X.cs: Runtime imports Configuration (using MskClickHouse.Core.Configuration), which is upstream of it",
                "src/Core/Runtime/X.cs: Runtime imports Hosting (Hosting.), which is upstream of it",
            ],
            found);
    }

    [Fact]
    public void Violations_NameAnUnrankedNamespace()
    {
        var found = Violations("Decoding/X.cs", "namespace MskClickHouse.Core.Decoding;\n");

        Assert.Equal(["src/Core/Decoding/X.cs: namespace Decoding has no rank in DependencyDirectionTests.Ranks"], found);
    }

    internal static List<string> Violations(string path, string text)
    {
        var result = new List<string>();
        var declared = NamespaceLine().Match(text);
        if (!declared.Success)
        {
            result.Add($"src/Core/{path}: no file-scoped namespace");
            return result;
        }

        var own = TopLevel(declared.Groups[1].Value);
        var ownRank = Array.IndexOf(Ranks, own);
        if (ownRank < 0)
        {
            result.Add($"src/Core/{path}: namespace {own} has no rank in DependencyDirectionTests.Ranks");
            return result;
        }

        var code = CodeOnly(text);
        var imports = UsingLine().Matches(text).Select(m => (Name: TopLevel(m.Groups[1].Value), Shown: $"using MskClickHouse.Core.{m.Groups[1].Value}"))
            .Concat(QualifiedReference().Matches(code).Select(m => (Name: m.Groups[1].Value, Shown: $"MskClickHouse.Core.{m.Groups[1].Value}.")))
            .Concat(ShortReferences(code))
            .Where(i => i.Name != own)
            .DistinctBy(i => i.Name);
        foreach (var (name, shown) in imports)
        {
            var rank = Array.IndexOf(Ranks, name);
            if (rank < 0)
            {
                result.Add($"src/Core/{path}: {own} imports {name} ({shown}), which has no rank");
            }
            else if (rank < ownRank)
            {
                result.Add($"src/Core/{path}: {own} imports {name} ({shown}), which is upstream of it");
            }
        }

        return result;
    }

    /// <summary>
    /// References by the short name a file inside <c>MskClickHouse.Core</c> may use for a sibling namespace
    /// (<c>Formats.FramedValueDecoder</c>, <c>Hosting.X</c>): every ranked name followed by a dot and a type or namespace
    /// name, not preceded by another name or a dot (so <c>batch.Rows</c> or <c>enc.Rows(</c> are not references).
    /// </summary>
    private static IEnumerable<(string Name, string Shown)> ShortReferences(string code)
    {
        foreach (Match m in ShortReference().Matches(code))
        {
            var name = m.Groups[1].Value;
            if (Array.IndexOf(Ranks, name) >= 0)
            {
                yield return (name, $"{name}.");
            }
        }
    }

    private static string TopLevel(string name)
    {
        var rest = name.StartsWith("MskClickHouse.Core.", StringComparison.Ordinal) ? name["MskClickHouse.Core.".Length..] : name;
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? rest : rest[..dot];
    }

    /// <summary>
    /// The text without comments, string literals, using lines and the namespace line: what the compiler resolves as code.
    /// A using alias (<c>using X = MskClickHouse.Core.Y.Z;</c>) stays: its target is a qualified reference.
    /// </summary>
    private static string CodeOnly(string text) =>
        StringLiteral().Replace(
            string.Join('\n', text.Split('\n').Select(l => l.TrimStart()).Where(l => !l.StartsWith("//", StringComparison.Ordinal)
                && !(l.StartsWith("using ", StringComparison.Ordinal) && !l.Contains('=', StringComparison.Ordinal)) && !l.StartsWith("namespace ", StringComparison.Ordinal))),
            "\"\"");

    private static IEnumerable<(string Path, string Text)> CoreSources()
    {
        var root = CoreRoot();
        return Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => !f.StartsWith("obj", StringComparison.Ordinal) && !f.StartsWith("bin", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => (f, File.ReadAllText(Path.Combine(root, f))));
    }

    private static string CoreRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
            {
                return Path.Combine(dir.FullName, "src", "Core");
            }
        }

        throw new InvalidOperationException($"no Serverless.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^using (?:static )?MskClickHouse\.Core\.([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"(?<![\w.])MskClickHouse\.Core\.(\w+)\.")]
    private static partial Regex QualifiedReference();

    [GeneratedRegex(@"(?<![\w.@])([A-Z]\w*)\.(?=[A-Z])")]
    private static partial Regex ShortReference();

    /// <summary>Regular and interpolated string literals on one line (their text is not code), raw and u8 ones included.</summary>
    [GeneratedRegex(@"\$?@?""(?:[^""\\\n]|\\.)*""(?:u8)?")]
    private static partial Regex StringLiteral();
}
