using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Rows;
using MskClickHouse.Core.Tests.Events;

namespace MskClickHouse.Core.Tests.Delivery;

public class RangeCountTests
{
    private static readonly TableShape Shape = new(new TableName("db", "events"), MetadataColumns.Offset, ValueFormat.Json, "value");

    private static OffsetRange R(long first, long last) => new(first, last);

    [Fact]
    public void Stamp_CountsRecordsNotOffsets_AndTheTombstonesSkipped()
    {
        // Offsets 10-19 with gaps (12, 13 are transaction markers): 8 records; 15 a tombstone, 17 not JSON (dead letter).
        var records = new[] { 10L, 11, 14, 15, 16, 17, 18, 19 }.Select(o => TestEvents.Record("orders", 0, o, o switch
        {
            15 => "null",
            17 => TestEvents.JsonValue("not json"),
            _ => TestEvents.JsonValue($$"""{"n":{{o}}}"""),
        })).ToArray();
        using var batch = TestEvents.Decode(TestEvents.Event(("orders-0", records)));
        var state = new PartitionState(new PartitionKey("orders", 0), 0, [new StateEntry(R(10, 14), R(10, 14), 0, false), new StateEntry(R(15, 19), R(15, 19), 0, false), new StateEntry(R(20, 29), R(20, 29), 0, true)]);

        var stamped = RangeCount.Stamp(state, batch.Partitions[0], TombstonePolicy.Skip);

        Assert.Equal(new RangeCount(3, 0), stamped.Entries[0].Count);
        Assert.Equal(new RangeCount(5, 1), stamped.Entries[1].Count);
        Assert.Equal(4, stamped.Entries[1].Count!.Value.Expected);
        Assert.Null(stamped.Entries[2].Count);
        Assert.True(stamped.SamePlanAs(state));
    }

    [Fact]
    public void Stamp_TombstonesDeadLettered_AreExpectedRows()
    {
        var records = new[] { 0L, 1, 2 }.Select(o => TestEvents.Record("orders", 0, o, o == 1 ? "null" : TestEvents.JsonValue($$"""{"n":{{o}}}"""))).ToArray();
        using var batch = TestEvents.Decode(TestEvents.Event(("orders-0", records)));
        var state = new PartitionState(new PartitionKey("orders", 0), 0, [new StateEntry(R(0, 2), R(0, 2), 0, false)]);

        var stamped = RangeCount.Stamp(state, batch.Partitions[0], TombstonePolicy.DeadLetter);

        Assert.Equal(new RangeCount(3, 0), stamped.Entries[0].Count);
    }

    [Fact]
    public void Stamp_SkipsExactlyWhatTheEncoderSkips()
    {
        var records = new[] { 5L, 6, 7, 8 }.Select(o => TestEvents.Record("orders", 0, o, o is 6 or 8 ? "null" : TestEvents.JsonValue($$"""{"n":{{o}}}"""))).ToArray();
        using var batch = TestEvents.Decode(TestEvents.Event(("orders-0", records)));
        using var encoded = RowEncoder.Encode(batch, batch.Partitions[0], Shape, TombstonePolicy.Skip);
        var state = new PartitionState(new PartitionKey("orders", 0), 0, [new StateEntry(R(5, 8), R(5, 8), 0, false)]);

        var stamped = RangeCount.Stamp(state, batch.Partitions[0], TombstonePolicy.Skip);

        Assert.Equal(encoded.TombstonesSkipped, stamped.Entries[0].Count!.Value.Skipped);
        Assert.Equal(encoded.RowCount + encoded.Rejected.Count, stamped.Entries[0].Count!.Value.Expected);
    }

    [Fact]
    public void ParseEntries_RowsWithoutCounts_ReadAsUnknown()
    {
        var old = ClickHouseStateStore.ParseEntries("0:9:0:9:0:0:0", "0");
        var known = ClickHouseStateStore.ParseEntries("0:9:0:9:0:0:0,10:19:10:19:0:1:0", "0,0", "10:2,-1:-1");

        Assert.Null(Assert.Single(old).Count);
        Assert.Equal(new RangeCount(10, 2), known[0].Count);
        Assert.Null(known[1].Count);
    }
}
