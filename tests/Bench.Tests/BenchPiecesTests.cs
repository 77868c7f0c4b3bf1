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
    public void Workload_TopicPerType_MovesEachRecordToTheTopicOfItsEventType_KeepingItsBytesAndOrder()
    {
        var mskEvent = new Workload(records: 90, valueBytes: 200).Event(3);
        using var original = KafkaEventDecoder.Decode(mskEvent);
        using var perType = KafkaEventDecoder.Decode(Workload.TopicPerType(mskEvent));

        static IEnumerable<(string Type, long Offset, string Value, string Key)> Records(KafkaBatch batch) =>
            batch.Partitions.SelectMany(p => p.Records.Select(r =>
            {
                var value = System.Text.Encoding.UTF8.GetString(batch.Bytes(r.Value));
                using var doc = System.Text.Json.JsonDocument.Parse(value);
                return (doc.RootElement.GetProperty("event").GetString()!, r.Offset, value, System.Text.Encoding.UTF8.GetString(batch.Bytes(r.Key)));
            }).ToList());

        // The same records (value, key, offset), each now on the topic named after its type.
        Assert.Equal(Records(original).OrderBy(r => r.Value, StringComparer.Ordinal), Records(perType).OrderBy(r => r.Value, StringComparer.Ordinal));
        Assert.All(perType.Partitions, p => Assert.All(p.Records, r => Assert.Contains($"\"event\":\"{p.Topic}\"", System.Text.Encoding.UTF8.GetString(perType.Bytes(r.Value)), StringComparison.Ordinal)));

        // Each new partition holds one original partition's records, offsets ascending; at most 6 types × 6 partitions.
        Assert.All(perType.Partitions, p => Assert.Equal(p.Records.Select(r => r.Offset).Order(), p.Records.Select(r => r.Offset)));
        Assert.InRange(perType.Partitions.Count, RoutingCost.EventTypes.Length, RoutingCost.EventTypes.Length * Workload.Topics * Workload.Partitions);
        Assert.All(perType.Partitions, p => Assert.Contains(p.Topic, RoutingCost.EventTypes));
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

    [Fact]
    public void ScaleEvents_SeveralPartitionsPerEvent_DecodeIntoThosePartitionsWithConsecutiveOffsets()
    {
        var events = new ScaleEvents(partitions: 4, records: 5, valueBytes: 100);
        using var first = KafkaEventDecoder.Decode(events.Next([0, 1, 2, 3], 5));
        using var second = KafkaEventDecoder.Decode(events.Next([0, 1, 2, 3], 3));

        Assert.Equal([0, 1, 2, 3], first.Partitions.Select(p => p.Partition));
        Assert.All(first.Partitions, p => Assert.Equal((ScaleEvents.Topic, 5, p.FirstOffset + 4), (p.Topic, p.Records.Length, p.LastOffset)));
        Assert.Equal([0, 1, 2, 3], second.Partitions.Select(p => p.Partition));
        foreach (var (a, b) in first.Partitions.Zip(second.Partitions))
        {
            // Cut after 3 records, still valid JSON, and the next offsets of each partition.
            Assert.Equal(3, b.Records.Length);
            Assert.Equal(a.LastOffset + 1, b.FirstOffset);
            Assert.Equal(b.FirstOffset + 2, b.LastOffset);
            Assert.Equal(Enumerable.Range(0, 3).Select(i => b.FirstOffset + i), b.Records.Select(r => r.Offset));
        }

        Assert.Equal(32, events.RecordsSent);
    }

    [Fact]
    public void ScaleEvents_AGroupOfPartitions_LeavesTheOthersOffsetsWhereTheyWere()
    {
        var events = new ScaleEvents(partitions: 4, records: 2, valueBytes: 60);
        using var group = KafkaEventDecoder.Decode(events.Next([2, 3], 2));
        using var alone = KafkaEventDecoder.Decode(events.Next(0));
        using var again = KafkaEventDecoder.Decode(events.Next([2, 3], 2));

        Assert.Equal([2, 3], group.Partitions.Select(p => p.Partition));
        Assert.Equal(group.Partitions[0].FirstOffset, Assert.Single(alone.Partitions).FirstOffset);
        Assert.Equal(group.Partitions[1].LastOffset + 1, again.Partitions[1].FirstOffset);
    }

    [Theory]
    [InlineData(8, null, new[] { 8 })]
    [InlineData(8, 1, new[] { 1, 1, 1, 1, 1, 1, 1, 1 })]
    [InlineData(8, 3, new[] { 3, 3, 2 })]
    [InlineData(3, 32, new[] { 3 })]
    public void ScaleGroups_SplitThePartitionsIntoConsecutiveGroupsOfK(int partitions, int? perEvent, int[] sizes)
    {
        var groups = ScaleSection.Groups(partitions, perEvent);
        Assert.Equal(sizes, groups.Select(g => g.Length));
        Assert.Equal(Enumerable.Range(0, partitions), groups.SelectMany(g => g));
    }

    [Fact]
    public void Options_ScalePartitionsPerEvent_AllOrAPositiveNumber()
    {
        Assert.Null(BenchOptions.Parse([]).ScalePartitionsPerEvent);
        Assert.Null(BenchOptions.Parse(["--scale-partitions-per-event", "all"]).ScalePartitionsPerEvent);
        Assert.Equal(1, BenchOptions.Parse(["--scale-partitions-per-event", "1", "--scale"]).ScalePartitionsPerEvent);
        Assert.Throws<ArgumentException>(() => BenchOptions.Parse(["--scale-partitions-per-event", "0"]));
    }

    [Theory]
    [InlineData(50, 5)]
    [InlineData(95, 10)]
    [InlineData(100, 10)]
    [InlineData(1, 1)]
    public void Percentile_NearestRank(double p, double expected) =>
        Assert.Equal(expected, Stats.Percentile([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], p));
}
