using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Formats.Registry;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Runtime;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Evolution;

/// <summary>Records per-table counts (ColumnsAdded, TablesCreated, UnknownFields) and invocation metrics.</summary>
internal sealed class TableCountMetrics : IMetricsSink
{
    public ConcurrentQueue<(string Metric, string Table, long Count)> Counts { get; } = new();

    public ConcurrentQueue<InvocationMetrics> Invocations { get; } = new();

    public long Sum(string metric) => Counts.Where(c => c.Metric == metric).Sum(c => c.Count);

    public void Publish(InvocationMetrics metrics) => Invocations.Enqueue(metrics);

    public void PublishTableCount(string metricName, string table, long count) => Counts.Enqueue((metricName, table, count));
}

/// <summary>A gateway that lets a test refuse or fail chosen requests in front of the real one.</summary>
internal sealed class InterceptingGateway(IClickHouseGateway inner) : IClickHouseGateway
{
    /// <summary>Called with each statement's SQL before it runs; throw to refuse it.</summary>
    public Action<string>? OnStatement { get; set; }

    /// <summary>Called before each insert; throw to fail it.</summary>
    public Action<string>? OnInsert { get; set; }

    public ConcurrentQueue<string> Statements { get; } = new();

    public Task<InsertResult> InsertAsync(string insertSql, IReadOnlyList<ReadOnlyMemory<byte>> body, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        OnInsert?.Invoke(insertSql);
        return inner.InsertAsync(insertSql, body, settings, cancellationToken);
    }

    public Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken) => inner.QueryAsync(sql, cancellationToken);

    public Task ExecuteAsync(string sql, CancellationToken cancellationToken) => ExecuteAsync(sql, new Dictionary<string, string>(), cancellationToken);

    /// <summary>Statements acknowledged without reaching the server (a replica that has not applied them yet).</summary>
    public Func<string, bool>? Swallow { get; set; }

    public Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        Statements.Enqueue(sql);
        OnStatement?.Invoke(sql);
        return Swallow?.Invoke(sql) == true ? Task.CompletedTask : inner.ExecuteAsync(sql, settings, cancellationToken);
    }
}

/// <summary>The real sink over the embedded engine with schema evolution options, one fresh database per test.</summary>
internal sealed class EvolvingSink : IDisposable
{
    private readonly DriverClickHouseGateway _gateway;

    private EvolvingSink(string db, IInvocationHandler handler, DriverClickHouseGateway gateway, InterceptingGateway intercepting, RecordingLog log, TableCountMetrics metrics)
    {
        Db = db;
        Handler = handler;
        _gateway = gateway;
        Gateway = intercepting;
        Log = log;
        Metrics = metrics;
    }

    public string Db { get; }

    public IInvocationHandler Handler { get; }

    public InterceptingGateway Gateway { get; }

    public RecordingLog Log { get; }

    public TableCountMetrics Metrics { get; }

    public static SinkOptions Options(ClickHouseFixture fixture, string db, SchemaEvolutionMode mode, bool autoCreate) => new()
    {
        ClickHouseUrl = fixture.Server.BaseUri,
        User = fixture.Server.User,
        Password = fixture.Server.Password,
        Database = db,
        TopicTables = FrozenDictionary<string, TableName>.Empty,
        DeadLetterTable = new TableName(db, "kafka_dead_letters"),
        StateTable = new TableName(db, "kafka_sink_state"),
        SinkId = "evolution-sink",
        SchemaEvolution = mode,
        AutoCreateTables = autoCreate,
        UnknownFieldsSample = 1,
    };

    public static async Task<EvolvingSink> CreateAsync(SinkOptions options, CancellationToken ct, SchemaCache? schemas = null)
    {
        var gateway = new DriverClickHouseGateway(options.Connection);
        var intercepting = new InterceptingGateway(gateway);
        var log = new RecordingLog();
        var metrics = new TableCountMetrics();
        var handler = await SinkHandlerFactory.CreateAsync(options, intercepting, log, metrics, TimeProvider.System, ct, schemas);
        return new EvolvingSink(options.Database, handler, gateway, intercepting, log, metrics);
    }

    /// <summary>One invocation; returns the batchItemFailures' partitions.</summary>
    public async Task<List<string>> InvokeAsync(string payload, TimeSpan? timeout = null)
    {
        var context = new InvocationContext(Guid.NewGuid().ToString(), DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(60)), "arn:aws:lambda:us-east-1:123456789012:function:test", null);
        var answer = await Handler.HandleAsync(context, Encoding.UTF8.GetBytes(payload), TestContext.Current.CancellationToken);
        using var doc = JsonDocument.Parse(answer);
        return doc.RootElement.GetProperty("batchItemFailures").EnumerateArray()
            .Select(f => f.GetProperty("itemIdentifier").GetProperty("topic-partition").GetString()!)
            .ToList();
    }

    public void Dispose() => _gateway.Dispose();
}
