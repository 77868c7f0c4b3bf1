using MskClickHouse.Bench.EndToEnd;
using MskClickHouse.Bench.EndToEnd.Sections;

namespace MskClickHouse.Bench.Tests;

/// <summary>The routing-cost section at a tiny size: it routes what it says it routes (timings are not asserted).</summary>
public sealed class RoutingCostTests
{
    [Fact]
    public void RoutingCost_ByFieldSplitsTheSameRowsAsByTopic_AndFanOutAddsTheAllEventsCopy()
    {
        var options = BenchOptions.Parse(["--decode-iterations", "1"]);
        var workload = new Workload(records: 60, valueBytes: 200);

        var r = RoutingCost.Run(options, workload);

        Assert.Equal(60, r.RowsByTopic);
        Assert.Equal(r.RowsByTopic, r.RowsByField);
        Assert.Equal(2 * r.RowsByTopic, r.RowsFanOut);
        Assert.Equal(r.RowsByTopic, r.RowsTopicPerType);
        Assert.Single(r.FieldOverTopicPerTypeRatio);
        Assert.Single(r.TopicMs);
        Assert.Single(r.FieldRatio);
        Assert.Single(r.BatchFieldRatio);
        Assert.True(r.BatchTopicMs[0] > 0 && r.BatchFieldMs[0] > 0);
        Assert.True(r.SplitByFieldUs > 0);
        Assert.True(r.WarmUpRounds >= RoutingCost.QuietRounds);
    }

    [Fact]
    public void WarmUp_RunsUntilTheJitIsQuiet_ForTheGivenRoundsAndTime()
    {
        var ran = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var rounds = RoutingCost.WarmUp(i =>
        {
            Assert.Equal(ran, i);
            ran++;
        });

        Assert.Equal(ran, rounds);
        Assert.True(rounds >= RoutingCost.QuietRounds);
        Assert.True(clock.Elapsed >= RoutingCost.QuietTime);
    }

    [Fact]
    public void RoutingCost_ByFieldRouter_SendsEachRecordToTheTableOfItsEventType()
    {
        var workload = new Workload(records: 30, valueBytes: 200);
        using var batch = MskClickHouse.Core.Events.KafkaEventDecoder.Decode(workload.Event(0));
        var router = RoutingCost.Router(["click"], allEvents: false);

        foreach (var p in batch.Partitions)
        {
            var routing = router.Route(batch, p);
            var clicks = routing.Routed.SingleOrDefault()?.Records.Records ?? [];
            Assert.All(clicks, r => Assert.Contains("\"event\":\"click\"", System.Text.Encoding.UTF8.GetString(batch.Bytes(r.Value)), StringComparison.Ordinal));
            Assert.Equal(p.Records.Length, clicks.Length + (routing.Unrouted?.Records.Length ?? 0));
        }
    }
}
