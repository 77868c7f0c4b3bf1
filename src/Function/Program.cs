using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Runtime;
using MskClickHouse.Core.Secrets;

namespace MskClickHouse.Function;

/// <summary>
/// The Lambda bootstrap: options from the environment, the password from its secret, the log and metrics on stdout,
/// the handler from <see cref="SinkHandlerFactory"/>, then the Runtime API loop. Init failures go to /runtime/init/error.
/// </summary>
internal static class Program
{
    private static Task<int> Main() => LambdaBootstrap.RunAsync(InitAsync);

    private static async Task<LambdaApplication> InitAsync(CancellationToken ct)
    {
        var env = SinkOptionsParser.EnvironmentSnapshot();
        var options = SinkOptionsParser.Parse(env);
        var output = JsonLineWriter.StandardOutput();
        var log = new JsonLog(output, JsonLogOptions.From(options.ServiceName, options.LogLevel, env));
        var fetchPassword = PasswordResolver.Fetcher(options, env);
        if (fetchPassword is not null)
        {
            options = options with { Password = await fetchPassword(ct) };
        }

        var metrics = new EmfMetricsSink(output, options.MetricsNamespace, options.ServiceName);
        var schemas = options.UsesSchemaRegistry
            ? await MskClickHouse.Core.Formats.Registry.SchemaRegistryFactory.CreateAsync(options.SchemaRegistry, env, ct)
            : null;
        // One gateway for the mode: a password ClickHouse refuses after start-up (rotated secret) is fetched again once
        // and the client rebuilt (ReauthenticatingGateway).
        var connection = options.Connection;
        IClickHouseGateway gateway = fetchPassword is null
            ? new DriverClickHouseGateway(connection)
            : new ReauthenticatingGateway(options.Password, password => new DriverClickHouseGateway(connection with { Password = password }), fetchPassword, log, TimeProvider.System);
        var handler = options.Mode switch
        {
            SinkMode.Audit => MskClickHouse.Core.Audit.AuditHandlerFactory.Create(options, gateway, log, metrics, TimeProvider.System),
            SinkMode.Replay => await MskClickHouse.Core.Replay.ReplayHandlerFactory.CreateAsync(options, gateway, log, TimeProvider.System, ct, schemas),
            _ => await SinkHandlerFactory.CreateAsync(options, gateway, log, metrics, TimeProvider.System, ct, schemas),
        };
        log.Write(LogLevel.Information, $"Init done: {options}");
        return new LambdaApplication(handler, log, [log, metrics]);
    }
}
