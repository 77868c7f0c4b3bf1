using MskClickHouse.Core.Audit;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Tests.Audit;

public class AcknowledgedRangesTests
{
    private static readonly PartitionKey Key = new("orders", 0);

    private static OffsetRange R(long first, long last) => new(first, last);

    private static StateEntry E(long first, long last, int records, int skipped = 0, bool landed = false, bool pending = false) =>
        new(R(first, last), R(first, last), 0, pending, landed, 0, new RangeCount(records, skipped));

    private static PlanRecord Plan(long version, params StateEntry[] entries) => new("S", Key, version, 7, entries);

    [Fact]
    public void Of_NewestPlan_IsNotAcknowledged()
    {
        Assert.Empty(AcknowledgedRanges.Of([Plan(1, E(0, 9, 10))]));
    }

    [Fact]
    public void Of_RangeFollowedByAPlanStartingAfterIt_IsAcknowledgedWithItsCount()
    {
        var ranges = AcknowledgedRanges.Of([Plan(1, E(0, 9, 8, skipped: 1)), Plan(2, E(12, 19, 8))]);

        Assert.Equal([new AuditedRange(R(0, 9), new RangeCount(8, 1))], ranges);
    }

    [Fact]
    public void Of_FailedAttemptRetriedSameRange_IsNotAcknowledgedUntilAPlanAfterTheRetry()
    {
        // The first attempt failed; its retry re-planned 0-9 (still live): neither proves the mapping moved past 9.
        Assert.Empty(AcknowledgedRanges.Of([Plan(1, E(0, 9, 10)), Plan(2, E(0, 9, 10) with { Round = 1 })]));

        var after = AcknowledgedRanges.Of([Plan(1, E(0, 9, 10)), Plan(2, E(0, 9, 10) with { Round = 1 }), Plan(3, E(10, 19, 10))]);
        Assert.Equal([R(0, 9)], after.Select(r => r.Range).ToArray());
    }

    [Fact]
    public void Of_LandedMark_AcknowledgesTheNewestPlan()
    {
        var ranges = AcknowledgedRanges.Of([Plan(1, E(0, 9, 10)), Plan(2, E(0, 9, 10, landed: true))]);

        Assert.Equal([R(0, 9)], ranges.Select(r => r.Range).ToArray());
    }

    [Fact]
    public void Of_LaterPlanOfAnotherNonce_DoesNotAcknowledge()
    {
        // A rewind writes a new nonce; its plan says nothing about what the mapping committed under the old one.
        var ranges = AcknowledgedRanges.Of([Plan(1, E(0, 9, 10)), Plan(2, E(20, 29, 10)) with { Nonce = 8 }]);

        Assert.Empty(ranges);
    }

    [Fact]
    public void Of_EntriesWithoutCountOrPending_AreNotAudited()
    {
        var unknown = new StateEntry(R(0, 9), R(0, 9), 0, false);
        var ranges = AcknowledgedRanges.Of([Plan(1, unknown, E(10, 19, 10, pending: true)), Plan(2, E(30, 39, 10))]);

        Assert.Empty(ranges);
    }

    [Fact]
    public void Of_OverlappingRanges_KeepsADisjointSetPreferringTheWiderAtEachStart()
    {
        var ranges = AcknowledgedRanges.Of([Plan(1, E(0, 9, 10)), Plan(2, E(0, 19, 20)), Plan(3, E(15, 24, 10)), Plan(4, E(30, 39, 10))]);

        Assert.Equal([R(0, 19)], ranges.Select(r => r.Range).ToArray());
    }

    [Fact]
    public void Of_CarriedEntriesOfALaterPlan_DoNotHideThatItStartsBeforeTheRange()
    {
        // Plan 2 repeats 0-9 (a shifted redelivery from 5) and plans 10-14: the mapping had not committed past 9.
        var ranges = AcknowledgedRanges.Of([Plan(1, E(0, 9, 10)), Plan(2, E(0, 9, 10), E(10, 14, 5))]);

        Assert.Empty(ranges);
    }
}
