namespace MskClickHouse.Core.Configuration;

/// <summary>
/// How the event-source mapping polls (POLLER_MODE, set by template.yaml from its PollerMode parameter). It decides how
/// an invocation reports partitions it could not deliver.
/// </summary>
public enum PollerMode
{
    /// <summary>Provisioned pollers with ReportBatchItemFailures: undelivered partitions go back as batchItemFailures.</summary>
    Provisioned,

    /// <summary>
    /// On-demand pollers have no partial batch responses: Lambda ignores a batchItemFailures answer and commits the
    /// batch. An invocation with undelivered partitions therefore fails as a whole, and the batch is retried (safe:
    /// delivery is exactly once).
    /// </summary>
    OnDemand,
}
