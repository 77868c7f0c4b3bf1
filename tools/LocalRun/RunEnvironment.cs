using MskClickHouse.Core.Secrets;

namespace MskClickHouse.LocalRun;

/// <summary>The environment the bootstrap runs with: ClickHouse (through the fault proxy under --chaos), formats, logging.</summary>
internal static class RunEnvironment
{
    public static Dictionary<string, string?> Build(Uri clickHouseUrl, ClickHouseEngine engine, string database, LocalRunOptions options, Uri? registryUrl)
    {
        var env = FunctionEnvironment.For(clickHouseUrl, engine.User, engine.Password, database, "local-run");
        env["CLICKHOUSE_TIMEOUT_MS"] = "5000";
        env["VALUE_FORMAT"] = "json,mytopic=string";
        env["POWERTOOLS_LOG_LEVEL"] = "Warning";
        env["INSERT_MODE"] = options.InsertMode;
        if (registryUrl is not null)
        {
            // Framed values, decoded by the function with schemas from the built-in registry emulator.
            env["VALUE_FORMAT"] = $"{options.ValueFormat},mytopic=string";
            FunctionEnvironment.AddSchemaRegistry(env, registryUrl, new AwsCredentials("AKIDLOCALRUN", "local-run-not-a-secret"), "us-east-1");
        }

        return env;
    }
}
