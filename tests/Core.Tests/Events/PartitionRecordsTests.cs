using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Tests.Events;

public sealed class PartitionRecordsTests
{
    private static PartitionRecords Partition(params long[] offsets) =>
        new("t", 3, "t-3", [.. offsets.Select(o => new KafkaRecord(o, 1_700_000_000_000 + o, TimestampType.CreateTime, ByteRange.Null, ByteRange.Null, 0, 0, false, null))], duplicateOffsetsDropped: 0);

    [Fact]
    public void Subset_ReadsThePartitionsRecordsAtItsIndexes_AsTheArrayAndThroughTheIndexer()
    {
        var whole = Partition(10, 11, 12, 13, 14);

        var subset = whole.Subset([1, 3, 4]);

        Assert.Equal(3, subset.Count);
        Assert.Equal([11L, 13L, 14L], Enumerable.Range(0, subset.Count).Select(i => subset[i].Offset));
        Assert.Equal([11L, 13L, 14L], subset.Records.Select(r => r.Offset));
        Assert.Same(subset.Records, subset.Records);
        Assert.Equal((11L, 14L), (subset.FirstOffset, subset.LastOffset));
        Assert.Equal((whole.Topic, whole.Partition, whole.MapKey, 0), (subset.Topic, subset.Partition, subset.MapKey, subset.DuplicateOffsetsDropped));
        Assert.Same(whole.Records, whole.Records);
    }

    [Fact]
    public void ASubsetOfASubset_IndexesTheWholePartition()
    {
        var subset = Partition(10, 11, 12, 13, 14).Subset([0, 2, 4]).Subset([1, 2]);

        Assert.Equal([12L, 14L], subset.Records.Select(r => r.Offset));
    }

    [Theory]
    [InlineData(new[] { 2, 1 }, "index 1 of the subset of t-3 is 1: indexes must ascend, each below 5")]
    [InlineData(new[] { 1, 1 }, "index 1 of the subset of t-3 is 1: indexes must ascend, each below 5")]
    [InlineData(new[] { 0, 5 }, "index 1 of the subset of t-3 is 5: indexes must ascend, each below 5")]
    [InlineData(new[] { -1 }, "index 0 of the subset of t-3 is -1: indexes must ascend, each below 5")]
    public void Subset_RefusesIndexesOutOfOrderOrRange_NamingTheFirstWrongOne(int[] indexes, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => Partition(10, 11, 12, 13, 14).Subset(indexes));

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }
}
