using System.Diagnostics;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Tests.ClickHouse;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// The cost and the guarantees of isolating rejected rows, against the embedded engine through the real sink:
/// insert requests per unit (probes included) are counted at the HTTP layer, never timed.
/// </summary>
public class BadRowIsolationTests(ClickHouseFixture fixture)
{
    private const string UuidTable = "CREATE TABLE {0} (id UInt32, v UUID) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000";
    private const string GoodUuid = "\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\"";

    private static string Row(int id, bool bad) => $"{{\"id\":{id},\"v\":{(bad ? "\"not-a-uuid\"" : GoodUuid)}}}";

    [Fact]
    public async Task Insert_AllBadUnitOf10000Rows_DeadLettersEveryRowWithAFewRequests()
    {
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["t"] = UuidTable });
        var records = EngineSink.Records("t", Enumerable.Range(0, 10_000).Select(i => Row(i, bad: true)));

        var clock = Stopwatch.StartNew();
        Assert.Empty(await sink.InvokeAsync(records, TimeSpan.FromMinutes(5)));
        clock.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"all-bad 10,000 rows: {clock.Elapsed.TotalSeconds:F2} s, {sink.Counter.InsertsInto("t")} insert requests, {sink.Counter.Classifications} classification requests");

        var db = sink.Database;
        Assert.Equal(0, await sink.ScalarAsync($"SELECT count() FROM {db}.t"));
        Assert.Equal(10_000, await sink.ScalarAsync($"SELECT uniqExact(offset) FROM {db}.kafka_dead_letters"));
        Assert.Equal(10_000, await sink.ScalarAsync($"SELECT countIf(error LIKE '%(code 376)%') FROM {db}.kafka_dead_letters"));

        // The rows the probes found (ClassifyAfter, the first named by the first insert) and the next ExactReasons rows
        // carry the engine's own message; the others its verdict and the message of the first of those, named as such.
        const int exact = BadRowIsolation.ClassifyAfter + BadRowIsolation.ExactReasons;
        Assert.Equal(exact, await sink.ScalarAsync($"SELECT countIf(error NOT LIKE '%the engine skipped this row as a parse error%') FROM {db}.kafka_dead_letters"));
        Assert.Equal(10_000 - exact, await sink.ScalarAsync($"SELECT countIf(error LIKE '%its message for the first of them (offset {BadRowIsolation.ClassifyAfter})%') FROM {db}.kafka_dead_letters"));

        // The first insert, a probe per bad row until ClassifyAfter were found, one single-row probe per exact reason;
        // no row parses, so no good-row probe and no final insert.
        Assert.Equal(exact, sink.Counter.InsertsInto("t"));
        Assert.InRange(sink.Counter.Classifications, 1, 10);
        Assert.Equal(1, sink.Counter.InsertsInto("kafka_dead_letters"));
    }

    [Fact]
    public async Task Insert_AllBadUnitWhenClassificationIsNotConclusive_ProbesEveryRow()
    {
        // A column named like the classification's tag makes its query fail: the isolation falls back to probing.
        const string ddl = "CREATE TABLE {0} (id UInt32, v UUID, __sink_row UInt8 DEFAULT 0) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000";
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["t"] = ddl });
        var records = EngineSink.Records("t", Enumerable.Range(0, 1_000).Select(i => Row(i, bad: true)));

        var clock = Stopwatch.StartNew();
        Assert.Empty(await sink.InvokeAsync(records, TimeSpan.FromMinutes(5)));
        TestContext.Current.TestOutputHelper?.WriteLine($"all-bad 1,000 rows, probing: {clock.Elapsed.TotalSeconds:F2} s, {sink.Counter.InsertsInto("t")} insert requests");

        var db = sink.Database;
        Assert.Equal(1_000, await sink.ScalarAsync($"SELECT countIf(error LIKE '%(code 376)%' AND error NOT LIKE '%the engine skipped%') FROM {db}.kafka_dead_letters"));
        Assert.Equal(1, sink.Counter.Classifications);
        Assert.InRange(sink.Counter.InsertsInto("t"), 1_000, 1_000 + 2);
    }

    [Fact]
    public async Task Insert_AlternatingGoodAndBadRows_LandsTheGoodRowsAsOneBlockWithAFewRequests()
    {
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["t"] = UuidTable });
        var records = EngineSink.Records("t", Enumerable.Range(0, 2_000).Select(i => Row(i, bad: i % 2 == 1)));

        var clock = Stopwatch.StartNew();
        Assert.Empty(await sink.InvokeAsync(records));
        TestContext.Current.TestOutputHelper?.WriteLine($"1,000 bad of 2,000 alternating: {clock.Elapsed.TotalSeconds:F2} s, {sink.Counter.InsertsInto("t")} insert requests, {sink.Counter.Classifications} classification requests");
        Assert.Empty(await sink.InvokeAsync(records));

        var db = sink.Database;
        Assert.Equal(1_000, await sink.ScalarAsync($"SELECT count() FROM {db}.t"));
        Assert.Equal(1_000, await sink.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters"));
        Assert.Equal(1, await sink.ScalarAsync($"SELECT count() FROM system.parts WHERE database = '{db}' AND table = 't' AND active"));

        // First insert + a probe per bad row until ClassifyAfter were found + the probe of the rows classified good +
        // one probe per exact reason + the final insert; the redelivery is answered from the recorded state without an insert.
        Assert.Equal(BadRowIsolation.ClassifyAfter + 1 + BadRowIsolation.ExactReasons + 1, sink.Counter.InsertsInto("t"));
        Assert.InRange(sink.Counter.Classifications, 1, 2);
    }

    [Fact]
    public async Task Insert_FewBadRowsInALargeUnit_CostsAboutOneProbePerBadRowPlusLogN()
    {
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["t"] = UuidTable });
        int[] bad = [17, 4_000, 4_001, 9_990];
        var records = EngineSink.Records("t", Enumerable.Range(0, 10_000).Select(i => Row(i, bad.Contains(i))));

        var clock = Stopwatch.StartNew();
        Assert.Empty(await sink.InvokeAsync(records));
        TestContext.Current.TestOutputHelper?.WriteLine($"4 bad in 10,000: {clock.Elapsed.TotalSeconds:F2} s, {sink.Counter.InsertsInto("t")} insert requests, {sink.Counter.Classifications} classification requests");

        var db = sink.Database;
        Assert.Equal(10_000 - bad.Length, await sink.ScalarAsync($"SELECT count() FROM {db}.t"));
        Assert.Equal(string.Join(",", bad), await sink.TextAsync($"SELECT arrayStringConcat(groupArray(toString(offset)), ',') FROM (SELECT offset FROM {db}.kafka_dead_letters ORDER BY offset)"));
        Assert.Equal(1, await sink.ScalarAsync($"SELECT count() FROM system.parts WHERE database = '{db}' AND table = 't' AND active"));
        // Too few bad rows to classify: a probe per bad row plus about log n, the final insert.
        Assert.InRange(sink.Counter.InsertsInto("t"), bad.Length + 1, 1 + bad.Length + (3 * 14) + 1);
        Assert.Equal(0, sink.Counter.Classifications);
        Assert.Equal(0, await sink.ScalarAsync($"SELECT countIf(error LIKE '%the engine skipped%') FROM {db}.kafka_dead_letters"));
    }

    [Fact]
    public async Task Insert_ConstraintViolations_RemovesTheNamedRowsAndLandsTheRestAsOneBlock()
    {
        const string ddl = "CREATE TABLE {0} (id UInt32, v Int32, CONSTRAINT positive CHECK v > 0) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000";
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["t"] = ddl });
        var records = EngineSink.Records("t", Enumerable.Range(0, 500).Select(i => $"{{\"id\":{i},\"v\":{(i % 50 == 3 ? -1 : 1)}}}"));

        Assert.Empty(await sink.InvokeAsync(records));

        var db = sink.Database;
        Assert.Equal(490, await sink.ScalarAsync($"SELECT count() FROM {db}.t"));
        Assert.Equal(10, await sink.ScalarAsync($"SELECT countIf(error LIKE '%(code 469)%') FROM {db}.kafka_dead_letters"));
        Assert.Equal(1, await sink.ScalarAsync($"SELECT count() FROM system.parts WHERE database = '{db}' AND table = 't' AND active"));

        // "violated at row N" is found on the real insert only (the parser accepts the rows): one insert per violation.
        Assert.Equal(1 + 10, sink.Counter.InsertsInto("t"));
    }

    [Fact]
    public async Task Insert_DefaultThrowsWithoutNamingTheRow_HalvesInADryRunAndLandsTheRestAsOneBlockUnderTheUnitToken()
    {
        const string ddl = "CREATE TABLE {0} (id UInt32, v Int32, w String DEFAULT throwIf(v = 7, 'seven')) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000";
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["t"] = ddl });
        var records = EngineSink.Records("t", Enumerable.Range(0, 1_000).Select(i => $"{{\"id\":{i},\"v\":{(i % 100 == 7 ? 7 : 1)}}}"));

        Assert.Empty(await sink.InvokeAsync(records));
        Assert.Empty(await sink.InvokeAsync(records));

        var db = sink.Database;
        Assert.Equal(990, await sink.ScalarAsync($"SELECT count() FROM {db}.t"));
        Assert.Equal(1, await sink.ScalarAsync($"SELECT count() FROM system.parts WHERE database = '{db}' AND table = 't' AND active"));
        Assert.Equal(10, await sink.ScalarAsync($"SELECT countIf(error LIKE '%(code 395)%seven%found by a dry run%' AND error NOT LIKE '%sink_dry_run%') FROM {db}.kafka_dead_letters"));

        // Into the table: the first insert, the isolation's first final insert (the same rows, the same answer) and the
        // good rows under the unit's token; never a half. The halving went to the copy: about 2·log₂ n per bad row.
        var dryRuns = sink.Counter.Inserts.Where(p => p.Key.StartsWith("sink_dry_run_t_", StringComparison.Ordinal)).Sum(p => p.Value);
        TestContext.Current.TestOutputHelper?.WriteLine($"10 rows rejected without a row number in 1,000: {sink.Counter.InsertsInto("t")} inserts into the table, {dryRuns} dry-run inserts");
        Assert.Equal(3, sink.Counter.InsertsInto("t"));
        Assert.InRange(dryRuns, 10, 10 * 2 * 10);
    }

    /// <summary>
    /// Redeliveries allowed before the out-of-time isolation must have finished: about 5 on a quiet machine; a 2 s
    /// redelivery on a loaded one gets less done (one fresh CI run, with the host's CPU stolen, needed more than 60).
    /// </summary>
    private const int MaxRedeliveries = 150;

    [Fact]
    public async Task Insert_IsolationOutOfTime_WritesWhatItFoundAndTheRedeliveriesFinishWithoutDuplicates()
    {
        // Probing, not classification (a column named like its tag makes it inconclusive): probing is what runs long.
        const string ddl = "CREATE TABLE {0} (id UInt32, v UUID, __sink_row UInt8 DEFAULT 0) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000";
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["t"] = ddl });
        var records = EngineSink.Records("t", Enumerable.Range(0, 1_500).Select(i => Row(i, bad: i % 3 != 0)));

        var invocations = 0;
        IReadOnlyList<(string, long)> failures;
        do
        {
            invocations++;
            failures = await sink.InvokeAsync(records, TimeSpan.FromSeconds(2));
        }
        while (failures.Count > 0 && invocations < MaxRedeliveries);

        TestContext.Current.TestOutputHelper?.WriteLine($"1,000 bad of 1,500 rows with 2 s invocations: {invocations} invocations");
        Assert.Empty(failures);
        Assert.True(invocations > 1, "the invocation was expected to run out of time at least once");
        var db = sink.Database;
        Assert.Equal(500, await sink.ScalarAsync($"SELECT count() FROM {db}.t"));
        Assert.Equal(1_000, await sink.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters"));
        Assert.Equal(1_000, await sink.ScalarAsync($"SELECT uniqExact(offset) FROM {db}.kafka_dead_letters"));
        Assert.Contains(sink.Log.Lines, l => l.Message.Contains("did not finish before the deadline", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Insert_BackfillAcross150DailyPartitions_LandsOnceInOneInsert()
    {
        const string ddl = "CREATE TABLE {0} (ts DateTime('UTC'), v Int32) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY ts SETTINGS non_replicated_deduplication_window = 1000";
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["days"] = ddl });
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var records = EngineSink.Records("days", Enumerable.Range(0, 150).Select(i => $"{{\"ts\":\"{start.AddDays(i):yyyy-MM-dd HH:mm:ss}\",\"v\":{i}}}"));

        var clock = Stopwatch.StartNew();
        Assert.Empty(await sink.InvokeAsync(records));
        TestContext.Current.TestOutputHelper?.WriteLine($"150-partition backfill: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Empty(await sink.InvokeAsync(records));

        var db = sink.Database;
        Assert.Equal(150, await sink.ScalarAsync($"SELECT count() FROM {db}.days"));
        Assert.Equal(150, await sink.ScalarAsync($"SELECT uniqExact(_partition_id) FROM {db}.days"));
        Assert.Equal(1, sink.Counter.InsertsInto("days"));
    }

    [Fact]
    public async Task Insert_ReadOnlyUser_FailsThePartitionWithoutRetryingAndCountsIt()
    {
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["t"] = UuidTable }, new Dictionary<string, string> { ["readonly"] = "1" });
        var records = EngineSink.Records("t", Enumerable.Range(0, 10).Select(i => Row(i, bad: false)));

        var clock = Stopwatch.StartNew();
        var failures = await sink.InvokeAsync(records);
        TestContext.Current.TestOutputHelper?.WriteLine($"read-only user: partition failed after {clock.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal([("t-0", 0L)], failures);
        Assert.Equal(1, sink.Counter.InsertsInto("t"));
        Assert.Equal(1, sink.Metrics.Sum(m => m.RefusedPartitions));
        Assert.Contains(sink.Log.Lines, l => l.Message.Contains("refused the sink's user", StringComparison.Ordinal) && l.Message.Contains("READONLY", StringComparison.Ordinal) && l.Fields.ErrorCode == 164);
    }
}
