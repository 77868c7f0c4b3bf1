using MskClickHouse.LocalRun;

namespace MskClickHouse.Tools.Tests.LocalRun;

/// <summary>./run.sh's command line: defaults, and every refusal names the option and what it expected.</summary>
public sealed class LocalRunOptionsTests
{
    [Fact]
    public void Parse_NoArguments_SampleEventsWithTheDocumentedDefaults()
    {
        var o = LocalRunOptions.Parse([]);

        Assert.Empty(o.EventFiles);
        Assert.Equal(0, o.Generate);
        Assert.Equal(["orders", "clicks"], o.Topics);
        Assert.Equal((4, 500, 200, 0.01, "json"), (o.Partitions, o.BatchSize, o.RecordBytes, o.BadRatio, o.ValueFormat));
        Assert.Null(o.ChaosSeed);
        Assert.Equal("sync", o.InsertMode);
        Assert.Null(o.ClickHouseUrl);
        Assert.False(o.Routing);
    }

    [Fact]
    public void Parse_Routing_AddsTheRoutingExample() => Assert.True(LocalRunOptions.Parse(["--routing"]).Routing);

    [Fact]
    public void Parse_GenerateWithEveryOption_TakesThem()
    {
        var o = LocalRunOptions.Parse(["--generate", "1000", "--topics", "a, b_2", "--partitions", "3", "--value-format", "AVRO", "--bad-ratio", "0.5", "--chaos", "9", "--insert-mode", "ASYNC", "--clickhouse-url", "https://ch.example.com:8443", "--keep"]);

        Assert.Equal(1000, o.Generate);
        Assert.Equal(["a", "b_2"], o.Topics);
        Assert.Equal(3, o.Partitions);
        Assert.Equal("avro", o.ValueFormat);
        Assert.Equal(0.5, o.BadRatio);
        Assert.Equal(9, o.ChaosSeed);
        Assert.Equal("async", o.InsertMode);
        Assert.Equal(new Uri("https://ch.example.com:8443"), o.ClickHouseUrl);
        Assert.True(o.Keep);
    }

    [Theory]
    [InlineData("--generate 0", "--generate: expected an integer in [1, 100000000], got '0'")]
    [InlineData("--partitions", "--partitions needs a value")]
    [InlineData("--topics a-b", "--topics: expected comma-separated names of letters, digits and '_'")]
    [InlineData("--value-format xml --generate 5", "--value-format: expected json, avro or protobuf, got 'xml'")]
    [InlineData("--value-format avro", "--value-format needs --generate N")]
    [InlineData("--chaos 1", "--chaos needs --generate N")]
    [InlineData("--events e.json --generate 5", "use either --events or --generate")]
    [InlineData("--bad-ratio 2 --generate 5", "--bad-ratio: expected a number in [0, 1], got '2'")]
    [InlineData("--clickhouse-url ftp://x", "--clickhouse-url: expected an http(s) URL, got 'ftp://x'")]
    [InlineData("--insert-mode buffered", "--insert-mode: expected sync or async, got 'buffered'")]
    [InlineData("--frobnicate", "unknown option '--frobnicate'")]
    [InlineData("--cdc --generate 5", "--cdc sends its own generated change history: drop --events, --generate, --chaos and --keep")]
    [InlineData("--cdc --keep", "--cdc sends its own generated change history: drop --events, --generate, --chaos and --keep")]
    public void Parse_BadInput_IsAUsageErrorThatSaysWhat(string args, string message)
    {
        var e = Assert.Throws<UsageException>(() => LocalRunOptions.Parse(args.Split(' ')));

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Parse_Cdc_TakesPartitionsAndBatchSize()
    {
        var o = LocalRunOptions.Parse(["--cdc", "--partitions", "2", "--batch-size", "7"]);

        Assert.True(o.Cdc);
        Assert.Equal(2, o.Partitions);
        Assert.Equal(7, o.BatchSize);
        Assert.False(LocalRunOptions.Parse([]).Cdc);
    }
}
