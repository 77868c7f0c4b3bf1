using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Runtime;

namespace MskClickHouse.Core.Audit;

/// <summary>Composes the audit (<c>SINK_MODE=audit</c>). It creates and alters nothing: a read-only user suffices.</summary>
public static class AuditHandlerFactory
{
    /// <summary>Over the gateway the bootstrap built (tests: over the engine).</summary>
    public static IInvocationHandler Create(SinkOptions options, IClickHouseGateway gateway, ISinkLog log, IAuditMetricsSink metrics, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        log.Write(
            LogLevel.Information,
            "audit ready",
            new LogFields(Numbers: [new("window_hours", options.AuditWindowHours)], Strings: [new("sink_id", options.SinkId), new("state_table", options.StateTable.ToString()), new("dead_letter_table", options.DeadLetterTable.ToString())]));
        return new AuditHandler(options, new AuditReader(gateway), new TableCatalog(gateway), log, metrics, time);
    }
}
