using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Errors;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Runtime;

namespace MskClickHouse.Core.Hosting;

/// <summary>Composes the sink at start-up and checks what can be checked before the first batch.</summary>
public static class SinkHandlerFactory
{
    /// <summary>How long start-up keeps retrying transient ClickHouse failures before it reports an init error.</summary>
    private static readonly TimeSpan InitRetryBudget = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Creates the dead-letter and state tables if missing over the given gateway (built once by the bootstrap; tests put a
    /// fault injector in front of the engine), and checks that every table named in TOPIC_TABLES exists. Failures here
    /// are start-up failures (the Runtime API's init error).
    /// </summary>
    /// <param name="schemas">The schema-registry cache when VALUE_FORMAT names a registry format.</param>
    public static async Task<IInvocationHandler> CreateAsync(SinkOptions options, IClickHouseGateway gateway, ISinkLog log, IMetricsSink metrics, TimeProvider time, CancellationToken cancellationToken, Formats.Registry.SchemaCache? schemas = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var state = new ClickHouseStateStore(gateway, options.StateTable, options.SinkId, time);

        // A ClickHouse that is briefly overloaded or restarting at cold start is retried, like any batch's requests.
        using var budget = InvocationBudget.StartUp(InitRetryBudget, time, cancellationToken);
        var retrier = new Retrier(budget, log, Random.Shared.NextDouble);
        try
        {
            await retrier.RunAsync(c => gateway.ExecuteAsync(DeadLetters.CreateTableSql(options.DeadLetterTable), c));
            await retrier.RunAsync(c => DeadLetterTableSetup.MigrateAsync(gateway, options.DeadLetterTable, c));
            await retrier.RunAsync(state.EnsureCreatedAsync);
        }
        catch (ClickHouseException e)
        {
            throw new ClickHouseException(
                $"start-up: cannot create the dead-letter table {options.DeadLetterTable} or the state table {options.StateTable} at {SinkOptionsParser.Redact(options.ClickHouseUrl)} as user '{options.User}': {e.Message}",
                e.Kind,
                e.ServerCode,
                e.HttpStatus,
                inner: e);
        }

        if (options.InsertMode == InsertMode.Async)
        {
            await AsyncInsertSupport.EnsureAsync(gateway, retrier);
        }

        LogReadAfterWrite(log, options.StateTable, state.Engine, "state");
        var catalog = new TableCatalog(gateway);
        foreach (var (topic, table) in options.Routes.GroupBy(r => r.Table).Select(g => (g.First().Topic, g.Key)))
        {
            var info = await retrier.RunAsync(c => catalog.GetAsync(table, c));
            if (!info.Exists && options.AutoCreateTables)
            {
                catalog.Forget(table); // AUTO_CREATE_TABLES: created by the first batch routed to it
                continue;
            }

            if (!info.Exists)
            {
                throw new ConfigurationException(options.Routes.First(r => r.Table == table).Index >= 0 ? "ROUTES" : "TOPIC_TABLES", $"table {table} (for topic '{topic}') does not exist in ClickHouse at {SinkOptionsParser.Redact(options.ClickHouseUrl)}: create it first");
            }

            LogReadAfterWrite(log, table, info.Engine, "target");

            if (DeduplicationWindowCheck.Assess(info, partitions: 1) is { } warning)
            {
                log.Write(LogLevel.Warning, warning + " (docs/exactly-once.md)", new LogFields(Topic: topic, Table: table.ToString(), Strings: [new("metric", "NonDeduplicatingTable")]));
            }
        }

        // Dead letters are retried under tokens too: a dead-letter table that forgets them duplicates dead letters.
        var deadLetters = await retrier.RunAsync(c => catalog.GetAsync(options.DeadLetterTable, c));
        if (DeduplicationWindowCheck.Assess(deadLetters, partitions: 1) is { } dlqWarning)
        {
            log.Write(LogLevel.Warning, "dead-letter " + dlqWarning, new LogFields(Table: options.DeadLetterTable.ToString(), Strings: [new("metric", "NonDeduplicatingTable")]));
        }

        log.Write(LogLevel.Information, "sink ready", new LogFields(Strings: [new("sink_id", options.SinkId), new("clickhouse", options.ClickHouseUrl.GetLeftPart(UriPartial.Authority))]));
        return new SinkHandler(options, gateway, catalog, state, log, metrics, time, Random.Shared.NextDouble, schemas);
    }

    /// <summary>
    /// Says which read-after-write guarantee the reads that decide what to insert get from a table's engine
    /// (docs/exactly-once.md, "Per table engine").
    /// </summary>
    private static void LogReadAfterWrite(ISinkLog log, TableName table, string engine, string role)
    {
        var (level, guarantee) = ReadAfterWrite.Of(engine);
        log.Write(level, $"{role} table {table} ({engine}): {guarantee}", new LogFields(Table: table.ToString(), Strings: [new("engine", engine), new("engine_family", ReadAfterWrite.FamilyOf(engine))]));
    }
}
