using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>Records log lines in memory.</summary>
internal sealed class RecordingLog : ISinkLog
{
    public ConcurrentQueue<(LogLevel Level, string Message, LogFields Fields)> Lines { get; } = new();

    public bool IsEnabled(LogLevel level) => true;

    public void Write(LogLevel level, string message, in LogFields fields = default, Exception? exception = null) => Lines.Enqueue((level, message, fields));
}

/// <summary>Records published metrics in memory.</summary>
internal sealed class RecordingMetrics : IMetricsSink
{
    public ConcurrentQueue<InvocationMetrics> All { get; } = new();

    public long Sum(Func<InvocationMetrics, long> pick) => All.Sum(pick);

    public void Publish(InvocationMetrics metrics) => All.Enqueue(metrics);
}

/// <summary>
/// The real sink (SinkHandler over ClickHouse.Driver) against the embedded engine, with a fault-injecting HTTP layer
/// between the two, in a fresh database with a table that has offset columns (events) and one that has not (plain).
/// </summary>
internal sealed class SinkHarness : IDisposable
{
    private readonly DriverClickHouseGateway _gateway;

    private SinkHarness(ClickHouseFixture fixture, string database, SinkOptions options, FaultInjectingHandler faults, DriverClickHouseGateway gateway, IInvocationHandler handler, RecordingLog log, RecordingMetrics metrics)
    {
        Fixture = fixture;
        Database = database;
        Options = options;
        Faults = faults;
        _gateway = gateway;
        Handler = handler;
        Log = log;
        Metrics = metrics;
    }

    public ClickHouseFixture Fixture { get; }

    public string Database { get; }

    public SinkOptions Options { get; }

    public FaultInjectingHandler Faults { get; }

    public IInvocationHandler Handler { get; }

    public RecordingLog Log { get; }

    public RecordingMetrics Metrics { get; }

    /// <summary>The gateway (through the fault layer) a second execution environment of the same function would share.</summary>
    public IClickHouseGateway Gateway => _gateway;

    /// <summary>The exception of the last invocation that ended in a function error.</summary>
    public Exception? LastError { get; private set; }

    public static async Task<SinkHarness> CreateAsync(ClickHouseFixture fixture, TimeSpan? requestTimeout = null, bool eventsHaveSource = false, int faultSeed = 0, string? database = null)
    {
        var db = database ?? await fixture.CreateDatabaseAsync("sink");
        await fixture.Server.QueryAsync(
            $"CREATE TABLE IF NOT EXISTS {db}.events (id String, n UInt32, amount Float64, note String, _topic String, _partition Int32, _offset Int64, {(eventsHaveSource ? "_source LowCardinality(String), " : string.Empty)}" +
            "_timestamp DateTime64(3, 'UTC'), _key Nullable(String), _headers Map(String, String)) " +
            "ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 100000");
        await fixture.Server.QueryAsync(
            $"CREATE TABLE IF NOT EXISTS {db}.plain (id String, n UInt32, amount Float64, note String) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100000");

        var options = new SinkOptions
        {
            ClickHouseUrl = fixture.Server.BaseUri,
            User = fixture.Server.User,
            Password = fixture.Server.Password,
            Database = db,
            TopicTables = new Dictionary<string, TableName> { ["orders"] = new(db, "events"), ["legacy"] = new(db, "plain") }.ToFrozenDictionary(),
            DeadLetterTable = new TableName(db, "kafka_dead_letters"),
            StateTable = new TableName(db, "kafka_sink_state"),
            SinkId = "test-sink",
            DeadlineSafetyMargin = TimeSpan.FromMilliseconds(200),
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10),
        };
        var faults = new FaultInjectingHandler(new SocketsHttpHandler(), _ => Fault.None, faultSeed);
        var gateway = new DriverClickHouseGateway(options.Connection, faults);
        var log = new RecordingLog();
        var metrics = new RecordingMetrics();
        var handler = await SinkHandlerFactory.CreateAsync(options, gateway, log, metrics, TimeProvider.System, CancellationToken.None);
        return new SinkHarness(fixture, db, options, faults, gateway, handler, log, metrics);
    }

    /// <summary>Runs one invocation the way the runtime loop does; a thrown exception is a function error.</summary>
    /// <param name="handler">Another execution environment (its own state cache) instead of <see cref="Handler"/>.</param>
    public async Task<InvocationOutcome> InvokeAsync(byte[] payload, TimeSpan? timeout = null, IInvocationHandler? handler = null)
    {
        var context = new InvocationContext(Guid.NewGuid().ToString(), DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(30)), "arn:aws:lambda:us-east-1:123456789012:function:test", null);
        try
        {
            var response = await (handler ?? Handler).HandleAsync(context, payload, CancellationToken.None);
            using var doc = JsonDocument.Parse(response);
            var failures = doc.RootElement.GetProperty("batchItemFailures").EnumerateArray()
                .Select(f => f.GetProperty("itemIdentifier"))
                .Select(i => (i.GetProperty("topic-partition").GetString()!, i.GetProperty("offset").GetInt64()))
                .ToList();
            return new InvocationOutcome(true, failures);
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            LastError = e;
            return InvocationOutcome.FunctionError;
        }
    }

    public async Task<long> ScalarAsync(string sql) =>
        long.Parse((await Fixture.Server.QueryAsync(sql)).Trim(), CultureInfo.InvariantCulture);

    public async Task<string> TextAsync(string sql) => (await Fixture.Server.QueryAsync(sql)).Trim();

    public void Dispose() => _gateway.Dispose();

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
