using System.Text.Json;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Tests.Logging;

public sealed class JsonLogTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 15, 4, 5, 123, TimeSpan.Zero);

    private static readonly JsonLogOptions Options = new()
    {
        Service = "orders-sink",
        MinimumLevel = LogLevel.Information,
        FunctionName = "msk-clickhouse-sink",
        FunctionMemorySize = "512",
    };

    private static readonly InvocationContext Context = new(
        "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        Now.AddSeconds(30),
        "arn:aws:lambda:eu-west-1:123456789012:function:msk-clickhouse-sink",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");

    [Fact]
    public void Write_OutsideAnInvocation_HasPowertoolsBaseKeys()
    {
        using var output = new CapturedOutput();
        var log = new JsonLog(output.Writer, Options, new FixedTime(Now));

        log.Write(LogLevel.Information, "started");

        var line = Assert.Single(output.Json);
        Assert.Equal("Information", line.GetProperty("level").GetString());
        Assert.Equal("started", line.GetProperty("message").GetString());
        Assert.Equal("2026-11-25T15:04:05.123Z", line.GetProperty("timestamp").GetString());
        Assert.Equal("orders-sink", line.GetProperty("service").GetString());
        Assert.Equal("msk-clickhouse-sink", line.GetProperty("function_name").GetString());
        Assert.Equal(512, line.GetProperty("function_memory_size").GetInt32());
        Assert.False(line.TryGetProperty("function_request_id", out _));
        Assert.False(line.TryGetProperty("cold_start", out _));
    }

    [Fact]
    public void Write_DuringAnInvocation_HasRequestIdArnTraceRootAndColdStart()
    {
        using var output = new CapturedOutput();
        var log = new JsonLog(output.Writer, Options, new FixedTime(Now));

        log.InvocationStarted(Context, coldStart: true);
        log.Write(LogLevel.Warning, "first");
        log.InvocationEnded(Context);
        log.InvocationStarted(Context with { RequestId = "second-id" }, coldStart: false);
        log.Write(LogLevel.Warning, "second");

        var lines = output.Json;
        Assert.True(lines[0].GetProperty("cold_start").GetBoolean());
        Assert.Equal(Context.RequestId, lines[0].GetProperty("function_request_id").GetString());
        Assert.Equal(Context.InvokedFunctionArn, lines[0].GetProperty("function_arn").GetString());
        Assert.Equal("1-5759e988-bd862e3fe1be46a994272793", lines[0].GetProperty("xray_trace_id").GetString());
        Assert.False(lines[1].GetProperty("cold_start").GetBoolean());
        Assert.Equal("second-id", lines[1].GetProperty("function_request_id").GetString());
    }

    [Theory]
    [InlineData(LogLevel.Trace, "Trace")]
    [InlineData(LogLevel.Debug, "Debug")]
    [InlineData(LogLevel.Information, "Information")]
    [InlineData(LogLevel.Warning, "Warning")]
    [InlineData(LogLevel.Error, "Error")]
    [InlineData(LogLevel.Critical, "Critical")]
    public void Write_Level_IsNamedAsPowertoolsNamesIt(LogLevel level, string expected)
    {
        using var output = new CapturedOutput();
        var log = new JsonLog(output.Writer, Options with { MinimumLevel = LogLevel.Trace }, new FixedTime(Now));

        log.Write(level, "x");

        Assert.Equal(expected, Assert.Single(output.Json).GetProperty("level").GetString());
    }

    [Fact]
    public void Write_BelowTheMinimumLevel_WritesNothing()
    {
        using var output = new CapturedOutput();
        var log = new JsonLog(output.Writer, Options with { MinimumLevel = LogLevel.Warning }, new FixedTime(Now));

        log.Write(LogLevel.Information, "quiet");
        log.Write(LogLevel.Debug, "quieter");

        Assert.Empty(output.Lines);
        Assert.False(log.IsEnabled(LogLevel.Information));
        Assert.True(log.IsEnabled(LogLevel.Error));
    }

    [Fact]
    public void Write_Fields_AreWrittenWhenSetAndOnlyThen()
    {
        using var output = new CapturedOutput();
        var log = new JsonLog(output.Writer, Options, new FixedTime(Now));

        log.Write(LogLevel.Information, "inserted", new LogFields(
            Topic: "orders", Partition: 3, Offset: 100, LastOffset: 199, Table: "db.orders", ErrorCode: 27,
            Numbers: [new("rows", 100)], Strings: [new("query_id", "q-1")]));
        log.Write(LogLevel.Information, "bare", new LogFields(Topic: "orders"));

        var full = output.Json[0];
        Assert.Equal("orders", full.GetProperty("topic").GetString());
        Assert.Equal(3, full.GetProperty("partition").GetInt32());
        Assert.Equal(100, full.GetProperty("offset").GetInt64());
        Assert.Equal(199, full.GetProperty("last_offset").GetInt64());
        Assert.Equal("db.orders", full.GetProperty("table").GetString());
        Assert.Equal(27, full.GetProperty("error_code").GetInt32());
        Assert.Equal(100, full.GetProperty("rows").GetInt64());
        Assert.Equal("q-1", full.GetProperty("query_id").GetString());
        var bare = output.Json[1];
        foreach (var absent in new[] { "partition", "offset", "last_offset", "table", "error_code", "exception" })
        {
            Assert.False(bare.TryGetProperty(absent, out _), absent);
        }
    }

    [Fact]
    public void Write_Exception_HasTypeMessageAndStack()
    {
        using var output = new CapturedOutput();
        var log = new JsonLog(output.Writer, Options, new FixedTime(Now));
        Exception caught;
        try
        {
            throw new InvalidOperationException("outer", new TimeoutException("inner"));
        }
        catch (InvalidOperationException e)
        {
            caught = e;
        }

        log.Write(LogLevel.Error, "failed", exception: caught);

        var exception = Assert.Single(output.Json).GetProperty("exception");
        Assert.Equal("System.InvalidOperationException", exception.GetProperty("type").GetString());
        Assert.Equal("outer", exception.GetProperty("message").GetString());
        Assert.Contains(nameof(Write_Exception_HasTypeMessageAndStack), exception.GetProperty("stack_trace").GetString(), StringComparison.Ordinal);
        Assert.Equal("System.TimeoutException", exception.GetProperty("inner_exception").GetProperty("type").GetString());
    }

    [Fact]
    public void Write_MessageWithQuotesAndNewlines_StaysOneValidLine()
    {
        using var output = new CapturedOutput();
        var log = new JsonLog(output.Writer, Options, new FixedTime(Now));

        log.Write(LogLevel.Information, "a \"quoted\"\nmulti-line message ü");

        Assert.Equal("a \"quoted\"\nmulti-line message ü", Assert.Single(output.Json).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Write_FromManyThreads_NeverInterleavesLines()
    {
        using var output = new CapturedOutput();
        var log = new JsonLog(output.Writer, Options, new FixedTime(Now));

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 250; i++)
            {
                log.Write(LogLevel.Information, $"thread {t} line {i}", new LogFields(Partition: t, Offset: i));
            }
        }, TestContext.Current.CancellationToken)));

        var lines = output.Lines;
        Assert.Equal(2000, lines.Count);
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());
    }

    [Fact]
    public void Options_From_TakesServiceAndLevelFromSinkOptionsAndFunctionFromEnvironment()
    {
        var env = new Dictionary<string, string?>
        {
            ["AWS_LAMBDA_FUNCTION_NAME"] = "f",
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "1024",
            ["CLICKHOUSE_URL"] = "http://localhost:8123",
            ["CLICKHOUSE_ALLOW_HTTP"] = "true",
            ["POWERTOOLS_SERVICE_NAME"] = "svc",
            ["POWERTOOLS_LOG_LEVEL"] = "DEBUG",
        };

        var sink = SinkOptionsParser.Parse(env);
        var options = JsonLogOptions.From(sink.ServiceName, sink.LogLevel, env);

        Assert.Equal("svc", options.Service);
        Assert.Equal(LogLevel.Debug, options.MinimumLevel);
        Assert.Equal("f", options.FunctionName);
        Assert.Equal("1024", options.FunctionMemorySize);
    }
}
