using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>Counts the insert requests per target table (probes included) and lets a test rewrite the engine's answers.</summary>
internal sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public ConcurrentDictionary<string, int> Inserts { get; } = new(StringComparer.Ordinal);

    /// <summary>Rewrites each response (e.g. its X-ClickHouse-Summary) before the driver sees it.</summary>
    public Action<HttpResponseMessage>? Rewrite { get; set; }

    public int InsertsInto(string table) => Inserts.GetValueOrDefault(table);

    /// <summary>SELECTs that classify rows (BadRowIsolation's fast path, see ParseClassification).</summary>
    public int Classifications => _classifications;

    private int _classifications;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var query = Uri.UnescapeDataString((request.RequestUri?.Query ?? string.Empty).Replace('+', ' '));
        var at = query.IndexOf("INSERT INTO ", StringComparison.Ordinal);
        if (at >= 0)
        {
            var rest = query[(at + "INSERT INTO ".Length)..];
            var table = rest[..rest.IndexOf(' ', StringComparison.Ordinal)].Replace("`", string.Empty, StringComparison.Ordinal);
            Inserts.AddOrUpdate(table[(table.IndexOf('.', StringComparison.Ordinal) + 1)..], 1, (_, n) => n + 1);
        }
        else if (request.Content is { } content && (await content.ReadAsStringAsync(cancellationToken)).StartsWith("SELECT __sink_row FROM format(", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _classifications);
        }

        var response = await base.SendAsync(request, cancellationToken);
        Rewrite?.Invoke(response);
        return response;
    }
}

/// <summary>The real sink over the embedded engine, routed to tables a test creates in its own database.</summary>
internal sealed class EngineSink : IDisposable
{
    private readonly DriverClickHouseGateway _gateway;

    private EngineSink(ClickHouseFixture fixture, string database, SinkOptions options, CountingHandler counter, DriverClickHouseGateway gateway, IInvocationHandler handler, RecordingLog log, RecordingMetrics metrics)
    {
        Fixture = fixture;
        Database = database;
        Options = options;
        Counter = counter;
        _gateway = gateway;
        Handler = handler;
        Log = log;
        Metrics = metrics;
    }

    public ClickHouseFixture Fixture { get; }

    public string Database { get; }

    public SinkOptions Options { get; }

    public CountingHandler Counter { get; }

    public IInvocationHandler Handler { get; }

    public RecordingLog Log { get; }

    public RecordingMetrics Metrics { get; }

    /// <param name="tables">topic → CREATE TABLE statement with {0} for the table's qualified name.</param>
    public static async Task<EngineSink> CreateAsync(ClickHouseFixture fixture, IReadOnlyDictionary<string, string> tables, IReadOnlyDictionary<string, string>? settings = null, Action<HttpResponseMessage>? rewrite = null)
    {
        var db = await fixture.CreateDatabaseAsync("bad");
        var routes = new Dictionary<string, TableName>(StringComparer.Ordinal);
        foreach (var (topic, ddl) in tables)
        {
            await fixture.Server.QueryAsync(string.Format(CultureInfo.InvariantCulture, ddl, $"{db}.{topic}"));
            routes[topic] = new TableName(db, topic);
        }

        var options = new SinkOptions
        {
            ClickHouseUrl = fixture.Server.BaseUri,
            User = fixture.Server.User,
            Password = fixture.Server.Password,
            Database = db,
            TopicTables = routes.ToFrozenDictionary(StringComparer.Ordinal),
            DeadLetterTable = new TableName(db, "kafka_dead_letters"),
            StateTable = new TableName(db, "kafka_sink_state"),
            SinkId = "bad-data",
            DeadlineSafetyMargin = TimeSpan.FromMilliseconds(200),
            ExtraInsertSettings = (settings ?? new Dictionary<string, string>()).ToFrozenDictionary(StringComparer.Ordinal),
        };
        var counter = new CountingHandler(new SocketsHttpHandler()) { Rewrite = rewrite };
        var gateway = new DriverClickHouseGateway(options.Connection, counter);
        var log = new RecordingLog();
        var metrics = new RecordingMetrics();
        var handler = await SinkHandlerFactory.CreateAsync(options, gateway, log, metrics, TimeProvider.System, CancellationToken.None);
        return new EngineSink(fixture, db, options, counter, gateway, handler, log, metrics);
    }

    /// <summary>Records of one topic-partition with the given JSON values, from offset <paramref name="firstOffset"/>.</summary>
    public static List<SimRecord> Records(string topic, IEnumerable<string> values, long firstOffset = 0) =>
        values.Select((v, i) => new SimRecord(topic, 0, firstOffset + i, 1_700_000_000_000 + i, null, Encoding.UTF8.GetBytes(v), [])).ToList();

    /// <summary>One invocation; returns the failed partitions (topic-partition, offset), or throws on a function error.</summary>
    public async Task<IReadOnlyList<(string MapKey, long Offset)>> InvokeAsync(IEnumerable<SimRecord> records, TimeSpan? timeout = null)
    {
        var context = new InvocationContext(Guid.NewGuid().ToString(), DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(60)), "arn:aws:lambda:us-east-1:123456789012:function:test", null);
        var response = await Handler.HandleAsync(context, KafkaEventWriter.Write(records), CancellationToken.None);
        using var doc = JsonDocument.Parse(response);
        return doc.RootElement.GetProperty("batchItemFailures").EnumerateArray()
            .Select(f => f.GetProperty("itemIdentifier"))
            .Select(i => (i.GetProperty("topic-partition").GetString()!, i.GetProperty("offset").GetInt64()))
            .ToList();
    }

    public async Task<long> ScalarAsync(string sql) =>
        long.Parse((await Fixture.Server.QueryAsync(sql)).Trim(), CultureInfo.InvariantCulture);

    public async Task<string> TextAsync(string sql) => (await Fixture.Server.QueryAsync(sql)).Trim();

    public void Dispose() => _gateway.Dispose();
}
