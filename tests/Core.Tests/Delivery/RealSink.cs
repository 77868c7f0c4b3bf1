using System.Collections.Frozen;
using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Runtime;
using MskClickHouse.DevHarness;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// The real sink as the bootstrap composes it (<see cref="SinkHandlerFactory"/> over ClickHouse.Driver) against the
/// embedded engine, in one test database, with the HTTP layer a test puts between the two (fault injection, request
/// counting). Log lines and metrics are recorded in memory.
/// </summary>
internal abstract class RealSink : IDisposable
{
    private readonly DriverClickHouseGateway _gateway;

    protected RealSink(ClickHouseFixture fixture, SinkOptions options, DriverClickHouseGateway gateway, IInvocationHandler handler, RecordingLog log, RecordingMetrics metrics, TimeProvider? time = null)
    {
        Time = time ?? TimeProvider.System;
        Fixture = fixture;
        Options = options;
        _gateway = gateway;
        Handler = handler;
        Log = log;
        Metrics = metrics;
    }

    public ClickHouseFixture Fixture { get; }

    /// <summary>The sink's clock (a second instance's may run ahead); invocation deadlines are read on it too.</summary>
    public TimeProvider Time { get; }

    public string Database => Options.Database;

    public SinkOptions Options { get; }

    public IInvocationHandler Handler { get; }

    public RecordingLog Log { get; }

    public RecordingMetrics Metrics { get; }

    /// <summary>The gateway (through the test's HTTP layer) a second execution environment of the same function would share.</summary>
    public IClickHouseGateway Gateway => _gateway;

    public async Task<long> ScalarAsync(string sql) =>
        long.Parse((await Fixture.Server.QueryAsync(sql)).Trim(), CultureInfo.InvariantCulture);

    public async Task<string> TextAsync(string sql) => (await Fixture.Server.QueryAsync(sql)).Trim();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>The options of a sink in <paramref name="database"/> of the fixture's engine: its tables, its dead letters and state there.</summary>
    protected static SinkOptions OptionsFor(ClickHouseFixture fixture, string database, IDictionary<string, TableName> routes, string sinkId) => new()
    {
        ClickHouseUrl = fixture.Server.BaseUri,
        User = fixture.Server.User,
        Password = fixture.Server.Password,
        Database = database,
        TopicTables = routes.ToFrozenDictionary(StringComparer.Ordinal),
        DeadLetterTable = new TableName(database, "kafka_dead_letters"),
        StateTable = new TableName(database, "kafka_sink_state"),
        SinkId = sinkId,
        DeadlineSafetyMargin = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>Composes the handler over a driver gateway that sends through <paramref name="http"/>.</summary>
    protected static async Task<(DriverClickHouseGateway Gateway, IInvocationHandler Handler, RecordingLog Log, RecordingMetrics Metrics)> ComposeAsync(SinkOptions options, HttpMessageHandler http, TimeProvider? time = null)
    {
        var gateway = new DriverClickHouseGateway(options.Connection, http);
        var log = new RecordingLog();
        var metrics = new RecordingMetrics();
        var handler = await SinkHandlerFactory.CreateAsync(options, gateway, log, metrics, time ?? TimeProvider.System, CancellationToken.None);
        return (gateway, handler, log, metrics);
    }

    /// <summary>One invocation as the runtime loop makes it, with <paramref name="timeout"/> left; returns the failed partitions.</summary>
    /// <param name="handler">Another execution environment (its own state cache) instead of <see cref="Handler"/>.</param>
    protected async Task<List<(string MapKey, long Offset)>> HandleAsync(byte[] payload, TimeSpan timeout, IInvocationHandler? handler = null)
    {
        var context = new InvocationContext(Guid.NewGuid().ToString(), Time.GetUtcNow() + timeout, "arn:aws:lambda:us-east-1:123456789012:function:test", null);
        var response = await (handler ?? Handler).HandleAsync(context, payload, CancellationToken.None);
        return BatchItemFailures.Parse(response);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gateway.Dispose();
        }
    }
}
