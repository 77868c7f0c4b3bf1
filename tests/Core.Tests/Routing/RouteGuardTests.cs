using System.Collections.Frozen;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Tests.Routing;

public sealed class RouteGuardTests
{
    private static SinkOptions Options(DefaultRoute defaultRoute = DefaultRoute.Topic, string stateDatabase = "analytics") => new()
    {
        ClickHouseUrl = new Uri("http://localhost:8123"),
        Database = "analytics",
        DeadLetterTable = new TableName("analytics", "kafka_dead_letters"),
        StateTable = new TableName(stateDatabase, "kafka_sink_state"),
        SinkId = "sink",
        DefaultRoute = defaultRoute,
        TopicTables = new Dictionary<string, TableName>
        {
            ["orders"] = new("analytics", "orders_v2"),
            ["elsewhere"] = new("sales", "orders"),
            ["sneaky"] = new("analytics", "kafka_dead_letters"),
            ["system"] = new("system", "users"),
        }.ToFrozenDictionary(),
    };

    [Theory]
    [InlineData("kafka_sink_state", "the sink's state table")]
    [InlineData("kafka_dead_letters", "the sink's dead-letter table")]
    [InlineData("sink_dry_run_orders_00ff", "dry-run copies")]
    [InlineData("sneaky", "the sink's dead-letter table")]
    [InlineData("elsewhere", "outside CLICKHOUSE_DATABASE (analytics)")]
    [InlineData("system", "outside CLICKHOUSE_DATABASE (analytics)")]
    public void Route_ToTheSinksOwnTablesOrAnotherDatabase_IsRefusedByDefaultNamingAndByTopicTables(string topic, string why)
    {
        var route = new TopicRouter(Options()).Gate(topic);
        Assert.Equal(RouteKind.Refused, route.Kind);
        Assert.Contains($"topic '{topic}' is refused", route.Reason, StringComparison.Ordinal);
        Assert.Contains(why, route.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Route_StateTableInItsOwnDatabase_IsRefusedThereAndItsDryRunCopiesToo()
    {
        var guard = new RouteGuard(Options(stateDatabase: "sink"));
        Assert.NotNull(guard.Refusal("t", new TableName("sink", "kafka_sink_state")));
        Assert.NotNull(guard.Refusal("t", new TableName("sink", "sink_dry_run_x_1")));
        Assert.Null(guard.Refusal("t", new TableName("analytics", "sink_dry_run_x_1"))); // not where the copies live
    }

    [Theory]
    [InlineData("orders", "analytics.orders_v2")]
    [InlineData("clicks", "analytics.clicks")]
    [InlineData("kafka_sink_state_archive", "analytics.kafka_sink_state_archive")]
    public void Route_OrdinaryTopics_GoToTheirTable(string topic, string table)
    {
        var route = new TopicRouter(Options()).Gate(topic);
        Assert.Equal(RouteKind.Table, route.Kind);
        Assert.Equal(table, route.Table.ToString());
    }

    [Fact]
    public void Route_DefaultRouteNone_LeavesUnlistedTopicsUnroutedAndListedOnesRouted()
    {
        var router = new TopicRouter(Options(DefaultRoute.None));
        var clicks = router.Gate("clicks");
        Assert.Equal(RouteKind.Unrouted, clicks.Kind);
        Assert.StartsWith("no route for topic 'clicks'", clicks.Reason, StringComparison.Ordinal);
        Assert.Equal(RouteKind.Table, router.Gate("orders").Kind);
        Assert.Equal(RouteKind.Unrouted, router.Gate("kafka_sink_state").Kind); // nothing written to it either way
    }
}
