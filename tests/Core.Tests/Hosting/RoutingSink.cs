using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Runtime;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.DevHarness;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Hosting;

/// <summary>
/// The real sink with ROUTES against the embedded engine, through a fault-injecting HTTP layer: topic events routed
/// by its type field into clicks, views and buys plus all_events; topic audit by its region header into audit_eu and
/// by key prefix tenant- into audit_tenants. Every table has the offset columns except plain_clicks (same rule as
/// clicks, for the path without them).
/// </summary>
internal sealed class RoutingSink : RealSink
{
    public static readonly string[] Tables = ["clicks", "views", "buys", "all_events", "audit_eu", "audit_tenants", "plain_clicks"];

    private RoutingSink(ClickHouseFixture fixture, SinkOptions options, FaultInjectingHandler faults, (DriverClickHouseGateway Gateway, IInvocationHandler Handler, RecordingLog Log, RecordingMetrics Metrics) parts)
        : base(fixture, options, parts.Gateway, parts.Handler, parts.Log, parts.Metrics)
    {
        Faults = faults;
    }

    public FaultInjectingHandler Faults { get; }

    public static string Routes(string database) => $$$"""
        [{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}},
         {"topic":"events","table":"plain_clicks","where":{"field":"type","equals":"click"}},
         {"topic":"events","table":"views","where":{"field":"type","equals":"view"}},
         {"topic":"events","table":"buys","where":{"field":"type","equals":"buy"}},
         {"topic":"events","table":"all_events"},
         {"topic":"audit","table":"audit_eu","where":{"header":"region","equals":"eu"}},
         {"topic":"audit","table":"{{{database}}}.audit_tenants","where":{"key":"prefix","value":"tenant-"}}]
        """;

    public static async Task<RoutingSink> CreateAsync(ClickHouseFixture fixture, string unrouted = "dead-letter", TimeSpan? requestTimeout = null)
    {
        var db = await fixture.CreateDatabaseAsync("routing");
        foreach (var table in Tables.Where(t => t != "plain_clicks"))
        {
            await fixture.Server.QueryAsync(MetadataDdl.Table(db, table, "id UInt64, type String, n Int64", 100000));
        }

        await fixture.Server.QueryAsync($"CREATE TABLE {db}.plain_clicks (id UInt64, type String, n Int64) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100000");
        var options = SinkOptionsParser.Parse(new Dictionary<string, string?>
        {
            ["CLICKHOUSE_URL"] = fixture.Server.BaseUri.ToString(),
            ["CLICKHOUSE_ALLOW_HTTP"] = "true",
            ["CLICKHOUSE_USER"] = fixture.Server.User,
            ["CLICKHOUSE_PASSWORD"] = fixture.Server.Password,
            ["CLICKHOUSE_DATABASE"] = db,
            ["SINK_ID"] = "routing-sink",
            ["ROUTES"] = Routes(db),
            ["UNROUTED"] = unrouted,
            ["DEADLINE_SAFETY_MARGIN_MS"] = "200",
        }) with { RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10) };
        var faults = new FaultInjectingHandler(new SocketsHttpHandler(), _ => Simulation.Fault.None);
        return new RoutingSink(fixture, options, faults, await ComposeAsync(options, faults));
    }

    /// <summary>One invocation; a thrown sink error is a function error (Succeeded false).</summary>
    public async Task<InvocationOutcome> InvokeAsync(IEnumerable<SimRecord> records, TimeSpan? timeout = null)
    {
        try
        {
            return new InvocationOutcome(true, await HandleAsync(KafkaEventWriter.Write(records), timeout ?? TimeSpan.FromSeconds(30)));
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            return InvocationOutcome.FunctionError;
        }
    }

    /// <summary>One invocation of a raw event (the simulator's); returns the failed partitions.</summary>
    public Task<List<(string MapKey, long Offset)>> HandleRawAsync(byte[] payload) => HandleAsync(payload, TimeSpan.FromSeconds(30));

    /// <summary>The events topic's record of <paramref name="offset"/>: type cycles click, view, buy, click, signup.</summary>
    public static SimRecord Event(int partition, long offset)
    {
        var type = TypeOf(partition, offset);
        var value = offset % 11 == 7 ? $$"""{"id":{{offset}},"type":"{{type}}","n":"not-a-number"}""" : $$"""{"id":{{offset}},"type":"{{type}}","n":{{offset}}}""";
        return new SimRecord("events", partition, offset, 1_764_000_000_000 + offset, Encoding.UTF8.GetBytes("user-" + offset), Encoding.UTF8.GetBytes(value), []);
    }

    public static string TypeOf(int partition, long offset) => (string[])["click", "view", "buy", "click", "signup"] is var types ? types[(offset + partition) % types.Length] : "";

    /// <summary>The audit topic's record of <paramref name="offset"/>: even offsets region eu, every third key tenant-.</summary>
    public static SimRecord Audit(long offset) => new(
        "audit", 0, offset, 1_764_000_000_000 + offset, Encoding.UTF8.GetBytes(offset % 3 == 0 ? "tenant-" + offset : "user-" + offset),
        Encoding.UTF8.GetBytes($$"""{"id":{{offset}},"type":"login","n":{{offset}}}"""),
        [new("region", Encoding.UTF8.GetBytes(offset % 2 == 0 ? "eu" : "us"))]);
}
