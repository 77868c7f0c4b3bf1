using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;

namespace MskClickHouse.Core.Tests.Metrics;

public sealed class EmfTableCountTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 22, 0, 0, 5, TimeSpan.Zero);

    [Fact]
    public void PublishTableCount_WritesOneEmfLine_WithServiceAndTableDimensions_AndTheRequestId()
    {
        using var output = new CapturedOutput();
        var sink = new EmfMetricsSink(output.Writer, "MskClickHouse", "orders-sink", new FixedTime(Now));
        var context = new InvocationContext("req-1", Now.AddMinutes(1), "arn:aws:lambda:us-east-1:123456789012:function:f", null);
        sink.InvocationStarted(context, coldStart: false);

        sink.PublishTableCount("UnknownFields", "shop.orders", 3);

        var line = Assert.Single(output.Json);
        var directive = Assert.Single(line.GetProperty("_aws").GetProperty("CloudWatchMetrics").EnumerateArray());
        Assert.Equal(Now.ToUnixTimeMilliseconds(), line.GetProperty("_aws").GetProperty("Timestamp").GetInt64());
        Assert.Equal("MskClickHouse", directive.GetProperty("Namespace").GetString());
        Assert.Equal(["service", "table"], Assert.Single(directive.GetProperty("Dimensions").EnumerateArray()).EnumerateArray().Select(d => d.GetString()!));
        var metric = Assert.Single(directive.GetProperty("Metrics").EnumerateArray());
        Assert.Equal(("UnknownFields", "Count"), (metric.GetProperty("Name").GetString(), metric.GetProperty("Unit").GetString()));
        Assert.Equal("orders-sink", line.GetProperty("service").GetString());
        Assert.Equal("shop.orders", line.GetProperty("table").GetString());
        Assert.Equal("req-1", line.GetProperty("function_request_id").GetString());
        Assert.Equal(3, line.GetProperty("UnknownFields").GetInt64());
    }
}
