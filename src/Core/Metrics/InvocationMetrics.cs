namespace MskClickHouse.Core.Metrics;

/// <summary>The figures of one invocation, published as one CloudWatch Embedded Metric Format line.</summary>
public sealed record InvocationMetrics
{
    public long RecordsReceived { get; init; }

    public long RowsInserted { get; init; }

    public long DeadLettered { get; init; }

    public long Replayed { get; init; }

    public long PossibleDuplicates { get; init; }

    public long TombstonesSkipped { get; init; }

    /// <summary>Records without a readable topic, partition or offset: dead-lettered under their place in the event.</summary>
    public long UnidentifiedRecords { get; init; }

    /// <summary>Partitions whose route reached a table no topic may write (the sink's own tables, another database): retried, nothing written.</summary>
    public long RefusedRoutes { get; init; }
    /// <summary>Records of a routed topic that no ROUTES rule matched, skipped (UNROUTED=skip).</summary>
    public long UnroutedSkipped { get; init; }

    public double InsertLatencyMs { get; init; }

    public long BatchBytes { get; init; }

    /// <summary>Now minus the oldest record timestamp of the batch; null for an empty batch.</summary>
    public double? RecordLagMs { get; init; }

    public long FailedPartitions { get; init; }

    /// <summary>Target tables of this batch that cannot drop a retried insert (no deduplication window): alarm on it.</summary>
    public long NonDeduplicatingTables { get; init; }

    /// <summary>Partitions ClickHouse refused for permission, authentication or configuration (READONLY, ACCESS_DENIED, ...): no retry fixes them.</summary>
    public long RefusedPartitions { get; init; }

    /// <summary>Partitions whose insert exceeded a per-query limit (max_execution_time, max_memory_usage, …): the same batch meets it again.</summary>
    public long QueryLimitPartitions { get; init; }
}

/// <summary>Publishes invocation metrics.</summary>
public interface IMetricsSink
{
    void Publish(InvocationMetrics metrics);

    /// <summary>One count with the dimensions service and table (<c>db.table</c>; e.g. UnknownFields); a sink without tables ignores it.</summary>
    void PublishTableCount(string metricName, string table, long count)
    {
    }
}
