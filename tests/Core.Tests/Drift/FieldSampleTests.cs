using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Drift;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Tests.Drift;

public sealed class FieldSampleTests
{
    private static readonly TableName Table = new("db", "events");

    /// <summary>An encoded partition whose row at offset o is <paramref name="row"/>(o).</summary>
    private static EncodedPartition Partition(IEnumerable<long> offsets, Func<long, string> row, ValueFormat format = ValueFormat.Json, MetadataColumns meta = MetadataColumns.None, int partition = 0)
    {
        var body = new List<byte>();
        var starts = new List<int>();
        var list = offsets.ToArray();
        foreach (var o in list)
        {
            starts.Add(body.Count);
            body.AddRange(Encoding.UTF8.GetBytes(row(o) + "\n"));
        }

        starts.Add(body.Count);
        return new EncodedPartition(new PartitionRecords("orders", partition, $"orders-{partition}", [], 0), new TableShape(Table, meta, format, "value"), body.ToArray(), [.. starts], list, [], 0);
    }

    [Fact]
    public void Add_ScansExactlyTheRowsWhoseOffsetIsAMultipleOfTheRate()
    {
        var sample = new FieldSample(100);

        // Offsets 5..349 with gaps (compaction): 100, 200 and 300 are sampled; 250 (a multiple of 50 only) is not.
        var offsets = Enumerable.Range(5, 345).Select(i => (long)i).Where(o => o is < 295 or > 305);
        using var p = Partition(offsets, o => $$"""{"id":{{o}},"f{{o}}":1}""");
        sample.Add(p);

        Assert.Equal(2, sample.RowsScanned); // 300 lies in the gap: the next row (301) is not a multiple
        var fields = Assert.Single(sample.Fields).Value;
        Assert.Equal(["id", "f100", "f200"], fields.Keys);
        Assert.Equal(new FieldSighting("orders", 0, 100), fields["id"]);
        Assert.Equal(new FieldSighting("orders", 0, 200), fields["f200"]);
    }

    [Fact]
    public void Add_RateOne_ScansEveryRow()
    {
        var sample = new FieldSample(1);
        using var p = Partition([7, 8, 9], o => $$"""{"k{{o}}":1}""");
        sample.Add(p);

        Assert.Equal(3, sample.RowsScanned);
        Assert.Equal(["k7", "k8", "k9"], sample.Fields[Table].Keys);
    }

    [Fact]
    public void Add_NoSampledOffset_RecordsNothing()
    {
        var sample = new FieldSample(100);
        using var p = Partition([101, 102, 199], _ => """{"a":1}""");
        sample.Add(p);

        Assert.Equal(0, sample.RowsScanned);
        Assert.Empty(sample.Fields);
    }

    [Fact]
    public void Add_MetadataColumnsTheSinkFilled_AreLeftOut_ButTheSameNameFromAValueWithoutThatColumnIsKept()
    {
        var sample = new FieldSample(1);
        using var filled = Partition([0], _ => """{"_topic":"orders","_offset":0,"id":1}""", meta: MetadataColumns.Topic | MetadataColumns.Offset);
        using var notFilled = Partition([1], _ => """{"_key":"k","id":2}""", meta: MetadataColumns.Topic);
        sample.Add(filled);
        sample.Add(notFilled);

        Assert.Equal(["id", "_key"], sample.Fields[Table].Keys);
    }

    [Fact]
    public void Add_StringFormat_IsSkipped()
    {
        var sample = new FieldSample(1);
        using var p = Partition([0], _ => """{"value":"text"}""", format: ValueFormat.String);
        sample.Add(p);

        Assert.Equal(0, sample.RowsScanned);
    }

    [Fact]
    public void Add_TwoPartitionsInParallel_KeepEveryName_WithTheFirstSightingPerPartition()
    {
        var sample = new FieldSample(10);
        var parts = Enumerable.Range(0, 8).Select(i => Partition(Enumerable.Range(0, 100).Select(o => (long)o), o => $$"""{"p{{i}}":1,"o{{o}}":2}""", partition: i)).ToList();
        Parallel.ForEach(parts, sample.Add);
        parts.ForEach(p => p.Dispose());

        Assert.Equal(80, sample.RowsScanned);
        var fields = sample.Fields[Table];
        Assert.Equal(8 + 10, fields.Count);
        Assert.Equal(new FieldSighting("orders", 3, 0), fields["p3"]);
    }
}
