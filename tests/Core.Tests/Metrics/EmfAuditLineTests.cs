using MskClickHouse.Core.Metrics;

namespace MskClickHouse.Core.Tests.Metrics;

public sealed class EmfAuditLineTests
{
    [Fact]
    public void PublishAudit_OneLinePerTable_UnderServiceAndTableAndUnderServiceAlone()
    {
        using var output = new CapturedOutput();
        var sink = new EmfMetricsSink(output.Writer, "MskClickHouse", "orders-sink", new FixedTime(new DateTimeOffset(2026, 11, 29, 22, 0, 0, TimeSpan.Zero)));

        sink.Publish(new AuditMetrics("db.orders", 2, 3));

        var line = Assert.Single(output.Json);
        var directive = Assert.Single(line.GetProperty("_aws").GetProperty("CloudWatchMetrics").EnumerateArray());
        Assert.Equal("MskClickHouse", directive.GetProperty("Namespace").GetString());
        Assert.Equal("""[["service","table"],["service"]]""", directive.GetProperty("Dimensions").GetRawText());
        Assert.Equal(["DuplicateOffsets", "MissingRecords"], directive.GetProperty("Metrics").EnumerateArray().Select(m => m.GetProperty("Name").GetString()));
        Assert.Equal("orders-sink", line.GetProperty("service").GetString());
        Assert.Equal("db.orders", line.GetProperty("table").GetString());
        Assert.Equal(2, line.GetProperty("DuplicateOffsets").GetInt64());
        Assert.Equal(3, line.GetProperty("MissingRecords").GetInt64());
    }
}
