using System.Collections.Concurrent;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Runtime;
using MskClickHouse.DevHarness;
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
/// The real sink against the embedded engine with a fault-injecting HTTP layer between the two, in a fresh database
/// with a table that has offset columns (events) and one that has not (plain).
/// </summary>
internal sealed class SinkHarness : RealSink
{
    private SinkHarness(ClickHouseFixture fixture, SinkOptions options, FaultInjectingHandler faults, (DriverClickHouseGateway Gateway, IInvocationHandler Handler, RecordingLog Log, RecordingMetrics Metrics) parts, TimeProvider time)
        : base(fixture, options, parts.Gateway, parts.Handler, parts.Log, parts.Metrics, time)
    {
        Faults = faults;
    }

    public FaultInjectingHandler Faults { get; }

    /// <summary>The exception of the last invocation that ended in a function error.</summary>
    public Exception? LastError { get; private set; }

    public static async Task<SinkHarness> CreateAsync(ClickHouseFixture fixture, TimeSpan? requestTimeout = null, bool eventsHaveSource = false, int faultSeed = 0, string? database = null, TimeProvider? time = null, Core.Configuration.InsertMode insertMode = Core.Configuration.InsertMode.Sync)
    {
        var db = database ?? await fixture.CreateDatabaseAsync("sink");
        await fixture.Server.QueryAsync(MetadataDdl.Table(db, "events", $"id String, n UInt32, amount Float64, note String, {SimulatedLog.RejectingColumn}{(eventsHaveSource ? ", _source LowCardinality(String)" : string.Empty)}", 100000, ifNotExists: true));
        await fixture.Server.QueryAsync(
            $"CREATE TABLE IF NOT EXISTS {db}.plain (id String, n UInt32, amount Float64, note String, {SimulatedLog.RejectingColumn}) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100000");

        var options = OptionsFor(fixture, db, new Dictionary<string, TableName> { ["orders"] = new(db, "events"), ["legacy"] = new(db, "plain") }, "test-sink") with
        {
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10),
            InsertMode = insertMode,
        };
        var faults = new FaultInjectingHandler(new SocketsHttpHandler(), _ => Fault.None, faultSeed);
        var clock = time ?? TimeProvider.System;
        return new SinkHarness(fixture, options, faults, await ComposeAsync(options, faults, clock), clock);
    }

    /// <summary>Runs one invocation the way the runtime loop does; a thrown exception is a function error.</summary>
    /// <param name="handler">Another execution environment (its own state cache) instead of <see cref="RealSink.Handler"/>.</param>
    public async Task<InvocationOutcome> InvokeAsync(byte[] payload, TimeSpan? timeout = null, IInvocationHandler? handler = null)
    {
        try
        {
            return new InvocationOutcome(true, await HandleAsync(payload, timeout ?? TimeSpan.FromSeconds(30), handler));
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            LastError = e;
            return InvocationOutcome.FunctionError;
        }
    }

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
