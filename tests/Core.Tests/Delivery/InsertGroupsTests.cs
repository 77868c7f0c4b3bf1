using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>Which plans share one insert (<see cref="InsertGroups.Assign"/>): pure.</summary>
public class InsertGroupsTests
{
    private static PartitionPlan Fresh(string topic, int partition, long first, long last, ulong nonce = 7, bool probeFirst = false)
    {
        var range = new OffsetRange(first, last);
        return new PartitionPlan([new PlannedSend(SendKind.Fresh, range, range, 0, ProbeFirst: probeFirst)], new PartitionState(new PartitionKey(topic, partition), 0, [new StateEntry(range, range, 0, false)], nonce));
    }

    private static GroupCandidate C(PartitionPlan plan, string table = "db.events", bool eligible = true) => new(table, plan, eligible);

    [Fact]
    public void Assign_NewRangesOfOneTable_ShareOneGroupRecordedInSendAndEntry()
    {
        var plans = InsertGroups.Assign([C(Fresh("t", 0, 0, 9)), C(Fresh("t", 1, 5, 9)), C(Fresh("t", 2, 0, 3))]);

        var group = plans[0].Sends[0].Group;
        Assert.NotEqual(0UL, group);
        Assert.All(plans, p => Assert.Equal(group, p.Sends[0].Group));
        Assert.All(plans, p => Assert.Equal(group, p.NewState.Entries[0].Group));
    }

    [Fact]
    public void Assign_SameMembersInAnyOrder_SameGroup_OtherMembershipAnother()
    {
        var a = InsertGroups.Assign([C(Fresh("t", 0, 0, 9)), C(Fresh("t", 1, 0, 9))]);
        var b = InsertGroups.Assign([C(Fresh("t", 1, 0, 9)), C(Fresh("t", 0, 0, 9))]);
        var longer = InsertGroups.Assign([C(Fresh("t", 0, 0, 9)), C(Fresh("t", 1, 0, 10))]);
        var renonced = InsertGroups.Assign([C(Fresh("t", 0, 0, 9)), C(Fresh("t", 1, 0, 9, nonce: 8))]);
        var wider = InsertGroups.Assign([C(Fresh("t", 0, 0, 9)), C(Fresh("t", 1, 0, 9)), C(Fresh("t", 2, 0, 9))]);

        Assert.Equal(a[0].Sends[0].Group, b[0].Sends[0].Group);
        Assert.NotEqual(a[0].Sends[0].Group, longer[0].Sends[0].Group);
        Assert.NotEqual(a[0].Sends[0].Group, renonced[0].Sends[0].Group);
        Assert.NotEqual(a[0].Sends[0].Group, wider[0].Sends[0].Group);
    }

    [Fact]
    public void Assign_GroupsPerTable_AndALoneMemberSendsOnItsOwn()
    {
        var plans = InsertGroups.Assign([C(Fresh("t", 0, 0, 9)), C(Fresh("t", 1, 0, 9)), C(Fresh("t", 2, 0, 9), "db.other")]);

        Assert.NotEqual(0UL, plans[0].Sends[0].Group);
        Assert.Equal(0UL, plans[2].Sends[0].Group);
    }

    [Fact]
    public void Assign_IneligibleProbedOrRedeliveredPlans_KeepTheirOwnInserts()
    {
        var fill = new PartitionPlan(
            [new PlannedSend(SendKind.FillMissing, new OffsetRange(0, 9), new OffsetRange(0, 9), 0, 0)],
            new PartitionState(new PartitionKey("t", 3), 0, [new StateEntry(new OffsetRange(0, 9), new OffsetRange(0, 9), 0, false, Round: 1)], 7));
        var plans = InsertGroups.Assign([
            C(Fresh("t", 0, 0, 9)),
            C(Fresh("t", 1, 0, 9), eligible: false),
            C(Fresh("t", 2, 0, 9, probeFirst: true)),
            C(fill),
        ]);

        Assert.All(plans, p => Assert.Equal(0UL, p.Sends[0].Group));
    }

    [Fact]
    public void Plan_RecordedGroupMemberRedelivered_FillsWithTheGroupAsRoundZero_OrAsATailWhereTheTableCannotBeAsked()
    {
        var key = new PartitionKey("t", 0);
        var recorded = new PartitionState(key, 0, [new StateEntry(new OffsetRange(0, 9), new OffsetRange(0, 9), 0, false, Group: 42)], 7);

        var probed = Reconciler.Plan(key, recorded, new OffsetRange(0, 9), 0, tableHasOffsetColumns: true, strictOffsets: false);
        var plain = Reconciler.Plan(key, recorded, new OffsetRange(0, 4), 0, tableHasOffsetColumns: false, strictOffsets: false);

        Assert.Equal(SendKind.FillMissing, probed.Sends[0].Kind);
        Assert.Equal(42UL, probed.Sends[0].Group);
        Assert.Equal(42UL, probed.NewState.Entries[0].Group);
        Assert.Equal(SendKind.Tail, plain.Sends[0].Kind);
        Assert.Equal(0UL, plain.Sends[0].Group);
        Assert.True(plain.NewState.Entries[^1].Pending);
    }
}
