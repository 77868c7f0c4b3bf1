using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>Recognising records among the rows a table holds: by offset, and by timestamp where the table keeps one.</summary>
public sealed class RecordPresenceTests
{
    private static KafkaRecord Record(long offset, long timestampMs) => new(offset, timestampMs, TimestampType.CreateTime, ByteRange.Null, ByteRange.Null, 0, 0, false, null);

    [Fact]
    public void Present_WithTimestamps_MatchesOffsetAndSecond_SoARecreatedTopicsRecordIsMissing()
    {
        var answer = Encoding.UTF8.GetBytes("0\t1764000000\n1\t1764000000\n2\t1764000001\n");
        var old = new[] { Record(0, 1_764_000_000_000), Record(1, 1_764_000_000_999), Record(2, 1_764_000_001_500) };
        var recreated = new[] { Record(0, 1_764_086_400_000), Record(1, 1_764_000_000_500), Record(3, 1_764_000_001_000) };

        Assert.Equal([0L, 1L, 2L], RecordPresence.Present(answer, old).Order());
        Assert.Equal([1L], RecordPresence.Present(answer, recreated));
    }

    [Fact]
    public void Present_RowWithoutATimestamp_MatchesByOffset()
    {
        var answer = Encoding.UTF8.GetBytes("1\t0\n");
        Assert.Equal([1L], RecordPresence.Present(answer, [Record(1, 1_764_000_000_000)]));
    }

    [Fact]
    public void Present_OffsetsOnly_MatchesTheOffset()
    {
        var answer = Encoding.UTF8.GetBytes("5\n7\n");
        Assert.Equal([5L, 7L], RecordPresence.Present(answer, [Record(5, 1), Record(6, 2), Record(7, 3)]).Order());
        Assert.Empty(RecordPresence.Present(ReadOnlyMemory<byte>.Empty, [Record(5, 1)]));
    }

    [Theory]
    [InlineData(1_764_000_000_999L, 1_764_000_000L)]
    [InlineData(0L, 0L)]
    [InlineData(-1L, -1L)]
    [InlineData(-1000L, -1L)]
    public void Seconds_FloorsLikeToUnixTimestamp(long ms, long seconds) => Assert.Equal(seconds, RecordPresence.Seconds(ms));

    [Fact]
    public void TableQuery_SelectsTheTimestampOnlyWhenTheTableHasIt_AndFiltersTheSource()
    {
        var table = new TableName("db", "t");
        var withTs = RecordPresence.TableQuery(table, MetadataColumnSets.ClickPipes | MetadataColumns.Source, "arn", "orders", 3, new OffsetRange(10, 19));
        var without = RecordPresence.TableQuery(table, MetadataColumns.Topic | MetadataColumns.Partition | MetadataColumns.Offset, "arn", "orders", 3, new OffsetRange(10, 19), [12, 14]);

        Assert.StartsWith("SELECT _offset, toUnixTimestamp(_timestamp) FROM `db`.`t` WHERE _topic = 'orders' AND _partition = 3 AND _source = 'arn' AND _offset BETWEEN 10 AND 19 ", withTs, StringComparison.Ordinal);
        Assert.StartsWith("SELECT _offset FROM `db`.`t` WHERE _topic = 'orders' AND _partition = 3 AND _offset BETWEEN 10 AND 19 AND _offset IN (12, 14) ", without, StringComparison.Ordinal);
        Assert.Contains("select_sequential_consistency = 1", withTs, StringComparison.Ordinal);
        Assert.StartsWith("SELECT offset, toUnixTimestamp(timestamp) FROM `db`.`dlq` WHERE sink_id = 's' AND source = 'arn' AND topic = 'orders' AND partition = 3 AND offset BETWEEN 10 AND 19 ", RecordPresence.DeadLetterQuery(new TableName("db", "dlq"), "s", "arn", "orders", 3, new OffsetRange(10, 19)), StringComparison.Ordinal);
    }
}
