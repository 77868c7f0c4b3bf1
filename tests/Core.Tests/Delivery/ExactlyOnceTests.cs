using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// The exactly-once cases of docs/exactly-once.md, each against the embedded engine through the real sink with a
/// fault-injecting HTTP layer in between. Every test ends with the invariant: each produced offset present once.
/// </summary>
public class ExactlyOnceTests(ClickHouseFixture fixture)
{
    private static readonly string[] Topics = ["orders"];

    private static bool IsGood(SimRecord r) => r.Value is [(byte)'{', ..] && !System.Text.Encoding.UTF8.GetString(r.Value).Contains("not-a-number", StringComparison.Ordinal);

    private static Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> Log(string topic = "orders", int records = 100, double bad = 0, int partitions = 1, int seed = 1) =>
        SimulatedLog.Build(seed, [topic], partitions, records, bad);

    private static byte[] Event(IReadOnlyList<SimRecord> records, int from, int count) => KafkaEventWriter.Write(records.Skip(from).Take(count));

    private static Func<HttpRequestMessage, Fault> OnInsertsInto(string table, Fault fault) =>
        r => FaultInjectingHandler.IsInsert(r) && FaultInjectingHandler.SqlText(r).Contains($"`{table}`", StringComparison.Ordinal) ? fault : Fault.None;

    private static async Task AssertEachOffsetOnceAsync(SinkHarness h, IEnumerable<SimRecord> produced)
    {
        var good = produced.Where(IsGood).ToList();
        var db = h.Database;
        Assert.Equal(good.Count, await h.ScalarAsync($"SELECT count() FROM {db}.events"));
        Assert.Equal(good.Count, await h.ScalarAsync($"SELECT uniqExact(_topic, _partition, _offset) FROM {db}.events"));
        var bad = produced.Count(r => !IsGood(r));
        Assert.Equal(bad, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters"));
        Assert.Equal(bad, await h.ScalarAsync($"SELECT uniqExact(topic, partition, offset) FROM {db}.kafka_dead_letters"));
    }

    /// <summary>A redelivery bisected down to bad records only: no empty INSERT (code 108 failed it forever), dead letters only.</summary>
    [Fact]
    public async Task Invoke_BatchOfOnlyUndecodableRecords_DeadLettersThemAndSucceeds()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(bad: 0.2)[("orders", 0)];
        var first = log.Select((r, i) => (r, i)).First(x => !IsGood(x.r) && x.r.Value is not [(byte)'{', ..]).i;

        var outcome = await h.InvokeAsync(Event(log, first, 1));

        Assert.True(outcome.Succeeded, h.LastError?.ToString());
        Assert.Empty(outcome.Failures);
        Assert.Equal(1, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters"));
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
    }

    [Fact]
    public async Task Invoke_SameBatchTwice_LandsOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(bad: 0.1)[("orders", 0)];

        var first = await h.InvokeAsync(Event(log, 0, 100));
        Assert.True(first.Succeeded, h.LastError?.ToString());
        Assert.Empty(first.Failures);
        Assert.Empty((await h.InvokeAsync(Event(log, 0, 100))).Failures);

        await AssertEachOffsetOnceAsync(h, log);
        Assert.True(h.Metrics.Sum(m => m.Replayed) > 0);
    }

    [Fact]
    public async Task Invoke_AnswerLostAfterInsertApplied_RetryLandsOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log()[("orders", 0)];
        var lost = 0;
        h.Faults.Decide = r => OnInsertsInto("events", Fault.LoseAnswerAfterApplying)(r) == Fault.LoseAnswerAfterApplying && Interlocked.Increment(ref lost) == 1
            ? Fault.LoseAnswerAfterApplying
            : Fault.None;

        var outcome = await h.InvokeAsync(Event(log, 0, 100));

        Assert.True(outcome.Succeeded);
        Assert.Empty(outcome.Failures);
        Assert.Equal(1, h.Faults.Lost);
        await AssertEachOffsetOnceAsync(h, log);
    }

    [Fact]
    public async Task Invoke_ClickHouseRefusesThenRecovers_LandsOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(bad: 0.05)[("orders", 0)];
        var refused = 0;
        h.Faults.Decide = _ => Interlocked.Increment(ref refused) <= 4 ? Fault.RefuseBeforeSending : Fault.None;

        var outcome = await h.InvokeAsync(Event(log, 0, 100));

        Assert.Empty(outcome.Failures);
        Assert.Equal(4, h.Faults.Refused);
        await AssertEachOffsetOnceAsync(h, log);
    }

    [Fact]
    public async Task Invoke_TimeoutNearDeadline_ReportsPartitionThenRetryLandsOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture, requestTimeout: TimeSpan.FromMilliseconds(700));
        var log = Log()[("orders", 0)];
        h.Faults.Delay = TimeSpan.FromSeconds(1);
        h.Faults.Decide = OnInsertsInto("events", Fault.Delay);

        var first = await h.InvokeAsync(Event(log, 0, 100), timeout: TimeSpan.FromSeconds(2));

        Assert.Equal([("orders-0", 0L)], first.Failures);
        h.Faults.Decide = _ => Fault.None;
        Assert.Empty((await h.InvokeAsync(Event(log, 0, 100))).Failures);
        await AssertEachOffsetOnceAsync(h, log);
    }

    [Fact]
    public async Task Invoke_ExtendedBatchAfterLostAnswer_LandsOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(records: 150)[("orders", 0)];
        h.Faults.Decide = OnInsertsInto("events", Fault.LoseAnswerAfterApplying);
        Assert.NotEmpty((await h.InvokeAsync(Event(log, 0, 100), TimeSpan.FromSeconds(1.5))).Failures);

        h.Faults.Decide = _ => Fault.None;
        Assert.Empty((await h.InvokeAsync(Event(log, 0, 150))).Failures);

        await AssertEachOffsetOnceAsync(h, log);
    }

    [Fact]
    public async Task Invoke_BisectedHalvesWithOffsetColumns_FillOnlyMissingOffsets()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(bad: 0.1)[("orders", 0)];
        h.Faults.Decide = OnInsertsInto("events", Fault.LoseAnswerAfterApplying);
        Assert.NotEmpty((await h.InvokeAsync(Event(log, 0, 100), TimeSpan.FromSeconds(1.5))).Failures);

        h.Faults.Decide = _ => Fault.None;
        Assert.Empty((await h.InvokeAsync(Event(log, 0, 50))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(log, 50, 50))).Failures);

        await AssertEachOffsetOnceAsync(h, log);
        Assert.Equal(0, h.Metrics.Sum(m => m.PossibleDuplicates));
    }

    [Fact]
    public async Task Invoke_BatchStartingInsideRecordedRange_LandsOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(records: 160)[("orders", 0)];
        h.Faults.Decide = OnInsertsInto("events", Fault.RefuseBeforeSending);
        Assert.NotEmpty((await h.InvokeAsync(Event(log, 0, 100), TimeSpan.FromSeconds(1.5))).Failures);

        h.Faults.Decide = _ => Fault.None;
        Assert.Empty((await h.InvokeAsync(Event(log, 0, 40))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(log, 40, 120))).Failures);

        await AssertEachOffsetOnceAsync(h, log);
    }

    [Fact]
    public async Task Invoke_BisectedHalvesWithoutOffsetColumns_StayWithinReportedBound()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(topic: "legacy")[("legacy", 0)];
        h.Faults.Decide = OnInsertsInto("plain", Fault.LoseAnswerAfterApplying);
        Assert.NotEmpty((await h.InvokeAsync(Event(log, 0, 100), TimeSpan.FromSeconds(1.5))).Failures);

        h.Faults.Decide = _ => Fault.None;
        Assert.Empty((await h.InvokeAsync(Event(log, 0, 50))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(log, 50, 50))).Failures);

        var possible = h.Metrics.Sum(m => m.PossibleDuplicates);
        Assert.Equal(100, await h.ScalarAsync($"SELECT uniqExact(id) FROM {h.Database}.plain"));
        Assert.Equal(100 + possible, await h.ScalarAsync($"SELECT count() FROM {h.Database}.plain"));
        Assert.Equal(50, possible);
        Assert.Contains(h.Log.Lines, l => l.Message.StartsWith("PossibleDuplicates", StringComparison.Ordinal) && l.Fields.Offset == 50 && l.Fields.LastOffset == 99);
    }

    [Fact]
    public async Task Invoke_RedeliveredSmallerBatchAfterSuccessWithoutOffsetColumns_AddsNothing()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(topic: "legacy", records: 150)[("legacy", 0)];
        Assert.Empty((await h.InvokeAsync(Event(log, 0, 100))).Failures);

        // The commit was lost: the mapping delivers again from offset 0, in smaller batches.
        Assert.Empty((await h.InvokeAsync(Event(log, 0, 40))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(log, 40, 110))).Failures);

        Assert.Equal(150, await h.ScalarAsync($"SELECT count() FROM {h.Database}.plain"));
        Assert.Equal(150, await h.ScalarAsync($"SELECT uniqExact(id) FROM {h.Database}.plain"));
        Assert.Equal(0, h.Metrics.Sum(m => m.PossibleDuplicates));
    }

    [Fact]
    public async Task Invoke_TableWithoutDeduplicationWindow_WarnsAndReportsMetric()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        await h.Fixture.Server.QueryAsync($"CREATE TABLE {h.Database}.nodedup (id String, n UInt32) ENGINE = MergeTree ORDER BY id", TestContext.Current.CancellationToken);
        var log = Log(topic: "nodedup", records: 10)[("nodedup", 0)];

        Assert.Empty((await h.InvokeAsync(Event(log, 0, 10))).Failures);

        Assert.Equal(1, h.Metrics.All.Last().NonDeduplicatingTables);
        Assert.Contains(h.Log.Lines, l => l.Level == MskClickHouse.Core.Logging.LogLevel.Warning && l.Message.Contains("cannot deduplicate", StringComparison.Ordinal) && l.Fields.Table == $"{h.Database}.nodedup");
    }

    [Fact]
    public async Task Invoke_SameBatchConcurrently_LandsOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(bad: 0.1, partitions: 3);
        var payload = KafkaEventWriter.Write(log.Values.SelectMany(r => r));

        var outcomes = await Task.WhenAll(h.InvokeAsync(payload), h.InvokeAsync(payload), h.InvokeAsync(payload));

        // An invocation that loaded the state after another recorded its plan plans on top of it (other fencing
        // rounds); the earlier one then reads back a different plan and steps back (its partitions answered as
        // failures, docs/exactly-once.md). The mapping retries those, as here; each offset still lands once.
        Assert.All(outcomes, o => Assert.True(o.Succeeded, h.LastError?.ToString()));
        if (outcomes.Any(o => o.Failures.Count > 0))
        {
            Assert.Empty((await h.InvokeAsync(payload)).Failures);
        }

        await AssertEachOffsetOnceAsync(h, log.Values.SelectMany(r => r));
    }

    [Fact]
    public async Task Invoke_OffsetsRewoundOverRecordsThatLanded_FindsThemPresentAndWarns()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = Log(records: 200)[("orders", 0)];
        Assert.Empty((await h.InvokeAsync(Event(log, 0, 100))).Failures);
        Assert.Empty((await h.InvokeAsync(Event(log, 100, 100))).Failures);

        Assert.Empty((await h.InvokeAsync(Event(log, 0, 50))).Failures);

        // The same records (offset and timestamp) are there already: a stale poller's batch or a rewind over them lands
        // nothing again (a recreated topic's new records do land: TopologyTests).
        Assert.Equal(200, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Contains(h.Log.Lines, l => l.Message.StartsWith("records of a new unit are present already", StringComparison.Ordinal) && l.Fields.Offset == 0);
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("rewound", StringComparison.Ordinal) && l.Fields.Offset == 0);
    }

    [Fact]
    public async Task Invoke_MixedEvent_LandsInTwoTablesWithMetadataAndDeadLettersTheRest()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var orders = Log(bad: 0.2, seed: 5)[("orders", 0)];
        var legacy = Log(topic: "legacy", records: 20)[("legacy", 0)];

        var outcome = await h.InvokeAsync(KafkaEventWriter.Write(orders.Concat(legacy)));

        Assert.True(outcome.Succeeded, h.LastError?.ToString());
        Assert.Empty(outcome.Failures);
        await AssertEachOffsetOnceAsync(h, orders);
        Assert.Equal(20, await h.ScalarAsync($"SELECT count() FROM {h.Database}.plain"));

        var sample = orders.First(IsGood);
        var row = await h.TextAsync(
            $"SELECT _topic, _partition, _offset, _key, _headers['trace'], toUnixTimestamp64Milli(_timestamp), id FROM {h.Database}.events WHERE _offset = {sample.Offset} FORMAT TSV");
        var id = System.Text.Encoding.UTF8.GetString(sample.Key!);
        Assert.Equal($"orders\t0\t{sample.Offset}\t{id}\t{id}\t{sample.TimestampMs}\t{id}", row);

        var typeError = orders.First(r => !IsGood(r) && r.Value![0] == (byte)'{');
        var letter = await h.TextAsync(
            $"SELECT target_table, value, error FROM {h.Database}.kafka_dead_letters WHERE offset = {typeError.Offset} FORMAT TSV");
        Assert.StartsWith($"{h.Database}.events\t{System.Text.Encoding.UTF8.GetString(typeError.Value!)}\trejected by ClickHouse", letter, StringComparison.Ordinal);
        var notObject = orders.First(r => !IsGood(r) && r.Value![0] == (byte)'[');
        Assert.Contains("array", await h.TextAsync($"SELECT error FROM {h.Database}.kafka_dead_letters WHERE offset = {notObject.Offset} FORMAT TSV"), StringComparison.Ordinal);
    }
}
