using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Tests.Delivery;

public class ReconcilerTests
{
    private static readonly PartitionKey Key = new("orders", 3);

    private static OffsetRange R(long a, long b) => new(a, b);

    private static PartitionState State(params StateEntry[] entries) => new(Key, 0, entries);

    private static StateEntry Unit(long a, long b) => new(R(a, b), R(a, b), 0, false);

    /// <summary>The first record's timestamp of the batch (seeds the nonce of a new or rewound partition).</summary>
    private const long Ts = 1_764_000_000_000;

    [Fact]
    public void Plan_NoRecordedState_SendsOneFreshUnit()
    {
        var plan = Reconciler.Plan(Key, null, R(100, 199), Ts, tableHasOffsetColumns: false, strictOffsets: false);

        var send = Assert.Single(plan.Sends);
        Assert.Equal(new PlannedSend(SendKind.Fresh, R(100, 199), R(100, 199), 0), send);
        Assert.Equal([Unit(100, 199)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_NoRecordedStateOnATableThatCanAnswer_ProbesFirst_ASuccessorBatchDoesNot()
    {
        // Lost state (truncated, replaced, a new SINK_ID) looks like a first sight: nothing vouches that the records are new.
        var first = Reconciler.Plan(Key, null, R(100, 199), Ts, tableHasOffsetColumns: true, strictOffsets: false);
        Assert.Equal(new PlannedSend(SendKind.Fresh, R(100, 199), R(100, 199), 0, ProbeFirst: true), Assert.Single(first.Sends));

        // The state says that round 0 may carry only part of the range, and a redelivery's fill is told.
        Assert.True(Assert.Single(first.NewState.Entries).ProbedFirst);
        Assert.True(Assert.Single(Reconciler.Plan(Key, first.NewState, R(100, 149), Ts, tableHasOffsetColumns: true, strictOffsets: false).Sends).ProbedFirst);

        // The steady state: the mapping committed the recorded range, the batch after it is new.
        var recorded = State(new StateEntry(R(0, 99), R(0, 99), 0, false));
        var next = Reconciler.Plan(Key, recorded, R(100, 199), Ts, tableHasOffsetColumns: true, strictOffsets: false);
        Assert.Equal(new PlannedSend(SendKind.Fresh, R(100, 199), R(100, 199), 0), Assert.Single(next.Sends));
        Assert.False(next.NewState.Entries.Single(e => e.Range == R(100, 199)).ProbedFirst);
    }

    [Fact]
    public void Plan_BatchStartsAfterRecordedRange_ForgetsItAndSendsFresh()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(200, 299), Ts, false, false);

        Assert.Equal(SendKind.Fresh, Assert.Single(plan.Sends).Kind);
        Assert.Equal([Unit(200, 299)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_SameBatchAgain_ReplaysUnderOriginalToken()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 199), Ts, false, false);

        Assert.Equal(new PlannedSend(SendKind.Replay, R(100, 199), R(100, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal([Unit(100, 199)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_ExtendedBatch_ReplaysRecordedThenSendsRestFresh()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 299), Ts, false, false);

        Assert.Equal(
            [new PlannedSend(SendKind.Replay, R(100, 199), R(100, 199), 0), new PlannedSend(SendKind.Fresh, R(200, 299), R(200, 299), 0)],
            plan.Sends);
        Assert.Equal([Unit(100, 199), Unit(200, 299)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_BisectedHalfWithOffsetColumns_FillsMissingUnderRangeTokenAndRecordsNextRound()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 149), Ts, tableHasOffsetColumns: true, false);

        Assert.Equal(new PlannedSend(SendKind.FillMissing, R(100, 149), R(100, 199), 0, Round: 0), Assert.Single(plan.Sends));
        Assert.Equal([Unit(100, 199) with { Round = 1 }], plan.NewState.Entries);
    }

    /// <summary>
    /// The traced single-node bug: range E recorded (its state write's answer lost, none of its data sent); a smaller
    /// retry filled part of E under another token; a later batch covering E replayed E under E's token and the filled
    /// part landed twice. Now a table with offset columns never replays: every repeat of a recorded range asks which
    /// offsets are present and consumes the range's current round before any other token is used.
    /// </summary>
    [Fact]
    public void Plan_WholeRecordedRangeAfterPartWasFilled_FillsMissingUnderNextRoundNeverReplays()
    {
        var afterPartialFill = State(Unit(100, 199) with { Round = 1 });

        var plan = Reconciler.Plan(Key, afterPartialFill, R(100, 199), Ts, tableHasOffsetColumns: true, false);

        Assert.Equal(new PlannedSend(SendKind.FillMissing, R(100, 199), R(100, 199), 0, Round: 1), Assert.Single(plan.Sends));
        Assert.Equal([Unit(100, 199) with { Round = 2 }], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_BisectedHalfWithoutOffsetColumns_SpendsOriginalTokenAndRecordsPendingTail()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 149), Ts, false, false);

        Assert.Equal(new PlannedSend(SendKind.Subset, R(100, 149), R(100, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal(
            [new StateEntry(R(100, 149), R(100, 199), 0, false), new StateEntry(R(150, 199), R(150, 199), 0, true)],
            plan.NewState.Entries);
    }

    [Fact]
    public void Plan_SecondHalfAfterBisect_InsertsPendingTailUnderItsOwnToken()
    {
        var afterFirstHalf = State(new StateEntry(R(100, 149), R(100, 199), 0, false), new StateEntry(R(150, 199), R(150, 199), 0, true));

        var plan = Reconciler.Plan(Key, afterFirstHalf, R(150, 199), Ts, false, false);

        Assert.Equal(new PlannedSend(SendKind.Tail, R(150, 199), R(150, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal([Unit(150, 199)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_TailRetriedAgain_IsReplayedNotCountedTwice()
    {
        var plan = Reconciler.Plan(Key, State(Unit(150, 199)), R(150, 199), Ts, false, false);

        Assert.Equal(SendKind.Replay, Assert.Single(plan.Sends).Kind);
    }

    [Fact]
    public void Plan_SubsetOfSubset_KeepsSpendingTheSameOriginalToken()
    {
        var afterFirstHalf = State(new StateEntry(R(100, 149), R(100, 199), 0, false), new StateEntry(R(150, 199), R(150, 199), 0, true));

        var plan = Reconciler.Plan(Key, afterFirstHalf, R(100, 124), Ts, false, false);

        Assert.Equal(new PlannedSend(SendKind.Subset, R(100, 124), R(100, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal(
            [new StateEntry(R(100, 124), R(100, 199), 0, false), new StateEntry(R(125, 149), R(125, 149), 0, true), new StateEntry(R(150, 199), R(150, 199), 0, true)],
            plan.NewState.Entries);
    }

    [Fact]
    public void Plan_BatchBeforeRecordedRange_StartsNewNonceSoOldTokensCannotSwallowRows()
    {
        var recorded = State(Unit(100, 199)) with { Nonce = 42 };

        var plan = Reconciler.Plan(Key, recorded, R(0, 49), Ts, false, false);

        Assert.Equal(new PlannedSend(SendKind.Rewound, R(0, 49), R(0, 49), 0), Assert.Single(plan.Sends));
        Assert.Equal(1, plan.NewState.Generation);
        Assert.NotEqual(42UL, plan.NewState.Nonce);
        Assert.Equal([Unit(0, 49)], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_RecreatedTopicOverlappingRecordedRange_SendsWholeBatchUnderNewNonce()
    {
        // Old range 100-199 landed; the topic was recreated and its first batch is 0-499: all of it is new data.
        var recorded = State(new StateEntry(R(100, 199), R(100, 199), 0, false, Landed: true)) with { Nonce = 42 };

        foreach (var offsetColumns in new[] { true, false })
        {
            var plan = Reconciler.Plan(Key, recorded, R(0, 499), Ts, offsetColumns, false);

            // A table that can answer is asked first: a recreated topic's records are not there, a rewind's may be.
            Assert.Equal(new PlannedSend(SendKind.Rewound, R(0, 499), R(0, 499), 0, ProbeFirst: offsetColumns), Assert.Single(plan.Sends));
            Assert.NotEqual(42UL, plan.NewState.Nonce);
            Assert.Equal([Unit(0, 499) with { ProbedFirst = offsetColumns }], plan.NewState.Entries);
        }
    }

    [Fact]
    public void Plan_OverlappingRewindInStrictMode_Throws()
    {
        Assert.Throws<OffsetsRewoundException>(() => Reconciler.Plan(Key, State(Unit(100, 199)), R(0, 499), Ts, false, strictOffsets: true));
    }

    [Fact]
    public void Plan_StateResetThenDifferentData_NewNonceButSameBatchAgain_SameNonce()
    {
        var first = Reconciler.Plan(Key, null, R(0, 99), Ts, false, false).NewState.Nonce;
        var again = Reconciler.Plan(Key, null, R(0, 99), Ts, false, false).NewState.Nonce;
        var recreated = Reconciler.Plan(Key, null, R(0, 99), Ts + 86_400_000, false, false).NewState.Nonce;

        Assert.NotEqual(0UL, first);
        Assert.Equal(first, again);
        Assert.NotEqual(first, recreated);
    }

    [Fact]
    public void Plan_LegacyStateWithLiveRange_KeepsLegacyTokensUntilItsRangesAreCommitted()
    {
        var legacy = State(Unit(100, 199)) with { Legacy = true };

        Assert.True(Reconciler.Plan(Key, legacy, R(100, 199), Ts, false, false).NewState.Legacy);
        var after = Reconciler.Plan(Key, legacy, R(200, 299), Ts, false, false).NewState;
        Assert.False(after.Legacy);
        Assert.NotEqual(0UL, after.Nonce);
    }

    [Fact]
    public void Plan_BatchBeforeRecordedRangeInStrictMode_Throws()
    {
        var e = Assert.Throws<OffsetsRewoundException>(() => Reconciler.Plan(Key, State(Unit(100, 199)), R(0, 49), Ts, false, strictOffsets: true));

        Assert.Contains("orders/3", e.Message, StringComparison.Ordinal);
        Assert.False(e.IsRetryable);
    }

    [Fact]
    public void Plan_BatchStartsInsideRecordedRangeAndExtends_SubsetThenFresh()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(150, 250), Ts, false, false);

        Assert.Equal(
            [new PlannedSend(SendKind.Subset, R(150, 199), R(100, 199), 0), new PlannedSend(SendKind.Fresh, R(200, 250), R(200, 250), 0)],
            plan.Sends);
    }

    [Fact]
    public void Plan_BatchOverlapsStartOfRecordedRange_IsARewindOfTheWholeBatch()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(50, 199), Ts, false, false);

        Assert.Equal([new PlannedSend(SendKind.Rewound, R(50, 199), R(50, 199), 0)], plan.Sends);
    }

    [Fact]
    public void Plan_SubsetOfLandedRange_SendsNothingAndLeavesNoTail()
    {
        var landed = new StateEntry(R(100, 199), R(100, 199), 0, false, Landed: true);

        var plan = Reconciler.Plan(Key, State(landed), R(100, 149), Ts, false, false);

        Assert.Equal(new PlannedSend(SendKind.AlreadyLanded, R(100, 149), R(100, 199), 0), Assert.Single(plan.Sends));
        Assert.Equal([landed], plan.NewState.Entries);
    }

    [Fact]
    public void Plan_ExtendedBatchOverLandedRange_SkipsItAndSendsRestFresh()
    {
        var landed = new StateEntry(R(100, 199), R(100, 199), 0, false, Landed: true);

        var plan = Reconciler.Plan(Key, State(landed), R(150, 299), Ts, false, false);

        Assert.Equal(
            [new PlannedSend(SendKind.AlreadyLanded, R(150, 199), R(100, 199), 0), new PlannedSend(SendKind.Fresh, R(200, 299), R(200, 299), 0)],
            plan.Sends);
    }

    [Fact]
    public void Landed_MarksEntriesTheBatchCoveredButNotPendingTails()
    {
        var plan = Reconciler.Plan(Key, State(Unit(100, 199)), R(100, 149), Ts, false, false);

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

            var offsetColumns = random.Next(2) == 0;
            var plan = Reconciler.Plan(Key, State([.. entries]), batch, Ts, offsetColumns, false);

            var covered = plan.Sends.SelectMany(s => Enumerable.Range((int)s.Records.First, (int)(s.Records.Last - s.Records.First + 1))).ToList();
            Assert.Equal(Enumerable.Range((int)batch.First, (int)(batch.Last - batch.First + 1)), covered.Order());

            // Fencing: with offset columns a recorded range is never re-sent blind, and the round each fill may use next
            // is recorded before it is used.
            if (offsetColumns)
            {
                Assert.DoesNotContain(plan.Sends, s => s.Kind is SendKind.Replay or SendKind.Subset or SendKind.Tail);
                foreach (var fill in plan.Sends.Where(s => s.Kind == SendKind.FillMissing))
                {
                    Assert.Contains(plan.NewState.Entries, e => e.TokenRange == fill.TokenRange && e.Round == fill.Round + 1);
                }
            }
        }
    }

    [Fact]
    public void Plan_PartOfARangeAViewRejected_IsAFillThatKnowsIt_AndTheMarkStays()
    {
        var recorded = State(new StateEntry(R(0, 29), R(0, 29), 0, false, ViewFailed: true));

        var part = Reconciler.Plan(Key, recorded, R(0, 9), 0, true, false);
        var other = Reconciler.Plan(Key, State(Unit(0, 29)), R(0, 9), 0, true, false);

        Assert.Equal(SendKind.FillMissing, part.Sends[0].Kind);
        Assert.True(part.Sends[0].ViewFailed);
        Assert.True(part.NewState.Entries[0].ViewFailed);
        Assert.False(other.Sends[0].ViewFailed);
    }

    [Fact]
    public void ParseEntries_LandedTwo_IsARangeAViewRejected_NotLanded()
    {
        var entries = StateRowFormat.ParseEntries("0:9:0:9:0:0:2,10:19:10:19:0:0:1", "0,0");

        Assert.True(entries[0].ViewFailed);
        Assert.False(entries[0].Landed);
        Assert.False(entries[1].ViewFailed);
        Assert.True(entries[1].Landed);
    }

    [Fact]
    public void ParseEntries_LandedThree_IsARangeWhoseFirstInsertMayBePartial_NotLanded()
    {
        var entries = StateRowFormat.ParseEntries("0:9:0:9:0:0:3,10:19:10:19:0:0:0", "0,0");

        Assert.True(entries[0].ProbedFirst);
        Assert.False(entries[0].Landed);
        Assert.False(entries[0].ViewFailed);
        Assert.False(entries[1].ProbedFirst);
    }
}
