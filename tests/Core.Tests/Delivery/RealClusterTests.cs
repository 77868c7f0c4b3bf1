using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// What a real cluster adds to the single node (issue #12): sequentially consistent reads, lagging replicas, inserts
/// applied after the client gave up, many sources, recreated topics, deadlines. Against the embedded engine through
/// the real sink with the fault layer in between.
/// </summary>
public class RealClusterTests(ClickHouseFixture fixture)
{
    private const string OtherSourceArn = "arn:aws:kafka:eu-west-1:123456789012:cluster/other/11111111-1111-1111-1111-111111111111-1";

    private static IReadOnlyList<SimRecord> Orders(int records = 100, int seed = 1, long firstOffset = 0, string topic = "orders") =>
        SimulatedLog.Build(seed, [topic], 1, records, 0, firstOffset)[(topic, 0)];

    private static byte[] Event(IEnumerable<SimRecord> records, string arn = KafkaEventWriter.DefaultSourceArn) =>
        KafkaEventWriter.Write(records, eventSourceArn: arn);

    /// <summary>
    /// chDB 26.7 (ClickHouse 26.7) accepts select_sequential_consistency=1 on a plain MergeTree and on a
    /// ReplacingMergeTree read with FINAL, with no error and the normal result: the sink can send it to every engine.
    /// </summary>
    [Fact]
    public async Task Read_SequentialConsistencyOnMergeTreeFamily_IsAcceptedAndAnswersNormally()
    {
        var db = await fixture.CreateDatabaseAsync("seqc", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.m (a Int32) ENGINE = MergeTree ORDER BY a", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.r (a Int32, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY a", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"INSERT INTO {db}.m VALUES (1), (2)", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"INSERT INTO {db}.r VALUES (1, 1), (1, 2)", TestContext.Current.CancellationToken);

        Assert.Equal("2", (await fixture.Server.QueryAsync($"SELECT count() FROM {db}.m SETTINGS {ClickHouseStateStore.SequentialConsistency}", TestContext.Current.CancellationToken)).Trim());
        Assert.Equal("1\t2", (await fixture.Server.QueryAsync($"SELECT a, v FROM {db}.r FINAL SETTINGS {ClickHouseStateStore.SequentialConsistency} FORMAT TSV", TestContext.Current.CancellationToken)).Trim());
    }

    [Fact]
    public async Task FaultLayer_LaggedInsert_InvisibleToOrdinaryReadsUntilASequentiallyConsistentRead()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        h.Faults.Decide = r => FaultInjectingHandler.IsInsert(r) ? Fault.LagReplica : Fault.None;
        var gateway = new MskClickHouse.Core.ClickHouse.DriverClickHouseGateway(h.Options.Connection, h.Faults);

        await gateway.InsertAsync($"INSERT INTO {h.Database}.plain FORMAT JSONEachRow", [System.Text.Encoding.UTF8.GetBytes("{\"id\":\"a\",\"n\":1}\n")], new Dictionary<string, string>(), CancellationToken.None);
        var ordinary = System.Text.Encoding.UTF8.GetString(await gateway.QueryAsync($"SELECT count() FROM {h.Database}.plain FORMAT TSV", CancellationToken.None)).Trim();
        var consistent = System.Text.Encoding.UTF8.GetString(await gateway.QueryAsync($"SELECT count() FROM {h.Database}.plain SETTINGS {ClickHouseStateStore.SequentialConsistency} FORMAT TSV", CancellationToken.None)).Trim();

        Assert.Equal("0", ordinary);
        Assert.Equal("1", consistent);
        Assert.Equal(1, h.Faults.Lagged);

        // A data error is answered at once, as the receiving replica would.
        h.Faults.Decide = r => FaultInjectingHandler.IsInsert(r) ? Fault.LagReplica : Fault.None;
        await Assert.ThrowsAsync<MskClickHouse.Core.ClickHouse.ClickHouseException>(() =>
            gateway.InsertAsync($"INSERT INTO {h.Database}.plain FORMAT JSONEachRow", [System.Text.Encoding.UTF8.GetBytes("{\"id\":\"b\",\"n\":\"x\"}\n")], new Dictionary<string, string>(), CancellationToken.None));
        gateway.Dispose();
    }

    [Fact]
    public async Task Invoke_LateApplyThenSmallerRetries_NeverDuplicatesWithOffsetColumns()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Orders(100);
        var first = 0;
        h.Faults.Decide = r => FaultInjectingHandler.IsInsert(r) && FaultInjectingHandler.SqlText(r).Contains("`events`", StringComparison.Ordinal) && Interlocked.Increment(ref first) == 1
            ? Fault.LateApply
            : Fault.None;

        // The first insert's connection drops; the sink retries it under the same token, or the deadline ends the attempt.
        await h.InvokeAsync(Event(log), TimeSpan.FromSeconds(1));
        h.Faults.Decide = _ => Fault.None;
        Assert.Empty((await h.InvokeAsync(Event(log.Take(30)))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(log.Skip(30).Take(30)))).Failures);
        await h.Faults.DrainAsync();
        Assert.Empty((await h.InvokeAsync(Event(log.Skip(60)))).Failures);
        await h.Faults.DrainAsync();

        Assert.Equal(1, h.Faults.LateApplied);
        Assert.Equal(100, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(100, await h.ScalarAsync($"SELECT uniqExact(_offset) FROM {h.Database}.events"));
    }

    [Fact]
    public async Task Invoke_TwoSourcesSameTopicOneClickHouse_LoseNothing()
    {
        using var h = await SinkHarness.CreateAsync(fixture, eventsHaveSource: true);
        var a = Orders(100, seed: 1);
        var b = Orders(100, seed: 2);
        var legacyA = Orders(40, seed: 3, topic: "legacy");
        var legacyB = Orders(40, seed: 4, topic: "legacy");

        Assert.Empty((await h.InvokeAsync(Event(a.Concat(legacyA)))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(b.Concat(legacyB), OtherSourceArn))).Failures);

        // Retries of each, smaller (the fill path's presence probe must only see its own source's offsets).
        Assert.Empty((await h.InvokeAsync(Event(b.Take(50), OtherSourceArn))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(a.Take(50)))).Failures);

        Assert.Equal(200, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(200, await h.ScalarAsync($"SELECT uniqExact(_source, _offset) FROM {h.Database}.events"));
        Assert.Equal(80, await h.ScalarAsync($"SELECT count() FROM {h.Database}.plain"));
        Assert.Equal(2, await h.ScalarAsync($"SELECT uniqExact(source) FROM {h.Database}.kafka_sink_state WHERE position(source, '#plan@') = 0"));
    }

    [Fact]
    public async Task Invoke_TwoSourcesIntoOffsetTableWithoutSourceColumn_RefusedWithClearError()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        Assert.Empty((await h.InvokeAsync(Event(Orders(10)))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(Orders(10, seed: 2), OtherSourceArn))).Failures);

        // A retry of a recorded range needs the presence probe, which cannot tell the two sources apart.
        var outcome = await h.InvokeAsync(Event(Orders(10, seed: 2).Take(5), OtherSourceArn));

        Assert.Equal([("orders-0", 0L)], outcome.Failures);
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("no _source column", StringComparison.Ordinal) && l.Message.Contains(OtherSourceArn, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Invoke_RecreatedTopicOverlappingFirstBatch_LandsInFull()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var old = Orders(100, seed: 1, firstOffset: 100);
        Assert.Empty((await h.InvokeAsync(Event(old))).Failures);

        // The topic is recreated: new records at offsets 0-499, timestamps of today.
        var recreated = Orders(500, seed: 9).Select(r => r with { TimestampMs = r.TimestampMs + 86_400_000 }).ToList();
        Assert.Empty((await h.InvokeAsync(Event(recreated))).Failures);

        Assert.Equal(600, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(500, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events WHERE toUnixTimestamp64Milli(_timestamp) > {old[^1].TimestampMs + 1000}"));
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("rewound", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Invoke_StateRowDeletedThenSameOffsetsWithNewData_LandsInFull()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        Assert.Empty((await h.InvokeAsync(Event(Orders(100, seed: 1)))).Failures);
        await fixture.Server.QueryAsync($"TRUNCATE TABLE {h.Database}.kafka_sink_state", TestContext.Current.CancellationToken);

        var recreated = Orders(100, seed: 5, topic: "orders").Select(r => r with { TimestampMs = r.TimestampMs + 3_600_000 }).ToList();
        Assert.Empty((await h.InvokeAsync(Event(recreated))).Failures);

        Assert.Equal(200, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
    }

    [Fact]
    public async Task Invoke_DeadlineHitMidBatch_ReturnsPerPartitionFailuresAndLandsTheRest()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var orders = SimulatedLog.Build(1, ["orders"], 2, 50, 0);
        var legacy = Orders(30, topic: "legacy");
        h.Faults.Delay = TimeSpan.FromSeconds(8);
        h.Faults.Decide = r => FaultInjectingHandler.IsInsert(r) && FaultInjectingHandler.SqlText(r).Contains("`events`", StringComparison.Ordinal) ? Fault.Delay : Fault.None;

        // The request timeout is 10 s and the delayed inserts take 8 s; the invocation has 3 s (time for the legacy
        // partition on a loaded machine): requests are cut at the time left, not at 8 or 10 s.
        var started = DateTimeOffset.UtcNow;
        var outcome = await h.InvokeAsync(KafkaEventWriter.Write(orders.Values.SelectMany(r => r).Concat(legacy)), TimeSpan.FromSeconds(3));

        Assert.True(outcome.Succeeded, h.LastError?.ToString());
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(6), "the invocation waited for the delayed request or the request timeout instead of its deadline");
        Assert.Equal([("orders-0", 0L), ("orders-1", 0L)], outcome.Failures.Order());
        Assert.Equal(30, await h.ScalarAsync($"SELECT count() FROM {h.Database}.plain"));
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("deadline", StringComparison.Ordinal) && l.Fields.Topic == "orders");

        h.Faults.Decide = _ => Fault.None;
        await Task.Delay(h.Faults.Delay, TestContext.Current.CancellationToken);
        Assert.Empty((await h.InvokeAsync(KafkaEventWriter.Write(orders.Values.SelectMany(r => r)))).Failures);
        Assert.Equal(100, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(100, await h.ScalarAsync($"SELECT uniqExact(_partition, _offset) FROM {h.Database}.events"));
    }

    [Fact]
    public async Task Start_StateTableOfEarlierVersion_IsMigratedAndItsRangesKeepTheirTokens()
    {
        var db = await fixture.CreateDatabaseAsync("legacy", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync(
            $"CREATE TABLE {db}.kafka_sink_state (sink_id String, topic String, partition Int32, generation UInt32, " +
            "entries Array(Tuple(first Int64, last Int64, token_first Int64, token_last Int64, generation UInt32, pending UInt8, landed UInt8)), " +
            "updated_at DateTime64(3, 'UTC'), version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (sink_id, topic, partition)", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"INSERT INTO {db}.kafka_sink_state VALUES ('test-sink', 'legacy', 0, 0, [(0, 99, 0, 99, 0, 0, 0)], now64(3), 1)", TestContext.Current.CancellationToken);
        var log = Orders(100, topic: "legacy");
        await fixture.Server.QueryAsync(
            $"CREATE TABLE {db}.plain (id String, n UInt32, amount Float64, note String) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100000", TestContext.Current.CancellationToken);

        // The earlier version had inserted 0-99 under its token, and its answer was lost.
        var rows = string.Concat(log.Select(r => System.Text.Encoding.UTF8.GetString(r.Value!) + "\n"));
        await fixture.Server.QueryAsync($"INSERT INTO {db}.plain SETTINGS insert_deduplication_token = 'test-sink:legacy:0:0-99' FORMAT JSONEachRow {rows}", TestContext.Current.CancellationToken);

        using var h = await SinkHarness.CreateAsync(fixture, database: db);
        Assert.Empty((await h.InvokeAsync(Event(log))).Failures);

        Assert.Equal(100, await h.ScalarAsync($"SELECT count() FROM {db}.plain"));
        Assert.Contains("source", await h.TextAsync($"SELECT sorting_key FROM system.tables WHERE database = '{db}' AND name = 'kafka_sink_state'"), StringComparison.Ordinal);
        Assert.Contains("#plan@", await h.TextAsync($"SELECT create_table_query FROM system.tables WHERE database = '{db}' AND name = 'kafka_sink_state'"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_DifferentBatchesOfOnePartitionAtOnce_NeverDuplicate()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Orders(300);
        for (var k = 0; k < 300; k += 60)
        {
            // Two pollers after a rebalance: both start at the committed offset, with different batch sizes.
            await Task.WhenAll(h.InvokeAsync(Event(log.Skip(k).Take(60))), h.InvokeAsync(Event(log.Skip(k).Take(25))));

            // The surviving poller's batch, delivered again until it succeeds (a failure is retried by the mapping).
            Assert.Empty((await h.InvokeAsync(Event(log.Skip(k).Take(60)))).Failures);
        }

        Assert.Equal(300, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(300, await h.ScalarAsync($"SELECT uniqExact(_offset) FROM {h.Database}.events"));
    }

    [Fact]
    public async Task Invoke_ServerOmitsSummaryHeader_PossibleDuplicatesStillCounted()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        h.Faults.StripSummary = true;
        var log = Orders(100, topic: "legacy");
        var inserts = 0;
        h.Faults.Decide = r => !(FaultInjectingHandler.IsInsert(r) && FaultInjectingHandler.SqlText(r).Contains("`plain`", StringComparison.Ordinal)) ? Fault.None
            : Interlocked.Increment(ref inserts) == 1 ? Fault.LoseAnswerAfterApplying
            : Fault.RefuseBeforeSending;

        // Applied once, never answered: the outcome stays unknown until the deadline.
        Assert.NotEmpty((await h.InvokeAsync(Event(log), TimeSpan.FromSeconds(1.5))).Failures);

        h.Faults.Decide = _ => Fault.None;
        Assert.Empty((await h.InvokeAsync(Event(log.Take(50)))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(log.Skip(50)))).Failures);

        Assert.Equal(150, await h.ScalarAsync($"SELECT count() FROM {h.Database}.plain"));
        Assert.Equal(50, h.Metrics.Sum(m => m.PossibleDuplicates));
        // Rows the sink sent and got an answer for (subset 50 + tail 50), though no answer carried written_rows.
        Assert.Equal(100, h.Metrics.Sum(m => m.RowsInserted));
    }
}
