using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;
using MskClickHouse.Core.Logging;





namespace MskClickHouse.Core.Tests.Configuration;

public sealed class SinkOptionsParserTests
{
    private static Dictionary<string, string?> Minimal() => new()
    {
        ["CLICKHOUSE_URL"] = "https://ch.example.com:8443",
        ["AWS_LAMBDA_FUNCTION_NAME"] = "msk-clickhouse-sink",
    };

    private static Dictionary<string, string?> With(string name, string? value)
    {
        var env = Minimal();
        env[name] = value;
        return env;
    }

    private static void AssertNames(string variable, Dictionary<string, string?> env)
    {
        var e = Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(env));
        Assert.Equal(variable, e.Variable);
        Assert.StartsWith(variable + ":", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, PollerMode.Provisioned)]
    [InlineData("PROVISIONED", PollerMode.Provisioned)]
    [InlineData("ON_DEMAND", PollerMode.OnDemand)]
    [InlineData("on_demand", PollerMode.OnDemand)]
    public void Parse_PollerMode_DefaultsToProvisioned(string? value, PollerMode expected) =>
        Assert.Equal(expected, SinkOptionsParser.Parse(With("POLLER_MODE", value)).PollerMode);

    [Theory]
    [InlineData(null, DefaultRoute.Topic)]
    [InlineData("topic", DefaultRoute.Topic)]
    [InlineData("none", DefaultRoute.None)]
    [InlineData("NONE", DefaultRoute.None)]
    public void Parse_DefaultRoute_DefaultsToTopic(string? value, DefaultRoute expected) =>
        Assert.Equal(expected, SinkOptionsParser.Parse(With("DEFAULT_ROUTE", value)).DefaultRoute);

    [Fact]
    public void Parse_UnknownDefaultRoute_NamesTheVariable() => AssertNames("DEFAULT_ROUTE", With("DEFAULT_ROUTE", "skip"));

    [Theory]
    [InlineData("ONDEMAND")]
    [InlineData("auto")]
    public void Parse_UnknownPollerMode_NamesTheVariable(string value) => AssertNames("POLLER_MODE", With("POLLER_MODE", value));

    [Fact]
    public void Parse_MissingClickHouseUrl_NamesTheVariable() => AssertNames("CLICKHOUSE_URL", With("CLICKHOUSE_URL", null));

    [Theory]
    [InlineData("ch.example.com:8443")]
    [InlineData("/relative/path")]
    [InlineData("ftp://ch.example.com")]
    [InlineData("https://user:pw@ch.example.com")]
    public void Parse_MalformedClickHouseUrl_NamesTheVariable(string url) => AssertNames("CLICKHOUSE_URL", With("CLICKHOUSE_URL", url));

    [Theory]
    [InlineData("orders")]
    [InlineData("orders=")]
    [InlineData("=db.orders")]
    [InlineData("orders=db.orders,orders=db.other")]
    [InlineData("orders=a.b.c")]
    public void Parse_MalformedTopicTables_NamesTheVariable(string value) => AssertNames("TOPIC_TABLES", With("TOPIC_TABLES", value));

    [Theory]
    [InlineData("xml")]
    [InlineData("orders=thrift")]
    [InlineData("=json")]
    public void Parse_UnknownValueFormat_NamesTheVariable(string value) => AssertNames("VALUE_FORMAT", With("VALUE_FORMAT", value));

    [Theory]
    [InlineData(null, InsertMode.Sync)]
    [InlineData("sync", InsertMode.Sync)]
    [InlineData("async", InsertMode.Async)]
    [InlineData("ASYNC", InsertMode.Async)]
    public void Parse_InsertMode_DefaultsToSync(string? value, InsertMode expected) =>
        Assert.Equal(expected, SinkOptionsParser.Parse(With("INSERT_MODE", value)).InsertMode);

    [Theory]
    [InlineData("asynchronous")]
    [InlineData("1")]
    public void Parse_UnknownInsertMode_NamesTheVariable(string value) => AssertNames("INSERT_MODE", With("INSERT_MODE", value));

    [Theory]
    [InlineData("insert_deduplication_token=x")]
    [InlineData("async_insert=1")]
    [InlineData("insert_deduplicate=0")]
    [InlineData("wait_for_async_insert=0")]
    [InlineData("async_insert_deduplicate=0")]
    [InlineData("deduplicate_insert=disable")]
    public void Parse_PinnedClickHouseSetting_NamesTheVariable(string value) => AssertNames("CLICKHOUSE_SETTINGS", With("CLICKHOUSE_SETTINGS", value));

    [Fact]
    public void Parse_ClickHouseSettingWithBadName_NamesTheVariable() => AssertNames("CLICKHOUSE_SETTINGS", With("CLICKHOUSE_SETTINGS", "max threads=4"));

    [Theory]
    [InlineData("has space")]
    [InlineData("slash/inside")]
    public void Parse_InvalidSinkId_NamesTheVariable(string value) => AssertNames("SINK_ID", With("SINK_ID", value));

    [Fact]
    public void Parse_SinkIdTooLong_NamesTheVariable() => AssertNames("SINK_ID", With("SINK_ID", new string('a', 129)));

    [Fact]
    public void Parse_NoSinkIdNorFunctionName_NamesSinkId()
    {
        var env = Minimal();
        env.Remove("AWS_LAMBDA_FUNCTION_NAME");
        AssertNames("SINK_ID", env);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("four")]
    [InlineData("-1")]
    public void Parse_InsertParallelismOutOfRange_NamesTheVariable(string value) => AssertNames("INSERT_PARALLELISM", With("INSERT_PARALLELISM", value));

    [Theory]
    [InlineData("VERBOSE")]
    [InlineData("5")]
    public void Parse_UnknownPowertoolsLogLevel_NamesTheVariable(string value) => AssertNames("POWERTOOLS_LOG_LEVEL", With("POWERTOOLS_LOG_LEVEL", value));

    [Fact]
    public void Parse_UnknownLambdaLogLevel_NamesAwsLambdaLogLevel() => AssertNames("AWS_LAMBDA_LOG_LEVEL", With("AWS_LAMBDA_LOG_LEVEL", "LOUD"));

    [Fact]
    public void Parse_BothPasswordVariables_NamesTheSecretVariable()
    {
        var env = With("CLICKHOUSE_PASSWORD", "pw");
        env["CLICKHOUSE_PASSWORD_SECRET_ARN"] = "arn:aws:secretsmanager:eu-west-1:1:secret:x";
        AssertNames("CLICKHOUSE_PASSWORD_SECRET_ARN", env);
    }

    [Fact]
    public void Parse_SecretArnThatIsNoArn_NamesTheVariable() => AssertNames("CLICKHOUSE_PASSWORD_SECRET_ARN", With("CLICKHOUSE_PASSWORD_SECRET_ARN", "clickhouse-password"));

    [Theory]
    [InlineData("STRICT_OFFSETS", "maybe")]
    [InlineData("TOMBSTONES", "drop")]
    [InlineData("CLICKHOUSE_COMPRESSION", "lz4")]
    [InlineData("CLICKHOUSE_TIMEOUT_MS", "50")]
    [InlineData("DEADLINE_SAFETY_MARGIN_MS", "-5")]
    [InlineData("DEAD_LETTER_TABLE", "a.b.c")]
    [InlineData("STATE_TABLE", "`unclosed")]
    [InlineData("CLICKHOUSE_CA_FILE", "/nonexistent/ca.pem")]
    public void Parse_OtherMalformedVariable_NamesIt(string variable, string value) => AssertNames(variable, With(variable, value));

    [Fact]
    public void Parse_MinimalEnvironment_GivesTheDocumentedDefaults()
    {
        var options = SinkOptionsParser.Parse(Minimal());

        Assert.Equal(new Uri("https://ch.example.com:8443"), options.ClickHouseUrl);
        Assert.Equal("default", options.User);
        Assert.Null(options.Password);
        Assert.Null(options.PasswordSecretArn);
        Assert.Equal("default", options.Database);
        Assert.Equal("msk-clickhouse-sink", options.SinkId);
        Assert.Equal(ValueFormat.Json, options.DefaultValueFormat);
        Assert.Empty(options.TopicValueFormats);
        Assert.Empty(options.TopicTables);
        Assert.Equal("value", options.StringColumn);
        Assert.Equal(TombstonePolicy.Skip, options.Tombstones);
        Assert.Equal("default.kafka_dead_letters", options.DeadLetterTable.ToString());
        Assert.Equal("default.kafka_sink_state", options.StateTable.ToString());
        Assert.Empty(options.ExtraInsertSettings);
        Assert.False(options.StrictOffsets);
        Assert.Equal(4, options.InsertParallelism);
        Assert.Equal(TimeSpan.FromSeconds(3), options.DeadlineSafetyMargin);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RequestTimeout);
        Assert.Equal(RequestCompression.None, options.Compression);
        Assert.Equal("msk-clickhouse", options.ServiceName);
        Assert.Equal(LogLevel.Information, options.LogLevel);
        Assert.Equal("MskClickHouse", options.MetricsNamespace);
    }

    [Fact]
    public void Parse_PerTopicFormats_OverrideTheDefault()
    {
        var options = SinkOptionsParser.Parse(With("VALUE_FORMAT", "string, orders=json, logs=STRING"));

        Assert.Equal(ValueFormat.String, options.DefaultValueFormat);
        Assert.Equal(ValueFormat.Json, options.FormatOf("orders"));
        Assert.Equal(ValueFormat.String, options.FormatOf("logs"));
        Assert.Equal(ValueFormat.String, options.FormatOf("anything-else"));
    }

    [Fact]
    public void Parse_TopicTables_RouteListedTopicsAndDefaultOthersToTheirName()
    {
        var env = With("TOPIC_TABLES", "orders=sales.orders_raw, clicks=clicks_v2");
        env["CLICKHOUSE_DATABASE"] = "analytics";

        var options = SinkOptionsParser.Parse(env);

        Assert.Equal("sales.orders_raw", options.RouteOf("orders").ToString());
        Assert.Equal("analytics.clicks_v2", options.RouteOf("clicks").ToString());
        Assert.Equal("analytics.unlisted", options.RouteOf("unlisted").ToString());
    }

    [Fact]
    public void Parse_LambdaLogLevelWinsOverPowertools()
    {
        var env = With("POWERTOOLS_LOG_LEVEL", "ERROR");
        env["AWS_LAMBDA_LOG_LEVEL"] = "DEBUG";

        Assert.Equal(LogLevel.Debug, SinkOptionsParser.Parse(env).LogLevel);
    }

    [Fact]
    public void Parse_ExplicitSinkId_WinsOverFunctionName() => Assert.Equal("orders-sink", SinkOptionsParser.Parse(With("SINK_ID", "orders-sink")).SinkId);

    [Fact]
    public void Options_ToString_NeverPrintsThePassword()
    {
        var options = SinkOptionsParser.Parse(With("CLICKHOUSE_PASSWORD", "hunter2"));

        Assert.Equal("hunter2", options.Password);
        Assert.DoesNotContain("hunter2", options.ToString(), StringComparison.Ordinal);
    }
}
