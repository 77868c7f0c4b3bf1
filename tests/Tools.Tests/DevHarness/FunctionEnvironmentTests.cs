using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Secrets;
using MskClickHouse.DevHarness;

namespace MskClickHouse.Tools.Tests.DevHarness;

public sealed class FunctionEnvironmentTests
{
    [Fact]
    public void For_ProxyUrlWithPath_IsParsedByTheSinkAsThatHostAndPortWithTheEngineCredentials()
    {
        var env = FunctionEnvironment.For(new Uri("http://127.0.0.1:18123/some/path?x=1"), "writer", "s3cret", "analytics", "dev-run");
        env["SINK_ID"] = "harness-test";

        var options = SinkOptionsParser.Parse(env);

        Assert.Equal("http://127.0.0.1:18123", env["CLICKHOUSE_URL"]);
        Assert.Equal(new Uri("http://127.0.0.1:18123/"), options.ClickHouseUrl);
        Assert.Equal("writer", options.User);
        Assert.Equal("s3cret", options.Password);
        Assert.Equal("analytics", options.Database);
        Assert.Equal("dev-run", env["POWERTOOLS_SERVICE_NAME"]);
    }

    [Fact]
    public void AddSchemaRegistry_BothRegistryApisOnOneUrl_AndASessionTokenOnlyWhenTheCredentialsHaveOne()
    {
        var registry = new Uri("http://127.0.0.1:18081/");
        var withoutToken = FunctionEnvironment.For(registry, "default", string.Empty, "db", "t");
        FunctionEnvironment.AddSchemaRegistry(withoutToken, registry, new AwsCredentials("AKID", "secret"), "eu-west-1");
        var withToken = FunctionEnvironment.For(registry, "default", string.Empty, "db", "t");
        FunctionEnvironment.AddSchemaRegistry(withToken, registry, new AwsCredentials("AKID", "secret", "token"), "eu-west-1");

        Assert.Equal(registry.ToString(), withoutToken["SCHEMA_REGISTRY_URL"]);
        Assert.Equal(registry.ToString(), withoutToken["GLUE_ENDPOINT_URL"]);
        Assert.Equal("eu-west-1", withoutToken["AWS_REGION"]);
        Assert.False(withoutToken.ContainsKey("AWS_SESSION_TOKEN"));
        Assert.Equal(new AwsCredentials("AKID", "secret", "token"), AwsCredentials.FromEnvironment(withToken));
    }
}
