using MskClickHouse.Core.Audit;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Tests.Audit;

public class MissingRecordsTests
{
    private static readonly AuditPartition P = new("S", "orders", 0);

    [Fact]
    public void Compare_OffsetGapsInsideARange_AreNotMissing()
    {
        // 0-14 held 10 records (5 offsets are transaction markers), 1 a skipped tombstone: 9 rows expected, 9 found.
        var ranges = new[] { new AuditedRange(new OffsetRange(0, 14), new RangeCount(10, 1)) };

        Assert.Empty(MissingRecords.Compare(P, ranges, new Dictionary<long, long> { [0] = 9 }));
    }

    [Fact]
    public void Compare_FewerFoundThanExpected_ReportsTheRangeWithBothCounts()
    {
        var ranges = new[] { new AuditedRange(new OffsetRange(0, 9), new RangeCount(10, 0)), new AuditedRange(new OffsetRange(10, 19), new RangeCount(10, 0)) };

        var missing = MissingRecords.Compare(P, ranges, new Dictionary<long, long> { [0] = 10 });

        var m = Assert.Single(missing);
        Assert.Equal(new OffsetRange(10, 19), m.Range);
        Assert.Equal(10, m.Missing);
        Assert.Equal("10-19 (expected 10, found 0)", FindingText.Of(missing));
    }

    [Fact]
    public void FindingText_ListsAtMostTwentyRanges()
    {
        var many = Enumerable.Range(0, 30).Select(i => new DuplicateRange(P, new OffsetRange(i * 10, i * 10), 1, 1));

        Assert.Equal(FindingText.MaxRanges, FindingText.Of(many).Split(" offsets,").Length - 1);
    }
}
