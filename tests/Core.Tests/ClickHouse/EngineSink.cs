using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Runtime;
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

/// <summary>The real sink over the embedded engine, routed to tables a test creates in its own database, its requests counted.</summary>
internal sealed class EngineSink : RealSink
{
    private EngineSink(ClickHouseFixture fixture, SinkOptions options, CountingHandler counter, (DriverClickHouseGateway Gateway, IInvocationHandler Handler, RecordingLog Log, RecordingMetrics Metrics) parts)
        : base(fixture, options, parts.Gateway, parts.Handler, parts.Log, parts.Metrics)
    {
        Counter = counter;
    }

    public CountingHandler Counter { get; }

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

        var options = OptionsFor(fixture, db, routes, "bad-data") with
        {
            ExtraInsertSettings = (settings ?? new Dictionary<string, string>()).ToFrozenDictionary(StringComparer.Ordinal),
        };
        var counter = new CountingHandler(new SocketsHttpHandler()) { Rewrite = rewrite };
        return new EngineSink(fixture, options, counter, await ComposeAsync(options, counter));
    }

    /// <summary>Records of one topic-partition with the given JSON values, from offset <paramref name="firstOffset"/>.</summary>
    public static List<SimRecord> Records(string topic, IEnumerable<string> values, long firstOffset = 0) =>
        values.Select((v, i) => new SimRecord(topic, 0, firstOffset + i, 1_700_000_000_000 + i, null, Encoding.UTF8.GetBytes(v), [])).ToList();

    /// <summary>One invocation; returns the failed partitions (topic-partition, offset), or throws on a function error.</summary>
    public async Task<IReadOnlyList<(string MapKey, long Offset)>> InvokeAsync(IEnumerable<SimRecord> records, TimeSpan? timeout = null) =>
        await HandleAsync(KafkaEventWriter.Write(records), timeout ?? TimeSpan.FromSeconds(60));
}
