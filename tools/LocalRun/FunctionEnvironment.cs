namespace MskClickHouse.LocalRun;

/// <summary>The environment the bootstrap runs with: ClickHouse (through the fault proxy under --chaos), formats, logging.</summary>
internal static class FunctionEnvironment
{
    public static Dictionary<string, string?> Build(Uri clickHouseUrl, ClickHouseEngine engine, string database, LocalRunOptions options, Uri? registryUrl)
    {
        var env = new Dictionary<string, string?>
        {
            ["CLICKHOUSE_URL"] = clickHouseUrl.GetLeftPart(UriPartial.Authority),
            ["CLICKHOUSE_ALLOW_HTTP"] = "true",
            ["CLICKHOUSE_TIMEOUT_MS"] = "5000",
            ["CLICKHOUSE_USER"] = engine.User,
            ["CLICKHOUSE_PASSWORD"] = engine.Password,
            ["CLICKHOUSE_DATABASE"] = database,
            ["VALUE_FORMAT"] = "json,mytopic=string",
            ["POWERTOOLS_SERVICE_NAME"] = "local-run",
            ["POWERTOOLS_LOG_LEVEL"] = "Warning",
        };
        if (registryUrl is not null)
        {
            // Framed values, decoded by the function with schemas from the built-in registry emulator.
            env["VALUE_FORMAT"] = $"{options.ValueFormat},mytopic=string";
            env["SCHEMA_REGISTRY_URL"] = registryUrl.ToString();
            env["GLUE_ENDPOINT_URL"] = registryUrl.ToString();
            env["AWS_ACCESS_KEY_ID"] = "AKIDLOCALRUN";
            env["AWS_SECRET_ACCESS_KEY"] = "local-run-not-a-secret";
            env["AWS_REGION"] = "us-east-1";
        }

        return env;
    }
}
