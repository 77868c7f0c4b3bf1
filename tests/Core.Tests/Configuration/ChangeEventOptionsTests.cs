using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Tests.Configuration;

public sealed class ChangeEventOptionsTests
{
    private static SinkOptions Parse(params (string Name, string Value)[] vars)
    {
        var env = new Dictionary<string, string?> { ["CLICKHOUSE_URL"] = "https://ch.example.com:8443", ["SINK_ID"] = "s" };
        foreach (var (name, value) in vars)
        {
            env[name] = value;
        }

        return SinkOptionsParser.Parse(env);
    }

    [Fact]
    public void Parse_NoCdcFormat_EveryTopicIsRows()
    {
        var options = Parse();

        Assert.Equal(ChangeEventFormat.None, options.ChangeEvents);
        Assert.Equal(ChangeEventFormat.None, options.ChangeEventsOf("orders"));
    }

    [Fact]
    public void Parse_DebeziumWithoutTopics_EveryRoutedTopicIsChangeEvents()
    {
        var options = Parse(("CDC_FORMAT", "Debezium"));

        Assert.Equal(ChangeEventFormat.Debezium, options.ChangeEventsOf("orders"));
        Assert.Equal(ChangeEventFormat.Debezium, new TopicRouter(options).ShapeFor("clicks", ["id"]).ChangeEvents);
    }

    [Fact]
    public void Parse_CdcTopics_LimitChangeEventsToThem()
    {
        var options = Parse(("CDC_FORMAT", "debezium"), ("CDC_TOPICS", " customers , orders ,"));

        Assert.Equal(ChangeEventFormat.Debezium, options.ChangeEventsOf("customers"));
        Assert.Equal(ChangeEventFormat.Debezium, new TopicRouter(options).ShapeFor("orders", ["id"]).ChangeEvents);
        Assert.Equal(ChangeEventFormat.None, new TopicRouter(options).ShapeFor("clicks", ["id"]).ChangeEvents);
    }

    [Theory]
    [InlineData("CDC_FORMAT", "maxwell", null, null)]
    [InlineData("CDC_TOPICS", null, "orders", null)]
    [InlineData("CDC_FORMAT", "debezium", null, "string")]
    [InlineData("CDC_FORMAT", "debezium", "orders", "json,orders=string")]
    public void Parse_Inconsistent_NamesTheVariable(string variable, string? format, string? topics, string? valueFormat)
    {
        var vars = new List<(string, string)>();
        if (format is not null)
        {
            vars.Add(("CDC_FORMAT", format));
        }

        if (topics is not null)
        {
            vars.Add(("CDC_TOPICS", topics));
        }

        if (valueFormat is not null)
        {
            vars.Add(("VALUE_FORMAT", valueFormat));
        }

        var e = Assert.Throws<ConfigurationException>(() => Parse([.. vars]));
        Assert.Equal(variable, e.Variable);
    }

    [Fact]
    public void Parse_StringTopicsOutsideCdcTopics_AreAllowed()
    {
        var options = Parse(("CDC_FORMAT", "debezium"), ("CDC_TOPICS", "orders"), ("VALUE_FORMAT", "string,orders=avro"));

        Assert.Equal(ChangeEventFormat.Debezium, options.ChangeEventsOf("orders"));
        Assert.Equal(ChangeEventFormat.None, options.ChangeEventsOf("logs"));
    }
}
