using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Drift;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Runtime;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.Core.Tests.Events;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Drift;

/// <summary>The real sink over the embedded engine: sampled records with a field the table lacks are reported.</summary>
public sealed class UnknownFieldsSinkTests(ClickHouseFixture clickHouse)
{
    private sealed class TableCounts : IMetricsSink
    {
        public ConcurrentQueue<(string Metric, string Table, long Count)> Counts { get; } = new();

        public void Publish(InvocationMetrics metrics)
        {
        }

        public void PublishTableCount(string metricName, string table, long count) => Counts.Enqueue((metricName, table, count));
    }

    /// <summary>The system clock moved on by <see cref="Shift"/>, so a test can age the column list.</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Shift;
    }

    /// <summary>Counts the column reads of the check (its <c>default_kind</c> query).</summary>
    private sealed class CountingGateway(IClickHouseGateway inner) : IClickHouseGateway
    {
        private int _columnReads;

        public int ColumnReads => _columnReads;

        public Task<InsertResult> InsertAsync(string insertSql, IReadOnlyList<ReadOnlyMemory<byte>> body, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken) =>
            inner.InsertAsync(insertSql, body, settings, cancellationToken);

        public Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken)
        {
            if (sql.Contains("default_kind", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _columnReads);
            }

            return inner.QueryAsync(sql, cancellationToken);
        }

        public Task ExecuteAsync(string sql, CancellationToken cancellationToken) => inner.ExecuteAsync(sql, cancellationToken);

        public Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken) => inner.ExecuteAsync(sql, settings, cancellationToken);
    }

    private sealed record Sink(IInvocationHandler Handler, RecordingLog Log, TableCounts Metrics, ShiftedTime Time, string Db, DriverClickHouseGateway Gateway, CountingGateway Counting) : IDisposable
    {
        public async Task InvokeAsync(byte[] payload)
        {
            var context = new InvocationContext(Guid.NewGuid().ToString(), Time.GetUtcNow() + TimeSpan.FromSeconds(30), "arn:aws:lambda:us-east-1:123456789012:function:test", null);
            var answer = Encoding.UTF8.GetString(await Handler.HandleAsync(context, payload, CancellationToken.None));
            Assert.Equal("""{"batchItemFailures":[]}""", answer);
        }

        public List<(LogLevel Level, string Message, LogFields Fields)> Warnings() =>
            Log.Lines.Where(l => l.Fields.Strings?.Any(s => s.Value == UnknownFieldsReporter.MetricName) == true).ToList();

        public void Dispose() => Gateway.Dispose();
    }

    private async Task<Sink> CreateAsync(int sample, CancellationToken ct)
    {
        var db = await clickHouse.CreateDatabaseAsync("drift", ct);
        await clickHouse.Server.QueryAsync(
            $"CREATE TABLE {db}.orders (id UInt32, amount Float64, payload JSON, n Nested(x UInt32), _topic String, _partition Int32, _offset Int64, " +
            "_timestamp DateTime64(3, 'UTC'), _key Nullable(String), _headers Map(String, String)) " +
            "ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 1000",
            ct);
        var options = new SinkOptions
        {
            ClickHouseUrl = clickHouse.Server.BaseUri,
            User = clickHouse.Server.User,
            Password = clickHouse.Server.Password,
            Database = db,
            TopicTables = FrozenDictionary<string, TableName>.Empty,
            DeadLetterTable = new TableName(db, "kafka_dead_letters"),
            StateTable = new TableName(db, "kafka_sink_state"),
            SinkId = "drift-sink",
            UnknownFieldsSample = sample,
        };
        var gateway = new DriverClickHouseGateway(options.Connection);
        var counting = new CountingGateway(gateway);
        var log = new RecordingLog();
        var metrics = new TableCounts();
        var time = new ShiftedTime();
        var handler = await SinkHandlerFactory.CreateAsync(options, counting, log, metrics, time, ct);
        return new Sink(handler, log, metrics, time, db, gateway, counting);
    }

    /// <summary>Offsets from..to of orders-0; a record's value is <paramref name="value"/>(offset).</summary>
    private static byte[] Batch(long from, long to, Func<long, string> value) => Encoding.UTF8.GetBytes(TestEvents.Event(
        ("orders-0", [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(o => TestEvents.Record("orders", 0, o, TestEvents.JsonValue(value(o))))])));

    [Fact]
    public async Task Sink_NewFieldInSampledRecords_CountsItPerInvocation_LogsItOncePerSandbox_AndStillLandsTheRows()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sink = await CreateAsync(sample: 10, ct);

        // Offsets 0-24: the sampled ones are 0, 10 and 20; "color" first appears at 10, "size" only at 13 (not sampled).
        await sink.InvokeAsync(Batch(0, 24, o => o switch
        {
            >= 10 and not 13 => $$"""{"id":{{o}},"amount":1.5,"payload":{"k":1},"n.x":[1],"color":"red"}""",
            13 => $$"""{"id":{{o}},"size":"XL"}""",
            _ => $$"""{"id":{{o}},"amount":1.5}""",
        }));

        Assert.Equal("25\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {sink.Db}.orders", ct));
        Assert.Equal([("UnknownFields", $"{sink.Db}.orders", 1L)], sink.Metrics.Counts);
        var warning = Assert.Single(sink.Warnings());
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal(("orders", 0, 10L, $"{sink.Db}.orders"), (warning.Fields.Topic, warning.Fields.Partition, warning.Fields.Offset, warning.Fields.Table));
        Assert.Contains(new KeyValuePair<string, string>("fields", "color"), warning.Fields.Strings!);
        Assert.Contains("has no column for color", warning.Message, StringComparison.Ordinal);

        // The next invocation samples "color" again: counted again, not logged again; a second new field is logged alone.
        await sink.InvokeAsync(Batch(25, 40, o => $$"""{"id":{{o}},"color":"blue","Weight":{{o}}}"""));

        Assert.Equal(2, sink.Metrics.Counts.Count);
        Assert.Equal(2, sink.Metrics.Counts.Last().Count);
        Assert.Equal(2, sink.Warnings().Count);
        Assert.Contains(new KeyValuePair<string, string>("fields", "Weight"), sink.Warnings()[1].Fields.Strings!);
    }

    [Fact]
    public async Task Sink_ColumnAddedByAlterTable_StopsBeingReported_OnceTheColumnListIsOlderThanTheConfirmInterval()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sink = await CreateAsync(sample: 1, ct);
        await sink.InvokeAsync(Batch(0, 0, _ => """{"id":1,"color":"red"}"""));
        Assert.Single(sink.Metrics.Counts);

        await clickHouse.Server.QueryAsync($"ALTER TABLE {sink.Db}.orders ADD COLUMN color String", ct);
        sink.Time.Shift = UnknownFieldsReporter.ConfirmAfter;
        await sink.InvokeAsync(Batch(1, 1, _ => """{"id":2,"color":"green"}"""));

        Assert.Single(sink.Metrics.Counts);
        Assert.Equal("green\n", await clickHouse.Server.QueryAsync($"SELECT color FROM {sink.Db}.orders WHERE id = 2", ct));
    }

    [Fact]
    public async Task Sink_ColumnDroppedByAlterTable_IsReported_OnceTheColumnListIsOlderThanTheRefreshInterval()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sink = await CreateAsync(sample: 1, ct);
        await sink.InvokeAsync(Batch(0, 0, _ => """{"id":1,"amount":2.5}"""));
        Assert.Empty(sink.Metrics.Counts);

        await clickHouse.Server.QueryAsync($"ALTER TABLE {sink.Db}.orders DROP COLUMN amount", ct);
        sink.Time.Shift = UnknownFieldsReporter.RefreshAfter;
        await sink.InvokeAsync(Batch(1, 1, _ => """{"id":2,"amount":3.5}"""));

        Assert.Equal([("UnknownFields", $"{sink.Db}.orders", 1L)], sink.Metrics.Counts);
        Assert.Contains(new KeyValuePair<string, string>("fields", "amount"), Assert.Single(sink.Warnings()).Fields.Strings!);
    }

    [Fact]
    public async Task Sink_SampleZero_ReportsNothing_AndReadsNoColumns()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sink = await CreateAsync(sample: 0, ct);

        await sink.InvokeAsync(Batch(0, 9, o => $$"""{"id":{{o}},"color":"red"}"""));

        Assert.Empty(sink.Metrics.Counts);
        Assert.Empty(sink.Warnings());
        Assert.Equal(0, sink.Counting.ColumnReads);
        Assert.Equal("10\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {sink.Db}.orders", ct));
    }

    [Fact]
    public async Task Sink_ColumnList_IsReadOncePerTable_WhileFreshAndNothingIsUnknown()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sink = await CreateAsync(sample: 1, ct);

        for (var i = 0; i < 3; i++)
        {
            await sink.InvokeAsync(Batch(i * 10, (i * 10) + 9, o => $$"""{"id":{{o}},"amount":1}"""));
        }

        Assert.Equal(1, sink.Counting.ColumnReads);
        Assert.Empty(sink.Metrics.Counts);
    }
}
