using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Routing;
using MskClickHouse.Simulation;

namespace MskClickHouse.Core.Tests.Routing;

public sealed class PartitionRouterTests
{
    private static SinkOptions Options(string routes, string? unrouted = null, string? tombstones = null)
    {
        var env = new Dictionary<string, string?> { ["CLICKHOUSE_URL"] = "https://ch.example.com:8443", ["SINK_ID"] = "s", ["CLICKHOUSE_DATABASE"] = "db", ["ROUTES"] = routes, ["UNROUTED"] = unrouted, ["TOMBSTONES"] = tombstones };
        return SinkOptionsParser.Parse(env);
    }

    private static SimRecord Rec(string topic, long offset, string? value, string? key = null, params (string Name, string Value)[] headers) => new(
        topic, 0, offset, 1_700_000_000_000, key is null ? null : Encoding.UTF8.GetBytes(key), value is null ? null : Encoding.UTF8.GetBytes(value),
        headers.Select(h => new KeyValuePair<string, byte[]>(h.Name, Encoding.UTF8.GetBytes(h.Value))).ToList());

    private static KafkaBatch Batch(params SimRecord[] records) => KafkaEventDecoder.Decode(KafkaEventWriter.Write(records));

    private static Dictionary<string, long[]> OffsetsPerTable(PartitionRouting routing) =>
        routing.Routed.ToDictionary(r => r.Table.Table, r => r.Records.Records.Select(x => x.Offset).ToArray());

    private const string ByType = """
        [{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}},
         {"topic":"events","table":"views","where":{"field":"type","equals":"view"}},
         {"topic":"events","table":"buys","where":{"field":"type","equals":"buy"}},
         {"topic":"events","table":"all_events"}]
        """;

    [Fact]
    public void ByField_EachRecordGoesToItsTypesTableAndToTheAllEventsTable()
    {
        using var batch = Batch(
            Rec("events", 10, """{"type":"click","id":1}"""),
            Rec("events", 11, """{"id":2,"type":"view"}"""),
            Rec("events", 12, """{"nested":{"type":"click"},"type":"buy"}"""),
            Rec("events", 13, """{"type":"signup"}"""),
            Rec("events", 14, """{"type" : "click"}"""));

        var routing = new TopicRouter(Options(ByType)).Route(batch, batch.Partitions[0]);

        Assert.Equal(["clicks", "views", "buys", "all_events"], routing.Routed.Select(r => r.Table.Table));
        var offsets = OffsetsPerTable(routing);
        Assert.Equal([10, 14], offsets["clicks"]);
        Assert.Equal([11], offsets["views"]);
        Assert.Equal([12], offsets["buys"]);
        Assert.Equal([10, 11, 12, 13, 14], offsets["all_events"]);
        Assert.Same(batch.Partitions[0], routing.Routed[3].Records); // the table taking all gets the partition itself
        Assert.Equal(["events@db.clicks", "events@db.views", "events@db.buys", "events@db.all_events"], routing.Routed.Select(r => r.StateTopic));
        Assert.Null(routing.Unrouted);
    }

    [Fact]
    public void ATableThatReceivesNothing_IsLeftOut_AndEachRecordsTargetsIndexTheTablesThatReceive()
    {
        using var batch = Batch(
            Rec("events", 10, """{"type":"buy"}"""),
            Rec("events", 11, """{"type":"click"}"""),
            Rec("events", 12, """{"type":"buy"}"""),
            Rec("events", 13, """{"type":"signup"}"""));
        var partition = batch.Partitions[0];

        var routing = new TopicRouter(Options(ByType)).Route(batch, partition);

        Assert.Equal(["clicks", "buys", "all_events"], routing.Routed.Select(r => r.Table.Table));
        for (var t = 0; t < routing.Routed.Count; t++)
        {
            var expected = Enumerable.Range(0, partition.Count).Where(i => routing.Targets.Of(i).Contains(t)).Select(i => partition[i].Offset);
            var table = routing.Routed[t].Records;
            Assert.Equal(expected, table.Records.Select(r => r.Offset));
            Assert.Equal(expected, Enumerable.Range(0, table.Count).Select(i => table[i].Offset));
        }
    }

    [Fact]
    public void ByField_ARecordNoRuleMatches_IsDeadLetteredWithTheMissingRoute()
    {
        using var batch = Batch(
            Rec("events", 1, """{"type":"click"}"""),
            Rec("events", 2, """{"type":"signup","user":"u1"}"""),
            Rec("events", 3, """{"user":"u2"}"""),
            Rec("events", 4, """{"type":7}"""));
        var options = Options("""[{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}}]""");

        var routing = new TopicRouter(options).Route(batch, batch.Partitions[0]);

        Assert.Equal([2, 3, 4], routing.Unrouted!.Records.Select(r => r.Offset));
        Assert.Equal([0, 1, 2], routing.UnroutedReasons.Select(r => r.RecordIndex));
        Assert.Equal("unrouted: no rule of topic 'events' matches this record (field 'type' = \"signup\"): add a rule for it to ROUTES, or set UNROUTED=skip", routing.UnroutedReasons[0].Reason);
        Assert.Contains("(field 'type' absent)", routing.UnroutedReasons[1].Reason, StringComparison.Ordinal);
        Assert.Contains("(field 'type' = 7)", routing.UnroutedReasons[2].Reason, StringComparison.Ordinal);
        Assert.Equal(0, routing.UnroutedSkipped);
    }

    [Fact]
    public void UnroutedSkip_CountsTheRecordsInsteadOfDeadLettering()
    {
        using var batch = Batch(Rec("events", 1, """{"type":"x"}"""), Rec("events", 2, """{"type":"click"}"""), Rec("events", 3, """{"type":"y"}"""));
        var routing = new TopicRouter(Options("""[{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}}]""", unrouted: "skip")).Route(batch, batch.Partitions[0]);

        Assert.Null(routing.Unrouted);
        Assert.Equal(2, routing.UnroutedSkipped);
        Assert.Equal([2L], routing.Routed.Single().Records.Records.Select(r => r.Offset));
    }

    [Theory]
    [InlineData("skip", 1, 0)]
    [InlineData("dead-letter", 0, 1)]
    public void AnUnroutedTombstone_FollowsTheTombstonePolicy(string tombstones, int skipped, int deadLettered)
    {
        using var batch = Batch(Rec("events", 1, null), Rec("events", 2, """{"type":"click"}"""));
        var routing = new TopicRouter(Options("""[{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}}]""", unrouted: "skip", tombstones: tombstones)).Route(batch, batch.Partitions[0]);

        Assert.Equal(skipped, routing.TombstonesSkipped);
        Assert.Equal(deadLettered, routing.Unrouted?.Records.Length ?? 0);
        Assert.Equal(0, routing.UnroutedSkipped);
        if (deadLettered > 0)
        {
            Assert.StartsWith("tombstone (null value)", routing.UnroutedReasons[0].Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ByHeaderAndKeyPrefix_FanOutToEveryMatchingTable()
    {
        using var batch = Batch(
            Rec("audit", 0, """{"a":1}""", "tenant-7", ("region", "eu")),
            Rec("audit", 1, """{"a":2}""", "tenant-8", ("region", "us")),
            Rec("audit", 2, """{"a":3}""", "root", ("source", "x"), ("region", "eu")),
            Rec("audit", 3, """{"a":4}""", null),
            Rec("audit", 4, """{"a":5}""", "tenant", ("region", "EU")));
        var options = Options("""
            [{"topic":"audit","table":"eu","where":{"header":"region","equals":"eu"}},
             {"topic":"audit","table":"tenants","where":{"key":"prefix","value":"tenant-"}},
             {"topic":"audit","table":"admin","where":{"key":"equals","value":"root"}}]
            """);

        var routing = new TopicRouter(options).Route(batch, batch.Partitions[0]);

        var offsets = OffsetsPerTable(routing);
        Assert.Equal([0, 2], offsets["eu"]);
        Assert.Equal([0, 1], offsets["tenants"]);
        Assert.Equal([2], offsets["admin"]);
        Assert.Equal([3, 4], routing.Unrouted!.Records.Select(r => r.Offset));
        Assert.Contains("header 'region' absent, key absent", routing.UnroutedReasons[0].Reason, StringComparison.Ordinal);
        Assert.Contains("header 'region' = 'EU', key = 'tenant'", routing.UnroutedReasons[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTopicTablesTable_KeepsTheTopicsOwnStateName_WhenRoutesAddTables()
    {
        using var batch = Batch(Rec("orders", 1, """{"a":1}"""));
        var env = new Dictionary<string, string?>
        {
            ["CLICKHOUSE_URL"] = "https://ch.example.com:8443", ["SINK_ID"] = "s", ["CLICKHOUSE_DATABASE"] = "db",
            ["TOPIC_TABLES"] = "orders=sales.orders", ["ROUTES"] = """[{"topic":"orders","table":"orders_eu","where":{"key":"prefix","value":"eu-"}},{"topic":"orders","table":"orders_copy"}]""",
        };

        var routing = new TopicRouter(SinkOptionsParser.Parse(env)).Route(batch, batch.Partitions[0]);

        Assert.Equal(["orders@db.orders_copy", "orders"], routing.Routed.Select(r => r.StateTopic));
    }

    [Fact]
    public void TwoConditionsOfOneTable_SendARecordOnce()
    {
        using var batch = Batch(Rec("events", 1, """{"type":"click"}""", "k", ("kind", "click")));
        var options = Options("""
            [{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}},
             {"topic":"events","table":"clicks","where":{"header":"kind","equals":"click"}}]
            """);

        var routing = new TopicRouter(options).Route(batch, batch.Partitions[0]);

        Assert.Equal([1L], routing.Routed.Single().Records.Records.Select(r => r.Offset));
    }

    [Fact]
    public void AnUnlistedTopic_GoesWholeToTheTableNamedLikeIt_UnlessTheGuardRefusesIt()
    {
        using var batch = Batch(Rec("orders", 1, """{"a":1}"""), Rec("kafka_sink_state", 5, """{"a":1}"""));
        var router = new TopicRouter(Options(ByType));

        var orders = router.Route(batch, batch.Partitions[0]);
        Assert.Equal(new TableName("db", "orders"), orders.Routed.Single().Table);
        Assert.Same(batch.Partitions[0], orders.Routed.Single().Records);
        Assert.Equal("orders", orders.Routed.Single().StateTopic); // the home table keeps the topic's own state

        var state = router.Route(batch, batch.Partitions[1]);
        Assert.Empty(state.Routed);
        Assert.Equal([5L], state.Unrouted!.Records.Select(r => r.Offset));
        Assert.Contains("the sink's state table", state.UnroutedReasons[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ByField_OfADecodedValue_ReadsTheJsonTheDecoderGives()
    {
        // Stands in for a registry-framed value: the "decoder" maps the bytes "A"/"B" to the JSON a transcoder would produce.
        using var batch = Batch(Rec("events", 1, "A"), Rec("events", 2, "B"));
        var options = Options("""[{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}}]""", unrouted: "skip");

        var routing = new TopicRouter(options).Route(batch, batch.Partitions[0], Decode);

        Assert.Equal([1L], routing.Routed.Single().Records.Records.Select(r => r.Offset));
        Assert.Equal(1, routing.UnroutedSkipped);

        static bool Decode(ReadOnlySpan<byte> value, out ReadOnlySpan<byte> json)
        {
            json = value.SequenceEqual("A"u8) ? """{"type":"click"}"""u8 : """{"type":"view"}"""u8;
            return true;
        }
    }

    [Theory]
    [InlineData("orders", "orders", null)]
    [InlineData("events@db.clicks", "events", "db.clicks")]
    [InlineData("events@other.all_events", "events", "other.all_events")]
    public void OfStateTopic_ReadsTheTopicAndTheTableOfAStateName(string state, string topic, string? table)
    {
        var (t, tableOf) = TopicRoutes.OfStateTopic(state, "db");
        Assert.Equal(topic, t);
        Assert.Equal(table, tableOf?.ToString());
        if (tableOf is not null)
        {
            Assert.Equal(state, TopicRoutes.StateTopic(topic, tableOf, home: null)); // round trip
        }
    }
}
