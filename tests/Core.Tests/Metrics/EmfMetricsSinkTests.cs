using System.Text.Json;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;

namespace MskClickHouse.Core.Tests.Metrics;

public sealed class EmfMetricsSinkTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 15, 4, 5, 123, TimeSpan.Zero);

    private static readonly InvocationMetrics Full = new()
    {
        RecordsReceived = 500,
        RowsInserted = 490,
        DeadLettered = 7,
        Replayed = 2,
        PossibleDuplicates = 1,
        TombstonesSkipped = 3,
        UnroutedSkipped = 4,
        InsertLatencyMs = 41.25,
        BatchBytes = 123_456,
        RecordLagMs = 1500,
        FailedPartitions = 0,
        NonDeduplicatingTables = 1,
        QueryLimitPartitions = 2,
    };

    [Fact]
    public void Publish_WritesOneEmfLine_WhoseDirectiveNamesEveryMetricMemberWithItsUnit()
    {
        using var output = new CapturedOutput();
        var sink = new EmfMetricsSink(output.Writer, "MskClickHouse", "orders-sink", new FixedTime(Now));

        sink.Publish(Full);

        var line = Assert.Single(output.Json);
        var aws = line.GetProperty("_aws");
        Assert.Equal(Now.ToUnixTimeMilliseconds(), aws.GetProperty("Timestamp").GetInt64());
        var directive = Assert.Single(aws.GetProperty("CloudWatchMetrics").EnumerateArray());
        Assert.Equal("MskClickHouse", directive.GetProperty("Namespace").GetString());
        var dimensionSet = Assert.Single(directive.GetProperty("Dimensions").EnumerateArray());
        Assert.Equal(["service"], dimensionSet.EnumerateArray().Select(d => d.GetString()!));
        Assert.Equal("orders-sink", line.GetProperty("service").GetString());

        var units = directive.GetProperty("Metrics").EnumerateArray()
            .ToDictionary(m => m.GetProperty("Name").GetString()!, m => m.GetProperty("Unit").GetString()!);
        var expected = new Dictionary<string, (string Unit, double Value)>
        {
            ["RecordsReceived"] = ("Count", 500),
            ["RowsInserted"] = ("Count", 490),
            ["DeadLettered"] = ("Count", 7),
            ["Replayed"] = ("Count", 2),
            ["PossibleDuplicates"] = ("Count", 1),
            ["TombstonesSkipped"] = ("Count", 3),
            ["UnroutedSkipped"] = ("Count", 4),
            ["FailedPartitions"] = ("Count", 0),
            ["NonDeduplicatingTables"] = ("Count", 1),
            ["RefusedPartitions"] = ("Count", 0),
            ["UnidentifiedRecords"] = ("Count", 0),
            ["RefusedRoutes"] = ("Count", 0),
            ["QueryLimitPartitions"] = ("Count", 2),
            ["InsertLatencyMs"] = ("Milliseconds", 41.25),
            ["RecordLagMs"] = ("Milliseconds", 1500),
            ["BatchBytes"] = ("Bytes", 123_456),
        };
        Assert.Equal(expected.Keys.Order(), units.Keys.Order());
        foreach (var (name, (unit, value)) in expected)
        {
            Assert.Equal(unit, units[name]);
            Assert.Equal(JsonValueKind.Number, line.GetProperty(name).ValueKind);
            Assert.Equal(value, line.GetProperty(name).GetDouble());
        }
    }

    [Fact]
    public void Publish_EveryDirectiveReference_IsARootMember()
    {
        using var output = new CapturedOutput();
        var sink = new EmfMetricsSink(output.Writer, "Ns", "svc", new FixedTime(Now));

        sink.Publish(Full with { RecordLagMs = null });

        var line = Assert.Single(output.Json);
        var directive = line.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0];
        foreach (var metric in directive.GetProperty("Metrics").EnumerateArray())
        {
            Assert.True(line.TryGetProperty(metric.GetProperty("Name").GetString()!, out _));
        }

        foreach (var dimension in directive.GetProperty("Dimensions")[0].EnumerateArray())
        {
            Assert.Equal(JsonValueKind.String, line.GetProperty(dimension.GetString()!).ValueKind);
        }
    }

    [Fact]
    public void Publish_EmptyBatch_LeavesRecordLagOutOfDirectiveAndRoot()
    {
        using var output = new CapturedOutput();
        var sink = new EmfMetricsSink(output.Writer, "Ns", "svc", new FixedTime(Now));

        sink.Publish(new InvocationMetrics());

        var line = Assert.Single(output.Json);
        Assert.False(line.TryGetProperty("RecordLagMs", out _));
        Assert.DoesNotContain(
            line.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0].GetProperty("Metrics").EnumerateArray(),
            m => m.GetProperty("Name").GetString() == "RecordLagMs");
    }

    [Fact]
    public void Publish_DuringAnInvocation_CarriesTheRequestId()
    {
        using var output = new CapturedOutput();
        var sink = new EmfMetricsSink(output.Writer, "Ns", "svc", new FixedTime(Now));
        var context = new InvocationContext("req-1", Now.AddSeconds(10), "arn", null);

        sink.InvocationStarted(context, coldStart: true);
        sink.Publish(Full);
        sink.InvocationEnded(context);
        sink.Publish(Full);

        Assert.Equal("req-1", output.Json[0].GetProperty("function_request_id").GetString());
        Assert.False(output.Json[1].TryGetProperty("function_request_id", out _));
    }

    [Fact]
    public void Publish_NotFiniteLatency_StillWritesValidJson()
    {
        using var output = new CapturedOutput();
        var sink = new EmfMetricsSink(output.Writer, "Ns", "svc", new FixedTime(Now));

        sink.Publish(Full with { InsertLatencyMs = double.NaN });

        Assert.Equal(0, Assert.Single(output.Json).GetProperty("InsertLatencyMs").GetDouble());
    }
}
