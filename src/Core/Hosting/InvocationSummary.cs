using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;

namespace MskClickHouse.Core.Hosting;

/// <summary>The answer step of an invocation: its metrics, its summary log line, and the batchItemFailures answer.</summary>
internal sealed class InvocationSummary(PollerMode pollerMode, ISinkLog log, IMetricsSink metrics, TimeProvider time)
{
    /// <param name="outcomes">One per (partition, table) unit: a partition is undelivered when any of its units failed.</param>
    /// <param name="unroutedSkipped">Records no ROUTES rule matched, skipped (UNROUTED=skip).</param>
    /// <param name="unroutedTombstones">Tombstones no ROUTES rule matched, skipped (TOMBSTONES=skip).</param>
    public byte[] Answer(InvocationContext context, KafkaBatch batch, List<PartitionOutcome> outcomes, TimeSpan elapsed, long unroutedSkipped = 0, long unroutedTombstones = 0)
    {
        var failedUnits = outcomes.Where(o => o.Failure is not null).ToList();
        var failed = failedUnits.Select(o => o.Partition).Distinct().ToList();
        var inserts = outcomes.Sum(o => o.Inserts);
        var m = new InvocationMetrics
        {
            RecordsReceived = batch.ReceivedRecordCount,
            RowsInserted = outcomes.Sum(o => o.RowsInserted),
            DeadLettered = outcomes.Sum(o => o.DeadLettered) + batch.Unidentified.Count,
            Replayed = outcomes.Sum(o => o.Replayed),
            PossibleDuplicates = outcomes.Sum(o => o.PossibleDuplicates),
            TombstonesSkipped = outcomes.Sum(o => o.TombstonesSkipped) + unroutedTombstones,
            UnroutedSkipped = unroutedSkipped,
            InsertLatencyMs = inserts == 0 ? 0 : outcomes.Sum(o => o.InsertMilliseconds) / inserts,
            BatchBytes = batch.PayloadBytes,
            RecordLagMs = batch.OldestTimestampMs is { } oldest ? (time.GetUtcNow().ToUnixTimeMilliseconds() - oldest) : null,
            FailedPartitions = failed.Count,
            NonDeduplicatingTables = outcomes.Where(o => o.TableDeduplicates == false).Select(o => o.Table).Distinct().Count(),
            RefusedPartitions = failedUnits.Where(o => o.Failure is ClickHouseException { Kind: ClickHouseErrorKind.Permission or ClickHouseErrorKind.Auth }).Select(o => o.Partition).Distinct().Count(),
            UnidentifiedRecords = batch.Unidentified.Count,
            RefusedRoutes = failedUnits.Where(o => o.Failure is Routing.RouteRefusedException).Select(o => o.Partition).Distinct().Count(),
            QueryLimitPartitions = failedUnits.Where(o => o.Failure is ClickHouseException { Kind: ClickHouseErrorKind.QueryLimit }).Select(o => o.Partition).Distinct().Count(),
        };
        metrics.Publish(m);

        var perTable = outcomes.GroupBy(o => o.Table.ToString()).Select(g => new KeyValuePair<string, long>("rows." + g.Key, g.Sum(o => o.RowsInserted))).ToList();
        perTable.Add(new("records_in", m.RecordsReceived));
        perTable.Add(new("dead_lettered", m.DeadLettered));
        perTable.Add(new("replayed", m.Replayed));
        perTable.Add(new("possible_duplicates", m.PossibleDuplicates));
        perTable.Add(new("tombstones_skipped", m.TombstonesSkipped));
        perTable.Add(new("unrouted_skipped", m.UnroutedSkipped));
        perTable.Add(new("failed_partitions", failed.Count));
        perTable.Add(new("milliseconds", (long)elapsed.TotalMilliseconds));
        log.Write(
            failed.Count == 0 ? LogLevel.Information : LogLevel.Warning,
            "invocation summary",
            new LogFields(Numbers: perTable, Strings: [new("request_id", context.RequestId)]));

        return InvocationAnswer.For(
            pollerMode,
            failed.Select(p => new UndeliveredPartition(p.Topic, p.Partition, p.MapKey, p.FirstOffset, p.LastOffset)).ToList());
    }
}
