using System.Text;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Routing;
using MskClickHouse.Core.Rows;
using MskClickHouse.Simulation;

namespace MskClickHouse.Core.Tests.Rows;

/// <summary>Encoding every table of a routed partition in one pass gives what encoding each table's records alone gives.</summary>
public sealed class EncodeRoutedTests
{
    private const string Routes = """
        [{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}},
         {"topic":"events","table":"views","where":{"field":"type","equals":"view"}},
         {"topic":"events","table":"all_events"}]
        """;

    private static TopicRouter Router() => new(SinkOptionsParser.Parse(new Dictionary<string, string?>
    {
        ["CLICKHOUSE_URL"] = "https://ch.example.com:8443",
        ["SINK_ID"] = "s",
        ["CLICKHOUSE_DATABASE"] = "db",
        ["ROUTES"] = Routes,
        ["TOMBSTONES"] = "dead-letter",
    }));

    private static SimRecord Rec(long offset, string? value) => new(
        "events", 0, offset, 1_700_000_000_000 + offset, Encoding.UTF8.GetBytes("k" + offset), value is null ? null : Encoding.UTF8.GetBytes(value), []);

    private static KafkaBatch Batch() => KafkaEventDecoder.Decode(KafkaEventWriter.Write(
    [
        Rec(10, """{"type":"click","id":1}"""),
        Rec(11, """{"type":"view","id":2}"""),
        Rec(12, """{"type":"click","id":"x"}"""),
        Rec(13, """{"type":"signup"}"""),
        Rec(15, """{"type":"view",bad}"""),
        Rec(16, null),
        Rec(17, """{"type":"click","_offset":3}"""),
        Rec(19, """{"type":"view","n":[1,{"a":2}]}"""),
    ]));

    [Fact]
    public void EncodeRouted_GivesEachTableTheRowsAndRejectionsOfEncodingItsRecordsAlone()
    {
        using var batch = Batch();
        var partition = batch.Partitions[0];
        var router = Router();
        var routed = router.Route(batch, partition).Routed;
        // Different shapes per table: the metadata columns differ, so do the rows and what is rejected (_offset in the value).
        MetadataColumns[] metadata = [MetadataColumns.Topic | MetadataColumns.Partition | MetadataColumns.Offset, MetadataColumns.None, MetadataColumns.Offset | MetadataColumns.Key | MetadataColumns.Timestamp];
        var units = routed.Select((r, i) => (r.Records, router.ShapeFor("events", r.Table, metadata[i]))).ToList();

        var together = RowEncoder.EncodeRouted(batch, partition, units, TombstonePolicy.DeadLetter);

        Assert.Equal(3, together.Length);
        Assert.Equal([11L, 19L], together[1].RowOffsets); // views: 15 is not JSON
        Assert.Equal([10L, 12L], together[0].RowOffsets); // clicks: 17 carries _offset, a column of this table
        for (var u = 0; u < units.Count; u++)
        {
            using var alone = RowEncoder.Encode(batch, units[u].Records, units[u].Item2, TombstonePolicy.DeadLetter);
            using var one = together[u];
            Assert.Same(units[u].Records, one.Source);
            Assert.Equal(Encoding.UTF8.GetString(alone.Buffer.Span), Encoding.UTF8.GetString(one.Buffer.Span));
            Assert.Equal(alone.RowOffsets, one.RowOffsets);
            Assert.Equal(alone.RowStarts, one.RowStarts);
            Assert.Equal(alone.Rejected, one.Rejected);
            Assert.Equal(alone.TombstonesSkipped, one.TombstonesSkipped);
        }
    }

    [Fact]
    public void EncodeRouted_ATableReceivingOnlyTheLargestRecords_OutgrowsItsSharedGuess_AndGetsTheSameRows()
    {
        // 200 small records and 8 of 40 KB: the views table's guess (its share of the partition's bytes) is far short.
        var records = Enumerable.Range(0, 208).Select(i => Rec(i, i % 26 == 25
            ? $$"""{"type":"view","pad":"{{new string('v', 40_000)}}"}"""
            : """{"type":"click"}""")).ToList();
        using var batch = KafkaEventDecoder.Decode(KafkaEventWriter.Write(records));
        var partition = batch.Partitions[0];
        var router = Router();
        var routing = router.Route(batch, partition);
        var units = routing.Routed.Select(r => (r.Records, router.ShapeFor("events", r.Table, MetadataColumns.Offset | MetadataColumns.Key))).ToList();

        var together = RowEncoder.EncodeRouted(batch, partition, units, TombstonePolicy.DeadLetter, null, routing.Targets);

        var views = routing.Routed.ToList().FindIndex(r => r.Table.Table == "views");
        Assert.Equal(8, together[views].RowCount);
        Assert.True(together[views].Buffer.Length > 8 * 40_000);
        for (var u = 0; u < units.Count; u++)
        {
            using var alone = RowEncoder.Encode(batch, units[u].Records, units[u].Item2, TombstonePolicy.DeadLetter);
            using var one = together[u];
            Assert.Equal(alone.Buffer.ToArray(), one.Buffer.ToArray());
            Assert.Equal(alone.RowStarts, one.RowStarts);
        }
    }

    [Fact]
    public void EncodeRouted_RecordsThatAreNotASubsetOfThePartitionInOrder_AreRefused()
    {
        using var batch = Batch();
        var partition = batch.Partitions[0];
        var reversed = new PartitionRecords("events", 0, partition.MapKey, [partition.Records[3], partition.Records[1]], 0);
        var shape = Router().ShapeFor("events", new MskClickHouse.Core.ClickHouse.TableName("db", "x"), MetadataColumns.None);

        var e = Assert.Throws<ArgumentException>(() => RowEncoder.EncodeRouted(batch, partition, [(reversed, shape)], TombstonePolicy.Skip));

        Assert.Contains("not a subset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EncodeRouted_WithTheSplitsTargets_WritesTheSameRows_AlsoForSomeOfTheTablesOnly()
    {
        using var batch = Batch();
        var partition = batch.Partitions[0];
        var router = Router();
        var routing = router.Route(batch, partition);
        var units = routing.Routed.Select(r => (r.Records, router.ShapeFor("events", r.Table, MetadataColumns.Offset))).ToList();

        var byOffsets = RowEncoder.EncodeRouted(batch, partition, units, TombstonePolicy.DeadLetter);
        var byTargets = RowEncoder.EncodeRouted(batch, partition, units, TombstonePolicy.DeadLetter, null, routing.Targets);
        // The sink encodes only the units it plans to send: here the all-events table (target 2) and views (target 1).
        var some = RowEncoder.EncodeRouted(batch, partition, [units[2], units[1]], TombstonePolicy.DeadLetter, null, routing.Targets, [2, 1]);

        Assert.Equal([11L, 19L], byTargets[1].RowOffsets);
        for (var u = 0; u < units.Count; u++)
        {
            Assert.Equal(Encoding.UTF8.GetString(byOffsets[u].Buffer.Span), Encoding.UTF8.GetString(byTargets[u].Buffer.Span));
            Assert.Equal(byOffsets[u].Rejected, byTargets[u].Rejected);
        }

        Assert.Equal(Encoding.UTF8.GetString(byOffsets[2].Buffer.Span), Encoding.UTF8.GetString(some[0].Buffer.Span));
        Assert.Equal(Encoding.UTF8.GetString(byOffsets[1].Buffer.Span), Encoding.UTF8.GetString(some[1].Buffer.Span));
        foreach (var e in byOffsets.Concat(byTargets).Concat(some))
        {
            e.Dispose();
        }
    }

    [Fact]
    public void EncodeRouted_TargetsThatLeaveOutARecordOfAUnit_AreRefused()
    {
        using var batch = Batch();
        var partition = batch.Partitions[0];
        var router = Router();
        var routing = router.Route(batch, partition);
        var units = routing.Routed.Select(r => (r.Records, router.ShapeFor("events", r.Table, MetadataColumns.None))).ToList();
        var n = partition.Records.Length;
        var clicksOnly = new RecordTargets([.. Enumerable.Range(0, n + 1)], [.. Enumerable.Repeat(0, n)]); // every record to clicks alone

        var e = Assert.Throws<ArgumentException>(() => RowEncoder.EncodeRouted(batch, partition, units, TombstonePolicy.Skip, null, clicksOnly));

        Assert.Contains("(db.views)", e.Message, StringComparison.Ordinal);
    }
}
