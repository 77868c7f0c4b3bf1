using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// Exactly-once through the pipelines users build (issue #24's reproductions): a Null landing table with a view, a
/// MergeTree target with a view (failing once, failing on one value), a recreated topic, lost state, a stale poller,
/// no deduplication window. The real sink, the embedded engine, the fault layer in between.
/// </summary>
public class TopologyTests(ClickHouseFixture fixture)
{
    private static Func<HttpRequestMessage, Fault> OnInsertsInto(string table, Fault fault) =>
        r => FaultInjectingHandler.IsInsert(r) && FaultInjectingHandler.SqlText(r).Contains($"`{table}`", StringComparison.Ordinal) ? fault : Fault.None;

    [Fact]
    public async Task NullLandingWithView_RedeliveredFourTimes_EveryOffsetOnceInTheStoredTable_AndEveryDeliverySucceeds()
    {
        var topology = Topology.NullLanding();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 30);

        for (var delivery = 0; delivery < 4; delivery++)
        {
            Assert.Empty(await h.InvokeAsync(records));
        }

        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Stored));
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters"));
    }

    [Fact]
    public async Task NullLandingWithView_AnswerLostThenSmallerRedeliveries_EveryOffsetOnceInTheStoredTable()
    {
        var topology = Topology.NullLanding();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 30);
        h.Faults.Decide = OnInsertsInto(topology.Landing, Fault.LoseAnswerAfterApplying);
        Assert.NotEmpty(await h.InvokeAsync(records, TimeSpan.FromSeconds(1.5)));

        h.Faults.Decide = _ => Fault.None;
        Assert.Empty(await h.InvokeAsync(records));
        Assert.Empty(await h.InvokeAsync(records.Take(10)));
        Assert.Empty(await h.InvokeAsync(records.Skip(10)));

        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Stored));
    }

    [Fact]
    public async Task MergeTreeWithView_ViewRejectsOneValue_DuplicatesNothing_FailsNamingTheView_AndLandsOnceAfterTheFix()
    {
        var topology = Topology.MergeTreeWithView(rejected: 13);
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 30);

        for (var delivery = 0; delivery < 3; delivery++)
        {
            Assert.Equal([($"{topology.Name}-0", 0L)], await h.InvokeAsync(records));
            var (rows, offsets, _) = await h.CountsAsync(topology.Landing);
            Assert.Equal(offsets, rows);
            Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{topology.Stored}"));
        }

        Assert.Contains(h.Log.Lines, l => l.Message.Contains($"materialized view {h.Database}.{topology.Name}_mv rejected the block", StringComparison.Ordinal));
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters"));
        Assert.Equal(0, h.Metrics.Sum(m => m.PossibleDuplicates));

        await h.RunAsync($"DROP VIEW {{0}}.{topology.Name}_mv");
        await h.RunAsync(Topology.ViewDdl(topology.Name, rejected: null));
        Assert.Empty(await h.InvokeAsync(records));

        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Landing));
        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Stored));
    }

    [Fact]
    public async Task MergeTreeWithView_ViewFailingUntilTheDeadline_IsCompleteAfterItsRedelivery()
    {
        var topology = Topology.MergeTreeWithView(rejected: 13);
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 30);
        Assert.NotEmpty(await h.InvokeAsync(records, TimeSpan.FromSeconds(1.5)));

        await h.RunAsync($"DROP VIEW {{0}}.{topology.Name}_mv");
        await h.RunAsync(Topology.ViewDdl(topology.Name, rejected: null));
        Assert.Empty(await h.InvokeAsync(records));
        Assert.Empty(await h.InvokeAsync(records));

        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Landing));
        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Stored));
    }

    [Fact]
    public async Task MergeTreeWithView_ViewFailingUntilTheDeadline_ThenRedeliveredInSmallerBatches_IsCompleteInTheViewsTable()
    {
        var topology = Topology.MergeTreeWithSwitchedView();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 30);
        await h.RunAsync(Topology.BreakView(topology.Name));
        Assert.NotEmpty(await h.InvokeAsync(records, TimeSpan.FromSeconds(1.5)));
        Assert.Equal(30, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{topology.Landing}"));
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{topology.Stored}"));

        await FixViewAndRedeliverRebatchedAsync(h, topology, records, landed: 30);
    }

    [Fact]
    public async Task MergeTreeWithView_AnswersLostWhileTheViewFails_ThenRedeliveredInSmallerBatches_IsCompleteInTheViewsTable()
    {
        var topology = Topology.MergeTreeWithSwitchedView();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 60);
        Assert.Empty(await h.InvokeAsync(records.Take(30)));
        var next = records.Skip(30).ToList();

        // Every attempt of the next batch lands in the table, fails in the view and loses its answer: the sink never
        // sees the view's error, so nothing is recorded.
        await h.RunAsync(Topology.BreakView(topology.Name));
        h.Faults.Decide = OnInsertsInto(topology.Landing, Fault.LoseAnswerAfterApplying);
        Assert.NotEmpty(await h.InvokeAsync(next, TimeSpan.FromSeconds(1.5)));
        h.Faults.Decide = _ => Fault.None;
        Assert.Equal(60, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{topology.Landing}"));
        Assert.Equal(30, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{topology.Stored}"));

        await FixViewAndRedeliverRebatchedAsync(h, topology, next, landed: 60);
    }

    [Fact]
    public async Task MergeTreeWithView_ViewRejectsAPartOfTheRangeOnItsFirstRedelivery_ThenSmallerAndWholeRedeliveries_IsCompleteInTheViewsTable()
    {
        var topology = Topology.MergeTreeWithSwitchedView();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 60);
        Assert.Empty(await h.InvokeAsync(records.Take(30)));
        var next = records.Skip(30).ToList();

        // The next range's first insert never reaches the server; its first redelivery carries a part of it, which
        // lands in the table under round 0 while the view fails (seen: recorded); then a smaller part, then all of it.
        h.Faults.Decide = OnInsertsInto(topology.Landing, Fault.RefuseBeforeSending);
        Assert.NotEmpty(await h.InvokeAsync(next, TimeSpan.FromSeconds(1.5)));
        h.Faults.Decide = _ => Fault.None;
        await h.RunAsync(Topology.BreakView(topology.Name));
        Assert.NotEmpty(await h.InvokeAsync(next.Take(10)));
        await h.RunAsync(Topology.FixView(topology.Name));
        Assert.Empty(await h.InvokeAsync(next.Take(5)));
        Assert.Empty(await h.InvokeAsync(next));

        Assert.Equal((60L, 60L, 60L), await h.CountsAsync(topology.Landing));
        Assert.Equal((60L, 60L, 60L), await h.CountsAsync(topology.Stored));
    }

    [Fact]
    public async Task MergeTreeWithView_ViewFailedOnAPartSentFirst_ThenTheWholeRange_EveryDuplicateInTheViewsTableIsCounted()
    {
        var topology = Topology.MergeTreeWithSwitchedView();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 30);

        // The range's first insert never reaches the server; its first part then lands in the table under the range's
        // first token while the view fails; the whole range comes back once the view works.
        h.Faults.Decide = OnInsertsInto(topology.Landing, Fault.RefuseBeforeSending);
        Assert.NotEmpty(await h.InvokeAsync(records, TimeSpan.FromSeconds(1.5)));
        h.Faults.Decide = _ => Fault.None;
        await h.RunAsync(Topology.BreakView(topology.Name));
        Assert.NotEmpty(await h.InvokeAsync(records.Take(10)));
        await h.RunAsync(Topology.FixView(topology.Name));
        Assert.Empty(await h.InvokeAsync(records));

        // The table is exact and the view's table complete; what the view's table holds twice is counted, never silent.
        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Landing));
        var (rows, offsets, _) = await h.CountsAsync(topology.Stored);
        Assert.Equal(30L, offsets);
        Assert.True(h.Metrics.Sum(m => m.PossibleDuplicates) >= rows - offsets, $"{rows - offsets} rows twice in the view's table, {h.Metrics.Sum(m => m.PossibleDuplicates)} counted");
        TestContext.Current.TestOutputHelper?.WriteLine($"view's table: {rows} rows for {offsets} offsets; PossibleDuplicates {h.Metrics.Sum(m => m.PossibleDuplicates)}");
    }

    [Fact]
    public async Task MergeTreeWithView_RecreatedTopicsOldRowsAtTheSameOffsets_AreNotPushedThroughTheViewAgain()
    {
        var topology = Topology.MergeTreeWithSwitchedView();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var old = TopologyHarness.Records(topology.Name, 60);
        Assert.Empty(await h.InvokeAsync(old.Take(30)));
        Assert.Empty(await h.InvokeAsync(old.Skip(30)));

        // The topic is recreated: its new records reuse offsets 0..29 with later timestamps (a rewind for the sink), the
        // view fails on them, and they come back in two smaller batches.
        var renewed = TopologyHarness.Records(topology.Name, 30, timestampBase: 1_765_000_000_000L);
        await h.RunAsync(Topology.BreakView(topology.Name));
        Assert.NotEmpty(await h.InvokeAsync(renewed, TimeSpan.FromSeconds(1.5)));
        Assert.Equal(90, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{topology.Landing}"));
        await h.RunAsync(Topology.FixView(topology.Name));
        Assert.Empty(await h.InvokeAsync(renewed.Take(10)));
        Assert.Empty(await h.InvokeAsync(renewed.Skip(10)));

        // Every record of both topics once in the table; the view's table holds no record twice and every old one once
        // (the range is not re-sent from the table, which would push the old rows at its offsets through the view again),
        // and the operator is told.
        Assert.Equal((90L, 60L, 90L), await h.CountsAsync(topology.Landing));
        var (rows, _, ids) = await h.CountsAsync(topology.Stored);
        Assert.Equal(ids, rows);
        Assert.Equal(60, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{topology.Stored} WHERE _timestamp < toDateTime64(1765000000, 3)"));
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("the table holds two rows at some offsets of a range a materialized view rejected", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReplacingMergeTree_AnswerLostAndRedelivered_EveryOffsetOnceEvenWithoutFinal()
    {
        var topology = Topology.Replacing();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 30);
        h.Faults.Decide = OnInsertsInto(topology.Landing, Fault.LoseAnswerAfterApplying);
        Assert.NotEmpty(await h.InvokeAsync(records, TimeSpan.FromSeconds(1.5)));

        h.Faults.Decide = _ => Fault.None;
        Assert.Empty(await h.InvokeAsync(records.Take(20)));
        Assert.Empty(await h.InvokeAsync(records.Skip(20)));

        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Landing));
    }

    [Fact]
    public async Task RecreatedTopic_RetriedFirstBatchOfTheNewTopic_LandsInFull()
    {
        var topology = Topology.MergeTree();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var old = TopologyHarness.Records(topology.Name, 60);
        Assert.Empty(await h.InvokeAsync(old.Take(30)));
        Assert.Empty(await h.InvokeAsync(old.Skip(30)));

        // The topic is deleted and created again: new records at the old offsets, a day later.
        var recreated = TopologyHarness.Records(topology.Name, 30, timestampBase: 1_764_086_400_000L);
        h.Faults.Decide = OnInsertsInto(topology.Landing, Fault.RefuseBeforeSending);
        Assert.NotEmpty(await h.InvokeAsync(recreated, TimeSpan.FromSeconds(1.5)));
        h.Faults.Decide = _ => Fault.None;
        Assert.Empty(await h.InvokeAsync(recreated));

        Assert.Equal(90, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{topology.Stored}"));
        Assert.Equal(90, await h.ScalarAsync($"SELECT uniqExact(id) FROM {h.Database}.{topology.Stored}"));
    }

    [Fact]
    public async Task RecreatedTopic_NewBadRecordsAtOldOffsets_AreDeadLetteredAgain()
    {
        var topology = Topology.MergeTree();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var old = Bad(TopologyHarness.Records(topology.Name, 30), 5);
        Assert.Empty(await h.InvokeAsync(old.Take(20)));
        Assert.Empty(await h.InvokeAsync(old.Skip(20)));

        var recreated = Bad(TopologyHarness.Records(topology.Name, 10, timestampBase: 1_764_086_400_000L), 5);
        h.Faults.Decide = OnInsertsInto(topology.Landing, Fault.RefuseBeforeSending);
        Assert.NotEmpty(await h.InvokeAsync(recreated, TimeSpan.FromSeconds(1.5)));
        h.Faults.Decide = _ => Fault.None;
        Assert.Empty(await h.InvokeAsync(recreated));

        Assert.Equal(29 + 9, await h.ScalarAsync($"SELECT uniqExact(id) FROM {h.Database}.{topology.Stored}"));
        Assert.Equal(2, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters WHERE offset = 5"));
    }

    [Fact]
    public async Task TruncatedState_RedeliveredBatches_DuplicateNothingOnATableWithOffsetColumns()
    {
        var topology = Topology.MergeTree();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 60);
        Assert.Empty(await h.InvokeAsync(records.Take(30)));
        Assert.Empty(await h.InvokeAsync(records.Skip(30)));

        await h.RunAsync("TRUNCATE TABLE {0}.kafka_sink_state");
        Assert.Empty(await h.InvokeAsync(records.Skip(30)));
        Assert.Empty(await h.InvokeAsync(records));

        Assert.Equal((60L, 60L, 60L), await h.CountsAsync(topology.Stored));
    }

    [Fact]
    public async Task StalePoller_InvokeOfACommittedBatchAfterThePartitionMovedOn_DuplicatesNothing()
    {
        var topology = Topology.MergeTree();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 60);
        Assert.Empty(await h.InvokeAsync(records.Take(30)));
        Assert.Empty(await h.InvokeAsync(records.Skip(30)));

        Assert.Empty(await h.InvokeAsync(records.Take(30)));

        Assert.Equal((60L, 60L, 60L), await h.CountsAsync(topology.Stored));
    }

    [Fact]
    public async Task NoDeduplicationWindow_OneLostAnswer_DuplicatesNothingOnATableWithOffsetColumns()
    {
        var topology = Topology.MergeTree("nowindow", window: 0);
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 30);
        var lost = 0;
        h.Faults.Decide = r => OnInsertsInto(topology.Landing, Fault.LoseAnswerAfterApplying)(r) == Fault.LoseAnswerAfterApplying && Interlocked.Increment(ref lost) == 1
            ? Fault.LoseAnswerAfterApplying
            : Fault.None;

        Assert.Empty(await h.InvokeAsync(records));
        Assert.Empty(await h.InvokeAsync(records));

        Assert.Equal(1, h.Faults.Lost);
        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Stored));
        Assert.Equal(1, h.Metrics.All.Last().NonDeduplicatingTables);
    }

    /// <summary>Makes the record at <paramref name="offset"/> one ClickHouse rejects (text in the numeric column).</summary>
    private static List<SimRecord> Bad(List<SimRecord> records, long offset) =>
        records.Select(r => r.Offset == offset ? r with { Value = System.Text.Encoding.UTF8.GetBytes("{\"id\":\"bad\",\"n\":\"not-a-number\"}") } : r).ToList();

    /// <summary>
    /// The view fixed, <paramref name="batch"/> comes back re-batched (its first ten records, the rest, then all of it),
    /// each answered in full; then both tables hold <paramref name="landed"/> records once each, no possible duplicate counted.
    /// </summary>
    private static async Task FixViewAndRedeliverRebatchedAsync(TopologyHarness h, Topology topology, List<SimRecord> batch, long landed)
    {
        await h.RunAsync(Topology.FixView(topology.Name));
        Assert.Empty(await h.InvokeAsync(batch.Take(10)));
        Assert.Empty(await h.InvokeAsync(batch.Skip(10)));
        Assert.Empty(await h.InvokeAsync(batch));

        Assert.Equal((landed, landed, landed), await h.CountsAsync(topology.Landing));
        Assert.Equal((landed, landed, landed), await h.CountsAsync(topology.Stored));
        Assert.Equal(0, h.Metrics.Sum(m => m.PossibleDuplicates));
    }
}
