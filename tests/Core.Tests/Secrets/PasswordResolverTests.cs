using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;
using MskClickHouse.Core.Secrets;





namespace MskClickHouse.Core.Tests.Secrets;

public sealed class PasswordResolverTests
{
    private const string Arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clickhouse-AbCdEf";
    private static readonly AwsCredentials Credentials = new("AKIDTEST", "secret-key", "session-token");

    private static Dictionary<string, string?> Env(FakeSecretsManager? fake) => new()
    {
        ["CLICKHOUSE_URL"] = "https://ch.example.com:8443",
        ["AWS_LAMBDA_FUNCTION_NAME"] = "sink",
        ["CLICKHOUSE_PASSWORD_SECRET_ARN"] = Arn,
        ["AWS_ACCESS_KEY_ID"] = Credentials.AccessKeyId,
        ["AWS_SECRET_ACCESS_KEY"] = Credentials.SecretAccessKey,
        ["AWS_SESSION_TOKEN"] = Credentials.SessionToken,
        ["AWS_REGION"] = "eu-west-1",
        ["SECRETS_MANAGER_ENDPOINT"] = fake?.Endpoint.ToString(),
    };

    private static async Task<SinkOptions> ResolveAsync(Dictionary<string, string?> env) =>
        await PasswordResolver.ResolveAsync(SinkOptionsParser.Parse(env), env, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Resolve_PlainStringSecret_FillsThePassword()
    {
        using var fake = new FakeSecretsManager(Credentials, "eu-central-1", (200, """{"ARN":"x","Name":"clickhouse","SecretString":"p@ss w0rd"}"""));

        var options = await ResolveAsync(Env(fake));

        Assert.Equal("p@ss w0rd", options.Password);
        Assert.Empty(fake.Problems);
        Assert.Equal([Arn], fake.SecretIds);
    }

    [Fact]
    public async Task Resolve_JsonSecretWithPasswordField_FillsThePassword()
    {
        using var fake = new FakeSecretsManager(Credentials, "eu-central-1", (200, """{"SecretString":"{\"username\":\"sink\",\"password\":\"from-json\"}"}"""));

        var options = await ResolveAsync(Env(fake));

        Assert.Equal("from-json", options.Password);
        Assert.Empty(fake.Problems);
    }

    [Fact]
    public async Task Resolve_JsonSecretWithoutPasswordField_NamesTheVariable()
    {
        using var fake = new FakeSecretsManager(Credentials, "eu-central-1", (200, """{"SecretString":"{\"username\":\"sink\",\"pwd\":\"hidden-value\"}"}"""));

        var e = await Assert.ThrowsAsync<ConfigurationException>(() => ResolveAsync(Env(fake)));

        Assert.Equal("CLICKHOUSE_PASSWORD_SECRET_ARN", e.Variable);
        Assert.Contains("\"password\"", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hidden-value", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_Forbidden_NamesTheVariableAndSaysAccessDenied()
    {
        using var fake = new FakeSecretsManager(Credentials, "eu-central-1", (403, """{"__type":"AccessDeniedException","Message":"User is not authorized to perform: secretsmanager:GetSecretValue"}"""));

        var e = await Assert.ThrowsAsync<ConfigurationException>(() => ResolveAsync(Env(fake)));

        Assert.Equal("CLICKHOUSE_PASSWORD_SECRET_ARN", e.Variable);
        Assert.Contains("access denied", e.Message, StringComparison.Ordinal);
        Assert.Contains("not authorized", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, fake.Requests);
    }

    [Fact]
    public async Task Resolve_NotFound_NamesTheVariable()
    {
        using var fake = new FakeSecretsManager(Credentials, "eu-central-1", (400, """{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}"""));

        var e = await Assert.ThrowsAsync<ConfigurationException>(() => ResolveAsync(Env(fake)));

        Assert.Equal("CLICKHOUSE_PASSWORD_SECRET_ARN", e.Variable);
        Assert.Contains("not found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_ServerErrorThenSuccess_Retries()
    {
        using var fake = new FakeSecretsManager(Credentials, "eu-central-1", (500, """{"__type":"InternalServiceError","Message":"oops"}"""), (200, """{"SecretString":"second-time"}"""));

        var options = await ResolveAsync(Env(fake));

        Assert.Equal("second-time", options.Password);
        Assert.Equal(2, fake.Requests);
    }

    [Fact]
    public async Task Resolve_WithoutCredentials_NamesTheVariable()
    {
        var env = Env(null);
        env.Remove("AWS_ACCESS_KEY_ID");

        var e = await Assert.ThrowsAsync<ConfigurationException>(() => ResolveAsync(env));

        Assert.Equal("CLICKHOUSE_PASSWORD_SECRET_ARN", e.Variable);
        Assert.Contains("AWS_ACCESS_KEY_ID", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_WithoutSecretArn_ReturnsTheOptionsUnchanged()
    {
        var env = Env(null);
        env.Remove("CLICKHOUSE_PASSWORD_SECRET_ARN");
        env["CLICKHOUSE_PASSWORD"] = "local";
        var parsed = SinkOptionsParser.Parse(env);

        var options = await PasswordResolver.ResolveAsync(parsed, env, TestContext.Current.CancellationToken);

        Assert.Same(parsed, options);
    }

    [Theory]
    [InlineData("arn:aws:secretsmanager:us-east-2:1:secret:x", "us-east-2")]
    [InlineData("arn:aws-cn:secretsmanager:cn-north-1:1:secret:x", "cn-north-1")]
    [InlineData("arn:aws:secretsmanager::1:secret:x", null)]
    public void RegionOf_ReadsTheArnsRegion(string arn, string? region) => Assert.Equal(region, PasswordResolver.RegionOf(arn));

    [Fact]
    public void DefaultEndpoint_IsTheRegionalSecretsManagerHost() =>
        Assert.Equal("https://secretsmanager.eu-west-1.amazonaws.com/", SecretsManagerClient.DefaultEndpoint("eu-west-1").ToString());

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("{\"password\":\"p\"}", "p")]
    [InlineData("{not json", "{not json")]
    public void PasswordOf_TakesPlainStringsAndJsonPasswordFields(string secret, string expected) =>
        Assert.Equal(expected, PasswordResolver.PasswordOf(secret, Arn));
}
