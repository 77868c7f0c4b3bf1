using MskClickHouse.Core.Secrets;

namespace MskClickHouse.DevHarness;

/// <summary>
/// The environment the bootstrap runs with on one machine: what it needs to reach an engine (the variables of
/// docs/configuration.md), and optionally a schema registry. Callers add what their run varies (formats, topics,
/// compression, log level).
/// </summary>
public static class FunctionEnvironment
{
    /// <summary>
    /// CLICKHOUSE_URL (scheme, host and port of <paramref name="clickHouseUrl"/>: a proxy in front of the engine may be
    /// given here), plain HTTP allowed (the engine listens on 127.0.0.1), the engine's user and password, the database,
    /// and the log lines' service name.
    /// </summary>
    public static Dictionary<string, string?> For(Uri clickHouseUrl, string user, string password, string database, string service)
    {
        ArgumentNullException.ThrowIfNull(clickHouseUrl);
        return new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["CLICKHOUSE_URL"] = clickHouseUrl.GetLeftPart(UriPartial.Authority),
            ["CLICKHOUSE_ALLOW_HTTP"] = "true",
            ["CLICKHOUSE_USER"] = user,
            ["CLICKHOUSE_PASSWORD"] = password,
            ["CLICKHOUSE_DATABASE"] = database,
            ["POWERTOOLS_SERVICE_NAME"] = service,
        };
    }

    /// <summary><see cref="For(Uri, string, string, string, string)"/> for the engine's own URL and user.</summary>
    public static Dictionary<string, string?> For(EngineClient engine, string database, string service)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return For(engine.Url, engine.User, engine.Password, database, service);
    }

    /// <summary>
    /// Both registry APIs at <paramref name="registryUrl"/> (Confluent REST and Glue's endpoint, as the registry
    /// emulator serves them from one port) and the AWS credentials and region Glue's requests are signed with.
    /// </summary>
    public static void AddSchemaRegistry(IDictionary<string, string?> env, Uri registryUrl, AwsCredentials credentials, string region)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(registryUrl);
        ArgumentNullException.ThrowIfNull(credentials);
        env["SCHEMA_REGISTRY_URL"] = registryUrl.ToString();
        env["GLUE_ENDPOINT_URL"] = registryUrl.ToString();
        env["AWS_ACCESS_KEY_ID"] = credentials.AccessKeyId;
        env["AWS_SECRET_ACCESS_KEY"] = credentials.SecretAccessKey;
        if (credentials.SessionToken is { } token)
        {
            env["AWS_SESSION_TOKEN"] = token;
        }

        env["AWS_REGION"] = region;
    }
}
