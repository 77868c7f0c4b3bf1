using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Runtime;

namespace MskClickHouse.Core.Replay;

/// <summary>Composes the replay mode at start-up: the same connection, dead-letter table and options as the sink.</summary>
public static class ReplayHandlerFactory
{
    private static readonly TimeSpan InitRetryBudget = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Over the gateway the bootstrap built. Creates the dead-letter table if missing (a replay before any dead letter answers an empty
    /// summary) and adds the replay's columns to a table of an earlier version (additive, idempotent).
    /// </summary>
    public static async Task<IInvocationHandler> CreateAsync(SinkOptions options, IClickHouseGateway gateway, ISinkLog log, TimeProvider time, CancellationToken cancellationToken, Formats.Registry.SchemaCache? schemas = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        using var budget = InvocationBudget.StartUp(InitRetryBudget, time, cancellationToken);
        var retrier = new Retrier(budget, log, Random.Shared.NextDouble);
        try
        {
            await retrier.RunAsync(c => gateway.ExecuteAsync(DeadLetters.CreateTableSql(options.DeadLetterTable), c));
            await retrier.RunAsync(c => DeadLetterTableSetup.MigrateAsync(gateway, options.DeadLetterTable, c));
        }
        catch (ClickHouseException e)
        {
            throw new ClickHouseException(
                $"start-up (replay): cannot create or migrate the dead-letter table {options.DeadLetterTable} at {SinkOptionsParser.Redact(options.ClickHouseUrl)} as user '{options.User}': {e.Message}",
                e.Kind,
                e.ServerCode,
                e.HttpStatus,
                inner: e);
        }

        log.Write(LogLevel.Information, "replay ready", new LogFields(Table: options.DeadLetterTable.ToString(), Strings: [new("sink_id", options.SinkId)]));
        return new ReplayHandler(options, gateway, new TableCatalog(gateway), log, time, Random.Shared.NextDouble, schemas);
    }
}
