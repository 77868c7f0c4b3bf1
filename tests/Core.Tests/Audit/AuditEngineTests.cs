using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Audit;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Audit;

/// <summary>Records audit metrics in memory.</summary>
internal sealed class RecordingAuditMetrics : IAuditMetricsSink
{
    public List<AuditMetrics> All { get; } = [];

    public void Publish(AuditMetrics metrics) => All.Add(metrics);
}

/// <summary>
/// The audit against the embedded engine, after the real sink delivered batches of a transactional topic (offset gaps
/// inside and between batches), with a tombstone and a dead letter: it reports exactly the planted faults.
/// </summary>
public class AuditEngineTests(ClickHouseFixture fixture)
{
    /// <summary>Offsets of partition 0: gaps at 3-4 and 12 (transaction markers) and 20-21 between batches.</summary>
    private static readonly long[][] Batches = [[0, 1, 2, 5, 6, 7, 8, 9], [10, 11, 13, 14, 15, 16, 17, 18, 19], [22, 23, 24, 25]];

    private static SimRecord Record(long offset, long now) => new(
        "orders",
        0,
        offset,
        now,
        null,
        offset switch
        {
            6 => null, // a tombstone: skipped by policy
            8 => "not json"u8.ToArray(), // a dead letter
            _ => Encoding.UTF8.GetBytes($$"""{"id":"r{{offset}}","n":{{offset}},"amount":1.5,"note":"x"}"""),
        },
        []);

    private static async Task<(SinkHarness Harness, long Now)> DeliverAsync(ClickHouseFixture fixture, bool withSource)
    {
        var h = await SinkHarness.CreateAsync(fixture, eventsHaveSource: withSource);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var batch in Batches)
        {
            var outcome = await h.InvokeAsync(KafkaEventWriter.Write(batch.Select(o => Record(o, now))));
            Assert.True(outcome.Succeeded && outcome.Failures.Count == 0, h.LastError?.ToString());
        }

        return (h, now);
    }

    private static async Task<(JsonDocument Answer, RecordingAuditMetrics Metrics, RecordingLog Log)> AuditAsync(SinkHarness h, string payload = "{}")
    {
        var metrics = new RecordingAuditMetrics();
        var log = new RecordingLog();
        using var gateway = new DriverClickHouseGateway(h.Options.Connection);
        var handler = AuditHandlerFactory.Create(h.Options, gateway, log, metrics, TimeProvider.System);
        var context = new InvocationContext("audit-1", DateTimeOffset.UtcNow.AddMinutes(1), "arn:aws:lambda:us-east-1:123456789012:function:audit", null);
        var answer = await handler.HandleAsync(context, Encoding.UTF8.GetBytes(payload), TestContext.Current.CancellationToken);
        return (JsonDocument.Parse(answer), metrics, log);
    }

    private static JsonElement Table(JsonDocument answer, string table) =>
        answer.RootElement.GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("table").GetString() == table);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Audit_CleanDelivery_WithGapsTombstoneAndDeadLetter_ReportsNothing(bool withSource)
    {
        var (h, _) = await DeliverAsync(fixture, withSource);
        using var _h = h;

        var (answer, metrics, _) = await AuditAsync(h);

        using (answer)
        {
            var events = Table(answer, $"{h.Database}.events");
            Assert.Equal(0, events.GetProperty("duplicateOffsets").GetInt64());
            Assert.Equal(0, events.GetProperty("missingRecords").GetInt64());
            Assert.Equal(2, events.GetProperty("auditedRanges").GetInt64()); // the newest batch is not acknowledged yet
            Assert.Empty(events.GetProperty("skipped").EnumerateArray());
        }

        Assert.Equal(new AuditMetrics($"{h.Database}.events", 0, 0), Assert.Single(metrics.All));
    }

    [Fact]
    public async Task Audit_PlantedDuplicateAndDeletedRows_ReportsExactlyThem()
    {
        var (h, _) = await DeliverAsync(fixture, withSource: true);
        using var _h = h;
        var db = h.Database;
        await h.Fixture.Server.QueryAsync($"INSERT INTO {db}.events SELECT * FROM {db}.events WHERE _offset IN (13, 14)", TestContext.Current.CancellationToken);
        await h.Fixture.Server.QueryAsync($"ALTER TABLE {db}.events DELETE WHERE _offset IN (1, 17) SETTINGS mutations_sync = 2", TestContext.Current.CancellationToken);
        // A row of the newest batch, whose acknowledgement is not provable yet: not reported.
        await h.Fixture.Server.QueryAsync($"ALTER TABLE {db}.events DELETE WHERE _offset = 23 SETTINGS mutations_sync = 2", TestContext.Current.CancellationToken);

        var (answer, metrics, log) = await AuditAsync(h);

        using (answer)
        {
            var events = Table(answer, $"{db}.events");
            Assert.Equal(2, events.GetProperty("duplicateOffsets").GetInt64());
            var dup = Assert.Single(events.GetProperty("duplicateRanges").EnumerateArray());
            Assert.Equal((13, 14, 2), (dup.GetProperty("first").GetInt64(), dup.GetProperty("last").GetInt64(), dup.GetProperty("extraRows").GetInt64()));
            Assert.Equal(2, events.GetProperty("missingRecords").GetInt64());
            var missing = events.GetProperty("missingRanges").EnumerateArray()
                .Select(m => (m.GetProperty("first").GetInt64(), m.GetProperty("last").GetInt64(), m.GetProperty("expected").GetInt64(), m.GetProperty("found").GetInt64()))
                .ToList();
            Assert.Equal([(0L, 9L, 7L, 6L), (10L, 19L, 9L, 8L)], missing);
        }

        Assert.Equal(new AuditMetrics($"{db}.events", 2, 2), Assert.Single(metrics.All));
        var line = Assert.Single(log.Lines, l => l.Message.StartsWith("MissingRecords", StringComparison.Ordinal));
        Assert.Equal("orders", line.Fields.Topic);
        Assert.Contains("0-9 (expected 7, found 6), 10-19 (expected 9, found 8)", line.Message, StringComparison.Ordinal);
        Assert.Single(log.Lines, l => l.Message.StartsWith("DuplicateOffsets", StringComparison.Ordinal) && l.Message.Contains("13-14", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Audit_DeletedDeadLetter_IsMissing_AndTablesPayloadNamesWhatIsChecked()
    {
        var (h, _) = await DeliverAsync(fixture, withSource: true);
        using var _h = h;
        var db = h.Database;
        await h.Fixture.Server.QueryAsync($"ALTER TABLE {db}.kafka_dead_letters DELETE WHERE offset = 8 SETTINGS mutations_sync = 2", TestContext.Current.CancellationToken);

        var (answer, _, _) = await AuditAsync(h, $$"""{"tables":["{{db}}.events"],"windowHours":2}""");

        using (answer)
        {
            Assert.Equal(2, answer.RootElement.GetProperty("windowHours").GetInt32());
            var events = Table(answer, $"{db}.events");
            Assert.Equal(1, events.GetProperty("missingRecords").GetInt64());
            Assert.Single(answer.RootElement.GetProperty("tables").EnumerateArray());
        }
    }

    [Fact]
    public async Task Audit_ADeadLetterForAnotherTable_DoesNotCountForThisOne()
    {
        var (h, _) = await DeliverAsync(fixture, withSource: true);
        using var _h = h;
        var db = h.Database;
        // Fan-out: offset 8 dead-lettered for another table of the topic only; this table holds no row of it.
        await h.Fixture.Server.QueryAsync($"ALTER TABLE {db}.kafka_dead_letters UPDATE target_table = '{db}.other' WHERE offset = 8 SETTINGS mutations_sync = 2", TestContext.Current.CancellationToken);

        var (answer, _, _) = await AuditAsync(h, $$"""{"tables":["{{db}}.events"]}""");

        using (answer)
        {
            var events = Table(answer, $"{db}.events");
            Assert.Equal(1, events.GetProperty("missingRecords").GetInt64());
            var missing = Assert.Single(events.GetProperty("missingRanges").EnumerateArray());
            Assert.Equal((0L, 9L, 7L, 6L), (missing.GetProperty("first").GetInt64(), missing.GetProperty("last").GetInt64(), missing.GetProperty("expected").GetInt64(), missing.GetProperty("found").GetInt64()));
        }
    }

    [Fact]
    public async Task Audit_StateTableOfAnEarlierVersion_GainsRangeCounts_OldRowsAreNotAudited()
    {
        var db = await fixture.CreateDatabaseAsync("audit", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync(
            $"CREATE TABLE {db}.kafka_sink_state (sink_id String, source String, topic String, partition Int32, generation UInt32, nonce UInt64, " +
            "entries Array(Tuple(first Int64, last Int64, token_first Int64, token_last Int64, generation UInt32, pending UInt8, landed UInt8)), rounds Array(UInt32), " +
            "updated_at DateTime64(3, 'UTC'), version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (sink_id, topic, partition, source) " +
            "TTL toDateTime(updated_at) + INTERVAL 1 DAY DELETE WHERE position(source, '#plan@') > 0",
            TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync(
            $"INSERT INTO {db}.kafka_sink_state VALUES ('test-sink', 'S#plan@1.w', 'orders', 0, 0, 7, [(0, 9, 0, 9, 0, 0, 0)], [0], now64(), 1), ('test-sink', 'S#plan@2.w', 'orders', 0, 0, 7, [(10, 19, 10, 19, 0, 0, 0)], [0], now64(), 2)",
            TestContext.Current.CancellationToken);

        using var h = await SinkHarness.CreateAsync(fixture, eventsHaveSource: true, database: db);
        var (answer, _, _) = await AuditAsync(h);

        using (answer)
        {
            Assert.Equal(0, Table(answer, $"{db}.events").GetProperty("auditedRanges").GetInt64());
        }

        Assert.Contains("range_counts", await h.TextAsync($"SELECT groupArray(name) FROM system.columns WHERE database = '{db}' AND table = 'kafka_sink_state'"), StringComparison.Ordinal);
    }
}
