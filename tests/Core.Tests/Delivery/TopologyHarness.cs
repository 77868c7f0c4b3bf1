using System.Globalization;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Runtime;
using MskClickHouse.DevHarness;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>The tables of one ingestion topology: what the sink inserts into, and where the rows are stored.</summary>
/// <param name="Name">The topic routed to <see cref="Landing"/>, and the name the test reports.</param>
/// <param name="Landing">The table the sink inserts into.</param>
/// <param name="Stored">The table the rows end up in (the landing table itself when nothing sits behind it).</param>
/// <param name="Ddl">Statements creating both, with {0} for the database.</param>
internal sealed record Topology(string Name, string Landing, string Stored, IReadOnlyList<string> Ddl)
{
    /// <summary>The value columns of every topology (besides the metadata columns of <see cref="MetadataDdl"/>).</summary>
    public const string ValueColumns = "id String, n UInt32, amount Float64, note String";

    private const string ViewSelect = "SELECT id, n, amount, note, _topic, _partition, _offset, _timestamp FROM {0}.";

    /// <summary>A MergeTree target with offset columns and a deduplication window.</summary>
    public static Topology MergeTree(string name = "direct", int window = 1000) =>
        new(name, name, name, [MetadataDdl.Table("{0}", name, ValueColumns, window)]);

    /// <summary>An <c>ENGINE = Null</c> landing table with offset columns and a view into a stored MergeTree.</summary>
    public static Topology NullLanding(string name = "landing") => new(name, name, name + "_stored",
    [
        $"CREATE TABLE {{0}}.{name} ({ValueColumns}, {MetadataDdl.Columns}) ENGINE = Null",
        MetadataDdl.Table("{0}", name + "_stored", ValueColumns),
        $"CREATE MATERIALIZED VIEW {{0}}.{name}_mv TO {{0}}.{name}_stored AS {ViewSelect}{name}",
    ]);

    /// <summary>A MergeTree target with offset columns and a view into a second MergeTree; the view throws for <c>n = rejected</c>.</summary>
    public static Topology MergeTreeWithView(string name = "viewed", long? rejected = null) => new(name, name, name + "_stored",
    [
        MetadataDdl.Table("{0}", name, ValueColumns),
        MetadataDdl.Table("{0}", name + "_stored", ValueColumns),
        ViewDdl(name, rejected),
    ]);

    /// <summary>
    /// A MergeTree target with a view into a second MergeTree that throws for every block while the Join table
    /// <c>{name}_switch</c> holds a row (<see cref="BreakView"/>, <see cref="FixView"/>): a view failing for a while.
    /// </summary>
    public static Topology MergeTreeWithSwitchedView(string name = "switched") => new(name, name, name + "_stored",
    [
        MetadataDdl.Table("{0}", name, ValueColumns),
        MetadataDdl.Table("{0}", name + "_stored", ValueColumns),
        $"CREATE TABLE {{0}}.{name}_switch (k UInt8, broken UInt8) ENGINE = Join(ANY, LEFT, k)",
        $"CREATE MATERIALIZED VIEW {{0}}.{name}_mv TO {{0}}.{name}_stored AS SELECT id, n + throwIf(joinGet('{{0}}.{name}_switch', 'broken', toUInt8(1)) = 1, 'the view is switched off') AS n, amount, note, _topic, _partition, _offset, _timestamp FROM {{0}}.{name}",
    ]);

    /// <summary>Makes the view of <see cref="MergeTreeWithSwitchedView"/> throw for every block.</summary>
    public static string BreakView(string name) => $"INSERT INTO {{0}}.{name}_switch VALUES (1, 1)";

    /// <summary>Makes the view of <see cref="MergeTreeWithSwitchedView"/> pass every block again.</summary>
    public static string FixView(string name) => $"TRUNCATE TABLE {{0}}.{name}_switch";

    /// <summary>A ReplacingMergeTree target with offset columns ordered by them, with a deduplication window.</summary>
    public static Topology Replacing(string name = "replacing") => new(name, name, name,
    [
        $"CREATE TABLE {{0}}.{name} ({ValueColumns}, {MetadataDdl.Columns}) ENGINE = ReplacingMergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 1000",
    ]);

    /// <summary>The view of <see cref="MergeTreeWithView"/> (to recreate it, fixed or broken).</summary>
    public static string ViewDdl(string name, long? rejected) =>
        $"CREATE MATERIALIZED VIEW {{0}}.{name}_mv TO {{0}}.{name}_stored AS " +
        (rejected is { } r
            ? string.Create(CultureInfo.InvariantCulture, $"SELECT id, n + throwIf(n = {r}, 'the view rejects n = {r}') AS n, amount, note, _topic, _partition, _offset, _timestamp FROM {{0}}.{name}")
            : $"{ViewSelect}{name}");
}

/// <summary>
/// The real sink against the embedded engine, routed to the tables of some <see cref="Topology"/>s in a fresh
/// database, with the fault layer in between and an optional clock of its own.
/// </summary>
internal sealed class TopologyHarness : RealSink
{
    private TopologyHarness(ClickHouseFixture fixture, SinkOptions options, FaultInjectingHandler faults, (DriverClickHouseGateway Gateway, IInvocationHandler Handler, RecordingLog Log, RecordingMetrics Metrics) parts, TimeProvider time)
        : base(fixture, options, parts.Gateway, parts.Handler, parts.Log, parts.Metrics, time)
    {
        Faults = faults;
    }

    public FaultInjectingHandler Faults { get; }

    public static async Task<TopologyHarness> CreateAsync(ClickHouseFixture fixture, IReadOnlyList<Topology> topologies, TimeSpan? requestTimeout = null, int faultSeed = 0, string? database = null, TimeProvider? time = null, Core.Configuration.InsertMode insertMode = Core.Configuration.InsertMode.Sync)
    {
        var db = database ?? await fixture.CreateDatabaseAsync("topo");
        if (database is null)
        {
            foreach (var statement in topologies.SelectMany(t => t.Ddl))
            {
                await fixture.Server.QueryAsync(string.Format(CultureInfo.InvariantCulture, statement, db));
            }
        }

        var routes = topologies.ToDictionary(t => t.Name, t => new TableName(db, t.Landing), StringComparer.Ordinal);
        var options = OptionsFor(fixture, db, routes, "topologies") with { RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10), InsertMode = insertMode };
        var faults = new FaultInjectingHandler(new SocketsHttpHandler(), _ => Fault.None, faultSeed);
        var clock = time ?? TimeProvider.System;
        return new TopologyHarness(fixture, options, faults, await ComposeAsync(options, faults, clock), clock);
    }

    /// <summary>
    /// <paramref name="count"/> records of partition 0 of <paramref name="topic"/> from <paramref name="firstOffset"/>;
    /// record i has <c>n = i</c> (offset minus the first) and timestamp <paramref name="timestampBase"/> + 10·offset ms,
    /// and an id naming topic, offset and timestamp (so a recreated topic's records differ from the old ones).
    /// </summary>
    public static List<SimRecord> Records(string topic, int count, long firstOffset = 0, long timestampBase = 1_764_000_000_000L) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var offset = firstOffset + i;
            var ts = timestampBase + (offset * 10);
            var id = string.Create(CultureInfo.InvariantCulture, $"{topic}-{offset}-{ts}");
            return new SimRecord(topic, 0, offset, ts, Encoding.UTF8.GetBytes(id), Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"id\":\"{id}\",\"n\":{offset}}}")), []);
        }).ToList();

    /// <summary>Runs one invocation; returns the failed partitions. A function error fails the test with its exception.</summary>
    public Task<List<(string MapKey, long Offset)>> InvokeAsync(IEnumerable<SimRecord> records, TimeSpan? timeout = null, IInvocationHandler? handler = null) =>
        HandleAsync(KafkaEventWriter.Write(records), timeout ?? TimeSpan.FromSeconds(30), handler);

    /// <summary>One invocation as the simulated mapping makes it: a function error is an outcome, not an exception.</summary>
    public async Task<InvocationOutcome> InvokeAsync(byte[] payload, TimeSpan timeout)
    {
        try
        {
            return new InvocationOutcome(true, await HandleAsync(payload, timeout));
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            return new InvocationOutcome(false, []);
        }
    }

    public Task RunAsync(string statement) => Fixture.Server.QueryAsync(string.Format(CultureInfo.InvariantCulture, statement, Database));

    /// <summary>(rows, distinct offsets, distinct ids) of a table of this database.</summary>
    public async Task<(long Rows, long Offsets, long Ids)> CountsAsync(string table) => (
        await ScalarAsync($"SELECT count() FROM {Database}.{table}"),
        await ScalarAsync($"SELECT uniqExact(_topic, _partition, _offset) FROM {Database}.{table}"),
        await ScalarAsync($"SELECT uniqExact(id) FROM {Database}.{table}"));
}
