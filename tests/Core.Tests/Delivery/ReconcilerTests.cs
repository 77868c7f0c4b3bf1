using MskClickHouse.Core.Delivery;
using Xunit;

namespace MskClickHouse.Core.Tests.Delivery;

public class ReconcilerTests
{
    private static readonly PartitionKey Key = new("orders", 3);

    private static OffsetRange R(long a, long b) => new(a, b);

    private static PartitionState State(params StateEntry[] entries) => new(Key, 0, entries);

    private static StateEntry Unit(long a, long b) => new(R(a, b), R(a, b), 0, false);

    [Fact]
    public void Plan_NoRecordedState_SendsOneFreshUnit()
    {
        var plan = Reconciler.Plan(Key, null, R(100, 199), tableHasOffsetColumns: false, strictOffsets: false);

        var send = Assert.Single(plan.Sends);
        Assert.Equal(new PlannedSend(SendKind.Fresh, R(100, 199), R(100, 199), 0), send);
        Assert.Equal([Unit(100, 199)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_BatchStartsAfterRecordedRange_ForgetsItAndSendsFresh()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(200, 299), false, false);

        Assert.Equal(SendKind.Fresh, Assert.Single(plan.Sends).Kind);
        Assert.Equal([Unit(200, 299)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_SameBatchAgain_ReplaysUnderOriginalToken()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 199), false, false);

        Assert.Equal(new PlannedSend(SendKind.Replay, R(100, 199), R(100, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal([Unit(100, 199)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_ExtendedBatch_ReplaysRecordedThenSendsRestFresh()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 299), false, false);

        Assert.Equal(
            [new PlannedSend(SendKind.Replay, R(100, 199), R(100, 199), 0), new PlannedSend(SendKind.Fresh, R(200, 299), R(200, 299), 0)],
            plan.Sends);
        Assert.Equal([Unit(100, 199), Unit(200, 299)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_BisectedHalfWithOffsetColumns_FillsMissingOffsets()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 149), tableHasOffsetColumns: true, false);

        Assert.Equal(new PlannedSend(SendKind.FillMissing, R(100, 149), R(100, 149), 0), Assert.Single(plan.Sends));
        Assert.Equal([Unit(100, 199)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_BisectedHalfWithoutOffsetColumns_SpendsOriginalTokenAndRecordsPendingTail()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 149), false, false);

        Assert.Equal(new PlannedSend(SendKind.Subset, R(100, 149), R(100, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal(
            [new StateEntry(R(100, 149), R(100, 199), 0, false), new StateEntry(R(150, 199), R(150, 199), 0, true)],
            plan.NewState.Entries);
    }

    [Fact]
    public void Plan_SecondHalfAfterBisect_InsertsPendingTailUnderItsOwnToken()
    {
        var afterFirstHalf = State(new StateEntry(R(100, 149), R(100, 199), 0, false), new StateEntry(R(150, 199), R(150, 199), 0, true));

        var plan = Reconciler.Plan(Key, afterFirstHalf, R(150, 199), false, false);

        Assert.Equal(new PlannedSend(SendKind.Tail, R(150, 199), R(150, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal([Unit(150, 199)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_TailRetriedAgain_IsReplayedNotCountedTwice()
    {
        var plan = Reconciler.Plan(Key, State(Unit(150, 199)), R(150, 199), false, false);

        Assert.Equal(SendKind.Replay, Assert.Single(plan.Sends).Kind);
    }

    [Fact]
    public void Plan_SubsetOfSubset_KeepsSpendingTheSameOriginalToken()
    {
        var afterFirstHalf = State(new StateEntry(R(100, 149), R(100, 199), 0, false), new StateEntry(R(150, 199), R(150, 199), 0, true));

        var plan = Reconciler.Plan(Key, afterFirstHalf, R(100, 124), false, false);

        Assert.Equal(new PlannedSend(SendKind.Subset, R(100, 124), R(100, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal(
            [new StateEntry(R(100, 124), R(100, 199), 0, false), new StateEntry(R(125, 149), R(125, 149), 0, true), new StateEntry(R(150, 199), R(150, 199), 0, true)],
            plan.NewState.Entries);
    }

    [Fact]
    public void Plan_BatchBeforeRecordedRange_StartsNewGenerationSoOldTokensCannotSwallowRows()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(0, 49), false, false);

        Assert.Equal(new PlannedSend(SendKind.Rewound, R(0, 49), R(0, 49), 1), Assert.Single(plan.Sends));
        Assert.Equal(1, plan.NewState.Generation);
    }

    [Fact]
    public void Plan_BatchBeforeRecordedRangeInStrictMode_Throws()
    {
        var e = Assert.Throws<OffsetsRewoundException>(() => Reconciler.Plan(Key, State(Unit(100, 199)), R(0, 49), false, strictOffsets: true));

        Assert.Contains("orders/3", e.Message, StringComparison.Ordinal);
        Assert.False(e.IsRetryable);
    }

    [Fact]
    public void Plan_BatchStartsInsideRecordedRangeAndExtends_SubsetThenFresh()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(150, 250), false, false);

        Assert.Equal(
            [new PlannedSend(SendKind.Subset, R(150, 199), R(100, 199), 0), new PlannedSend(SendKind.Fresh, R(200, 250), R(200, 250), 0)],
            plan.Sends);
    }

    [Fact]
    public void Plan_BatchOverlapsStartOfRecordedRange_SendsPrefixAsRewoundThenReplays()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(50, 199), false, false);

        Assert.Equal(
            [new PlannedSend(SendKind.Rewound, R(50, 99), R(50, 99), 0), new PlannedSend(SendKind.Replay, R(100, 199), R(100, 199), 0)],
            plan.Sends);
    }

    [Fact]
    public void Plan_SubsetOfLandedRange_SendsNothingAndLeavesNoTail()
    {
        var landed = new StateEntry(R(100, 199), R(100, 199), 0, false, Landed: true);

        var plan = Reconciler.Plan(Key, State(landed), R(100, 149), false, false);

        Assert.Equal(new PlannedSend(SendKind.AlreadyLanded, R(100, 149), R(100, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal([landed], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_ExtendedBatchOverLandedRange_SkipsItAndSendsRestFresh()
    {
        var landed = new StateEntry(R(100, 199), R(100, 199), 0, false, Landed: true);

        var plan = Reconciler.Plan(Key, State(landed), R(150, 299), false, false);

        Assert.Equal(
            [new PlannedSend(SendKind.AlreadyLanded, R(150, 199), R(100, 199), 0), new PlannedSend(SendKind.Fresh, R(200, 299), R(200, 299), 0)],
            plan.Sends);
    }

    [Fact]
    public void Landed_MarksEntriesTheBatchCoveredButNotPendingTails()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 149), false, false);

        var after = Reconciler.Landed(plan, R(100, 149));

        Assert.Equal(
            [new StateEntry(R(100, 149), R(100, 199), 0, false, Landed: true), new StateEntry(R(150, 199), R(150, 199), 0, true)],
            after.Entries);
    }

    [Fact]
    public void Plan_AnyBatch_SendsCoverEveryOffsetOfTheBatchExactlyOnce()
    {
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var entries = new List<StateEntry>();
            var at = random.Next(0, 50);
            for (var k = random.Next(0, 4); k > 0; k--)
            {
                var len = random.Next(1, 30);
                var tokenFirst = at - random.Next(0, 3);
                var pending = random.Next(4) == 0;
                entries.Add(new StateEntry(R(at, at + len - 1), R(tokenFirst, at + len - 1 + random.Next(0, 3)), 0, pending, !pending && random.Next(3) == 0));
                at += len;
            }

            var first = random.Next(0, 150);
            var batch = R(first, first + random.Next(0, 60));

            var plan = Reconciler.Plan(Key, State([.. entries]), batch, random.Next(2) == 0, false);

            var covered = plan.Sends.SelectMany(s => Enumerable.Range((int)s.Records.First, (int)(s.Records.Last - s.Records.First + 1))).ToList();
            Assert.Equal(Enumerable.Range((int)batch.First, (int)(batch.Last - batch.First + 1)), covered.Order());
        }
    }
}
