using MskClickHouse.Bench.EndToEnd;
using MskClickHouse.Bench.EndToEnd.Sections;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Bench.Tests;

/// <summary>The bench's pure parts: options, the scale simulation's events, percentiles.</summary>
public sealed class BenchPiecesTests
{
    [Fact]
    public void Options_Scale_RunsOnlyTheScaleSection()
    {
        var o = BenchOptions.Parse(["--scale", "--scale-processes", "1,4", "--scale-partitions", "8"]);
        Assert.True(o.Runs(BenchSection.Scale));
        Assert.False(o.Runs(BenchSection.EndToEnd));
        Assert.Equal([1, 4], o.ScaleProcesses);
        Assert.Equal([8], o.ScalePartitions);
    }

    [Fact]
    public void Options_SectionsCost_BringsTheSectionsItIsComputedFrom()
    {
        var o = BenchOptions.Parse(["--sections", "cost"]);
        Assert.True(o.Runs(BenchSection.EndToEnd));
        Assert.True(o.Runs(BenchSection.Compression));
        Assert.False(o.Runs(BenchSection.ColdStart));
        Assert.False(o.Runs(BenchSection.Scale));
    }

    [Fact]
    public void Options_UnknownSection_IsRefusedWithTheKnownNames()
    {
        var e = Assert.Throws<ArgumentException>(() => BenchOptions.Parse(["--sections", "e2e,warp"]));
        Assert.Contains("warp", e.Message, StringComparison.Ordinal);
        Assert.Contains("scale", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScaleEvents_ConsecutiveEventsOfAPartition_CarryConsecutiveOffsetsOfThatPartitionOnly()
    {
        var events = new ScaleEvents(partitions: 3, records: 5, valueBytes: 100);
        using var first = KafkaEventDecoder.Decode(events.Next(2));
        using var second = KafkaEventDecoder.Decode(events.Next(2));
        using var other = KafkaEventDecoder.Decode(events.Next(0));

        var p = Assert.Single(first.Partitions);
        Assert.Equal(("topic-a", 2), (p.Topic, p.Partition));
        Assert.Equal(5, p.Records.Length);
        var q = Assert.Single(second.Partitions);
        Assert.Equal(p.LastOffset + 1, q.FirstOffset);
        Assert.Equal(q.FirstOffset + 4, q.LastOffset);
        Assert.Equal(0, Assert.Single(other.Partitions).Partition);
        Assert.Equal(15, events.RecordsSent);
    }

    [Theory]
    [InlineData(50, 5)]
    [InlineData(95, 10)]
    [InlineData(100, 10)]
    [InlineData(1, 1)]
    public void Percentile_NearestRank(double p, double expected) =>
        Assert.Equal(expected, Stats.Percentile([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], p));
}
