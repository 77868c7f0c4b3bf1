using System.Diagnostics;
using System.Globalization;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.SchemaRegistryEmulator;
using MskClickHouse.Simulation;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.LocalRun;

/// <summary>
/// The local run: ClickHouse (embedded unless --clickhouse-url), the published AOT bootstrap behind the Runtime API
/// emulator, demo tables, batches sent as the event-source mapping would, a summary, and a re-delivery that must not
/// duplicate anything. Exit codes: 0 ok, 1 a check failed, 2 bad input or an environment problem.
/// </summary>
public static class LocalRunner
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            var options = LocalRunOptions.Parse(args);
            return await ExecuteAsync(options, output, error, cancellationToken);
        }
        catch (UsageException e)
        {
            if (e.Message != "usage")
            {
                await error.WriteLineAsync("error: " + e.Message);
            }

            await error.WriteLineAsync(LocalRunOptions.Usage);
            return 2;
        }
        catch (Exception e) when (e is LocalRunException or EngineQueryException)
        {
            await error.WriteLineAsync("error: " + e.Message);
            return 2;
        }
    }

    private static async Task<int> ExecuteAsync(LocalRunOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var root = BootstrapPublisher.FindRepositoryRoot();
        if (options.Cdc)
        {
            return await RunCdcAsync(options, root, output, error, ct);
        }

        var generated = new GeneratedEvents(options);
        var batches = options.Generate > 0
            ? options.ChaosSeed is null ? generated.Batches() : []
            : EventFiles.Load(options.EventFiles, root);
        var bootstrap = options.Bootstrap ?? await PublishBootstrapAsync(root, error, ct);
        if (!File.Exists(bootstrap))
        {
            throw new LocalRunException($"bootstrap '{bootstrap}' does not exist");
        }

        await using var engine = await EngineStart.StartAsync(options.ClickHouseUrl, error, ct);
        var database = "localrun_" + DateTime.UtcNow.ToString("yyyyMMdd_HHmmss_fff", CultureInfo.InvariantCulture);
        var tables = await DemoTables.CreateAsync(engine, database, options, ct);

        await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) });
        await using var proxy = options.ChaosSeed is { } faultSeed ? await FaultProxy.StartAsync(engine.Url, RealClusterFaults.Seeded(faultSeed), faultSeed, ct) : null;
        using var registry = options.ValueFormat == "json" ? null : new RegistryEmulator();
        if (registry is not null)
        {
            FramedValues.Register(registry);
        }

        var env = RunEnvironment.Build(proxy?.Url ?? engine.Url, engine, database, options, registry?.Url);
        using var function = BootstrapProcess.Start(bootstrap, emulator.Endpoint, env);
        var stats = new InvocationStats();
        var invoker = new FunctionInvoker(emulator, function, emulator.InitError, stats, error);

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ClickHouse {engine.Url} (database {database}); function {bootstrap} (pid {function.ProcessId})"));
        var watch = Stopwatch.StartNew();
        if (options.ChaosSeed is { } seed)
        {
            batches = await ChaosDriver.RunAsync(invoker, generated.Logs, options.BatchSize, seed, output, ct);
            await ChaosDriver.StopFaultsAsync(proxy!, output);
        }
        else
        {
            await invoker.SendAllAsync(batches, ct);
        }

        watch.Stop();
        await error.WriteLineAsync();
        var counts = await DemoTables.CountAsync(engine, database, tables, ct);
        await SummaryRenderer.PrintSummaryAsync(counts, stats, watch.Elapsed, output);
        await SummaryRenderer.PrintSampleRowsAsync(engine, database, counts, output, ct);

        var ok = true;
        if (options.Generate > 0)
        {
            ok &= await ExactlyOnceChecks.EveryRecordLandedOnceAsync(counts, options, output);
        }

        // Under --chaos, batches are the payloads the simulator sent; otherwise the ones sent in order.
        var redeliver = ExactlyOnceChecks.LastBatchPerPartition(batches);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"re-delivering {redeliver.Count} batches ..."));
        stats.PartialFailures = 0;
        await invoker.SendAllAsync(redeliver, ct, progress: false);
        await error.WriteLineAsync();
        var after = await DemoTables.CountAsync(engine, database, tables, ct);
        ok &= await ExactlyOnceChecks.RedeliveryAddedNothingAsync(counts, after, output);
        ok &= await UnknownFieldsDemo.RunAsync(invoker, function, options, output, ct);
        ok &= await ReplayDemo.RunAsync(engine, database, bootstrap, env, output, ct);
        ok &= await AuditDemo.RunAsync(engine, database, bootstrap, env, output, ct);
        if (options.Routing)
        {
            ok &= await RoutingDemo.RunAsync(engine, database, bootstrap, env, output, ct);
        }

        if (options.Keep)
        {
            await KeepRunningAsync(engine, database, emulator, function, output, ct);
        }

        function.Terminate();
        await function.WaitForExitAsync(TimeSpan.FromSeconds(10));
        return ok ? 0 : 1;
    }

    /// <summary>--cdc: only the change-event demo, in a database of its own.</summary>
    private static async Task<int> RunCdcAsync(LocalRunOptions options, string root, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var bootstrap = options.Bootstrap ?? await PublishBootstrapAsync(root, error, ct);
        if (!File.Exists(bootstrap))
        {
            throw new LocalRunException($"bootstrap '{bootstrap}' does not exist");
        }

        await using var engine = await EngineStart.StartAsync(options.ClickHouseUrl, error, ct);
        var database = "localrun_cdc_" + DateTime.UtcNow.ToString("yyyyMMdd_HHmmss_fff", CultureInfo.InvariantCulture);
        await output.WriteLineAsync($"ClickHouse {engine.Url} (database {database}); function {bootstrap}");
        return await CdcDemo.RunAsync(engine, database, bootstrap, options, output, error, ct) ? 0 : 1;
    }

    private static async Task<string> PublishBootstrapAsync(string root, TextWriter error, CancellationToken ct)
    {
        try
        {
            return await BootstrapPublisher.PublishAsync(root, Path.Combine(root, "artifacts", "localrun", "bootstrap"), ["-r", "linux-x64"], error, ct);
        }
        catch (InvalidOperationException e)
        {
            throw new LocalRunException(e.Message);
        }
    }

    /// <summary>--keep: leaves everything up until Ctrl+C, printing how to query the tables.</summary>
    private static async Task KeepRunningAsync(ClickHouseEngine engine, string database, Emulator emulator, BootstrapProcess function, TextWriter output, CancellationToken ct)
    {
        await output.WriteLineAsync($"""

            --keep: running until Ctrl+C.
              curl '{engine.Url.GetLeftPart(UriPartial.Authority)}/' --user '{engine.User}:{engine.Password}' --data-binary 'SELECT count() FROM {database}.orders'
              Runtime API emulator at {emulator.Endpoint}; function pid {function.ProcessId}
            """);
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
