using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
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
        var handler = options.Mode switch
        {
            SinkMode.Audit => await MskClickHouse.Core.Audit.AuditHandlerFactory.CreateAsync(options, log, metrics, TimeProvider.System, fetchPassword),
            SinkMode.Replay => await MskClickHouse.Core.Replay.ReplayHandlerFactory.CreateAsync(options, log, TimeProvider.System, ct, fetchPassword, schemas),
            _ => await SinkHandlerFactory.CreateAsync(options, log, metrics, TimeProvider.System, ct, fetchPassword, schemas),
        };
        log.Write(LogLevel.Information, $"Init done: {options}");
        return new LambdaApplication(handler, log, [log, metrics]);
    }
}
