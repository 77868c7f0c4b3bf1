using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;

namespace MskClickHouse.Core.Tests.Configuration;

public sealed class RoutesOptionTests
{
    private static Dictionary<string, string?> Env(params (string Name, string Value)[] vars)
    {
        var env = new Dictionary<string, string?> { ["CLICKHOUSE_URL"] = "https://ch.example.com:8443", ["SINK_ID"] = "s", ["CLICKHOUSE_DATABASE"] = "analytics" };
        foreach (var (name, value) in vars)
        {
            env[name] = value;
        }

        return env;
    }

    private static ConfigurationException Refused(params (string Name, string Value)[] vars) =>
        Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env(vars)));

    [Fact]
    public void Routes_ParsesEveryConditionKindInOrder_AndTopicTablesAsRulesWithoutWhere()
    {
        var options = SinkOptionsParser.Parse(Env(
            ("ROUTES", """
                [{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}},
                 {"topic":"events","table":"raw.counts","where":{"field":"n","equals":5}},
                 {"topic":"events","table":"all_events"},
                 {"topic":"audit","table":"eu","where":{"header":"region","equals":"eu"}},
                 {"topic":"audit","table":"tenants","where":{"key":"prefix","value":"tenant-"}},
                 {"topic":"audit","table":"admin","where":{"key":"equals","value":"root"}}]
                """),
            ("TOPIC_TABLES", "orders=sales.orders")));

        Assert.Equal(
            [
                "events where field 'type' = 'click' → analytics.clicks",
                "events where field 'n' = '5' → raw.counts",
                "events → analytics.all_events",
                "audit where header 'region' = 'eu' → analytics.eu",
                "audit where key starts with 'tenant-' → analytics.tenants",
                "audit where key = 'root' → analytics.admin",
                "orders → sales.orders",
            ],
            options.Routes.Select(r => r.ToString()));
        Assert.Equal([0, 1, 2, 3, 4, 5, -1], options.Routes.Select(r => r.Index));
        Assert.Equal(UnroutedPolicy.DeadLetter, options.Unrouted);
    }

    [Theory]
    [InlineData("dead-letter", UnroutedPolicy.DeadLetter)]
    [InlineData("skip", UnroutedPolicy.Skip)]
    [InlineData("SKIP", UnroutedPolicy.Skip)]
    public void Unrouted_ReadsDeadLetterOrSkip(string value, UnroutedPolicy expected) =>
        Assert.Equal(expected, SinkOptionsParser.Parse(Env(("UNROUTED", value))).Unrouted);

    [Fact]
    public void Unrouted_Unknown_NamesTheVariable()
    {
        var e = Refused(("UNROUTED", "drop"));
        Assert.Equal("UNROUTED", e.Variable);
        Assert.Contains("'drop'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"topic":"a","table":"b"}""", "expected a JSON array")]
    [InlineData("""[{"topic":"a","table":"b"}""", "not valid JSON")]
    [InlineData("""[{"topic":"a","table":"b"}, 7]""", "ROUTES[1]) is a JSON number")]
    [InlineData("""[{"table":"b"}]""", "ROUTES[0]) has no topic")]
    [InlineData("""[{"topic":"a"}]""", "ROUTES[0]) (topic 'a') has no table")]
    [InlineData("""[{"topic":" ","table":"b"}]""", "ROUTES[0]): topic is empty")]
    [InlineData("""[{"topic":"a","table":"x.y.z"}]""", "is not a table name")]
    [InlineData("""[{"topic":"a","table":"b","tabel":"c"}]""", "unknown member 'tabel'")]
    [InlineData("""[{"topic":"a","table":"b","where":"type=click"}]""", "where is a JSON string")]
    [InlineData("""[{"topic":"a","table":"b","where":{}}]""", "where has no members")]
    [InlineData("""[{"topic":"a","table":"b","where":{"field":"type"}}]""", "where has members field")]
    [InlineData("""[{"topic":"a","table":"b","where":{"field":"type","equals":null}}]""", "where.equals is a JSON null")]
    [InlineData("""[{"topic":"a","table":"b","where":{"field":"type","equals":{"x":1}}}]""", "where.equals is a JSON object")]
    [InlineData("""[{"topic":"a","table":"b","where":{"field":"","equals":"x"}}]""", "where.field is empty")]
    [InlineData("""[{"topic":"a","table":"b","where":{"header":"h","equals":5}}]""", "where.equals is a JSON number")]
    [InlineData("""[{"topic":"a","table":"b","where":{"key":"suffix","value":"x"}}]""", "where.key is 'suffix'")]
    [InlineData("""[{"topic":"a","table":"b","where":{"key":"prefix","value":"x","field":"f"}}]""", "where has members field, key, value")]
    public void Routes_Invalid_IsAnInitErrorNamingTheRuleAndTheProblem(string routes, string problem)
    {
        var e = Refused(("ROUTES", routes));
        Assert.Equal("ROUTES", e.Variable);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Routes_ARepeatedRule_NamesBothRules()
    {
        var e = Refused(("ROUTES", """[{"topic":"a","table":"b","where":{"header":"h","equals":"1"}},{"topic":"a","table":"c"},{"topic":"a","table":"b","where":{"header":"h","equals":"1"}}]"""));
        Assert.Contains("ROUTES[2] repeats ROUTES[0]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Routes_ARuleWithoutWhereRepeatedByTopicTables_IsRefused()
    {
        var e = Refused(("ROUTES", """[{"topic":"orders","table":"sales.orders"}]"""), ("TOPIC_TABLES", "orders=sales.orders"));
        Assert.Equal("TOPIC_TABLES", e.Variable);
        Assert.Contains("TOPIC_TABLES 'orders' repeats ROUTES[0]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Routes_SameTableByTwoConditions_IsAllowed()
    {
        var options = SinkOptionsParser.Parse(Env(("ROUTES", """[{"topic":"a","table":"b","where":{"field":"t","equals":"x"}},{"topic":"a","table":"b","where":{"field":"t","equals":"y"}}]""")));
        Assert.Equal(2, options.Routes.Count);
    }

    [Theory]
    [InlineData("ROUTES", """[{"topic":"a","table":"kafka_sink_state"}]""", "the sink's state table")]
    [InlineData("ROUTES", """[{"topic":"a","table":"analytics.kafka_dead_letters","where":{"key":"equals","value":"k"}}]""", "the sink's dead-letter table")]
    [InlineData("TOPIC_TABLES", "a=kafka_sink_state", "the sink's state table")]
    public void Routes_IntoTheSinksOwnTables_AreRefusedByTheGuard(string variable, string value, string problem)
    {
        var e = Refused((variable, value));
        Assert.Equal(variable, e.Variable);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Routes_ByFieldOfAStringTopic_IsRefused()
    {
        var e = Refused(("ROUTES", """[{"topic":"logs","table":"b","where":{"field":"level","equals":"error"}}]"""), ("VALUE_FORMAT", "json,logs=string"));
        Assert.Contains("ROUTES[0] routes topic 'logs' by field 'level'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_RefusesOnlyTheSinksOwnTables()
    {
        var guard = new TableGuard(new TableName("db", "state"), new TableName("db", "dlq"));
        Assert.NotNull(guard.Refusal(new TableName("db", "state")));
        Assert.NotNull(guard.Refusal(new TableName("db", "dlq")));
        Assert.Null(guard.Refusal(new TableName("other", "state")));
        Assert.Null(guard.Refusal(new TableName("db", "events")));
    }
}
