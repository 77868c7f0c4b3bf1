using System.Text.Json;
using MskClickHouse.LocalRun;

namespace MskClickHouse.Tools.Tests.LocalRun;

/// <summary>--events FILE... and the default events/*.json: every file checked, the samples in offset order.</summary>
public sealed class EventFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("localrun-events-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Load_DefaultSamples_ComeInOrderOfTheirLowestOffset()
    {
        Directory.CreateDirectory(Path.Combine(_root, "events"));
        File.WriteAllText(Path.Combine(_root, "events", "a.json"), """{"records":{"t-0":[{"topic":"t","offset":20}]}}""");
        File.WriteAllText(Path.Combine(_root, "events", "b.json"), """{"records":{"t-0":[{"topic":"t","offset":3},{"topic":"t","offset":30}]}}""");

        var batches = EventFiles.Load([], _root);

        Assert.Equal([3L, 20L], batches.Select(FirstOffset));
    }

    [Theory]
    [InlineData("[1,2]", "is not an MSK event: no \"records\" object")]
    [InlineData("{\"records\":", "is not valid JSON")]
    [InlineData("{\"records\":{\"t-0\":[{\"offset\":1}]}}", "is not an MSK event")]
    public void Load_FileThatIsNotAnMskEvent_NamesTheFile(string text, string problem)
    {
        var file = Path.Combine(_root, "bad.json");
        File.WriteAllText(file, text);

        var e = Assert.Throws<LocalRunException>(() => EventFiles.Load([file], _root));

        Assert.StartsWith($"event file '{file}' {problem}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NoFilesAndNoSamples_SaysHowToGiveSome()
    {
        var e = Assert.Throws<LocalRunException>(() => EventFiles.Load([], _root));

        Assert.Contains("--events FILE... or --generate N", e.Message, StringComparison.Ordinal);
    }

    private static long FirstOffset(byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload);
        return doc.RootElement.GetProperty("records").EnumerateObject().First().Value[0].GetProperty("offset").GetInt64();
    }
}
