using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;





namespace MskClickHouse.Core.Tests.Formats.Registry;

public sealed class SchemaRegistryOptionsTests
{
    private static Dictionary<string, string?> Env(params (string Name, string Value)[] extra)
    {
        var env = new Dictionary<string, string?> { ["CLICKHOUSE_URL"] = "https://ch.example.com:8443", ["AWS_LAMBDA_FUNCTION_NAME"] = "sink" };
        foreach (var (name, value) in extra)
        {
            env[name] = value;
        }

        return env;
    }

    [Fact]
    public void Parse_RegistryFormatsAndPerTopicOverride()
    {
        var options = SinkOptionsParser.Parse(Env(("VALUE_FORMAT", "avro,clicks=protobuf,events=json-schema,logs=string")));
        Assert.Equal(ValueFormat.Avro, options.FormatOf("orders"));
        Assert.Equal(ValueFormat.Protobuf, options.FormatOf("clicks"));
        Assert.Equal(ValueFormat.JsonSchema, options.FormatOf("events"));
        Assert.Equal(ValueFormat.String, options.FormatOf("logs"));
        Assert.True(options.UsesSchemaRegistry);
        Assert.False(SinkOptionsParser.Parse(Env()).UsesSchemaRegistry);
    }

    [Fact]
    public void Parse_RegistryVariables()
    {
        var options = SinkOptionsParser.Parse(Env(
            ("SCHEMA_REGISTRY_URL", "https://psrc.example.com/ctx"),
            ("SCHEMA_REGISTRY_USER", "svc"),
            ("SCHEMA_REGISTRY_PASSWORD_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sr-AbCdEf"),
            ("GLUE_ENDPOINT_URL", "https://vpce-1.glue.eu-west-1.vpce.amazonaws.com"),
            ("GLUE_REGISTRY_ARN", "arn:aws:glue:eu-west-1:123456789012:registry/default")));
        Assert.Equal("https://psrc.example.com/ctx", options.SchemaRegistry.ConfluentUrl!.ToString());
        Assert.Equal("svc", options.SchemaRegistry.User);
        Assert.NotNull(options.SchemaRegistry.GlueEndpoint);
        Assert.Equal("arn:aws:glue:eu-west-1:123456789012:registry/default", options.SchemaRegistry.GlueRegistryArn);
    }

    [Theory]
    [InlineData("SCHEMA_REGISTRY_URL", "psrc.example.com", "SCHEMA_REGISTRY_URL")]
    [InlineData("SCHEMA_REGISTRY_URL", "https://user:pw@psrc.example.com", "SCHEMA_REGISTRY_URL")]
    [InlineData("SCHEMA_REGISTRY_PASSWORD_SECRET_ARN", "hunter2", "SCHEMA_REGISTRY_PASSWORD_SECRET_ARN")]
    [InlineData("SCHEMA_REGISTRY_USER", "svc", "SCHEMA_REGISTRY_PASSWORD_SECRET_ARN")]
    [InlineData("GLUE_ENDPOINT_URL", "glue", "GLUE_ENDPOINT_URL")]
    [InlineData("GLUE_REGISTRY_ARN", "default", "GLUE_REGISTRY_ARN")]
    public void Parse_BadRegistryVariable_NamesIt(string name, string value, string named)
    {
        var e = Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env(("SCHEMA_REGISTRY_URL", "https://sr.example.com"), (name, value))));
        Assert.Equal(named, e.Variable);
        Assert.DoesNotContain("pw@", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SecretWithoutUser_NamesTheUserVariable()
    {
        var e = Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env(
            ("SCHEMA_REGISTRY_URL", "https://sr.example.com"),
            ("SCHEMA_REGISTRY_PASSWORD_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sr"))));
        Assert.Equal("SCHEMA_REGISTRY_USER", e.Variable);
    }
}
