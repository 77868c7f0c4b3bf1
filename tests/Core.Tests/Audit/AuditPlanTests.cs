using MskClickHouse.Core.Audit;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Tests.Audit;

public class AuditPlanTests
{
    private static readonly TableName Events = new("db", "events");

    private static PlanRecord Plan(string source, string topic, long version, long first, long last) =>
        new(source, new PartitionKey(topic, 0), version, 7, [new StateEntry(new OffsetRange(first, last), new OffsetRange(first, last), 0, false, Count: new RangeCount((int)(last - first + 1), 0))]);

    private static TableName Route(string topic) => topic == "orders" ? Events : new TableName("db", topic);

    [Fact]
    public void For_OnlyTopicsRoutedToTheTable_AreAudited()
    {
        var plan = AuditPlan.For(Events, hasSource: true, [Plan("A", "orders", 1, 0, 9), Plan("A", "orders", 2, 10, 19), Plan("A", "clicks", 1, 0, 9), Plan("A", "clicks", 2, 10, 19)], Route);

        Assert.Equal([new AuditPartition("A", "orders", 0)], plan.Ranges.Keys);
        Assert.Equal([new OffsetRange(0, 9)], plan.Flattened().Select(r => r.Range));
    }

    [Fact]
    public void For_TableWithoutSource_SkipsAPartitionTwoSourcesWrote_AndNamesTheFix()
    {
        var plan = AuditPlan.For(Events, hasSource: false, [Plan("A", "orders", 1, 0, 9), Plan("A", "orders", 2, 10, 19), Plan("B", "orders", 3, 0, 9), Plan("B", "orders", 4, 10, 19)], Route);

        Assert.Empty(plan.Ranges);
        Assert.Contains("ADD COLUMN _source", Assert.Single(plan.Skipped), StringComparison.Ordinal);
    }

    [Fact]
    public void For_TableWithoutSource_OneSource_CountsThatSourcesDeadLetters()
    {
        var plan = AuditPlan.For(Events, hasSource: false, [Plan("A", "orders", 1, 0, 9), Plan("A", "orders", 2, 10, 19)], Route);

        Assert.Equal([new AuditPartition(string.Empty, "orders", 0)], plan.Ranges.Keys);
        Assert.Equal("A", plan.DeadLetterSources[("orders", 0)]);
    }
}
