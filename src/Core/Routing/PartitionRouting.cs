using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// The records of one partition that go to one table, in offset order (the whole partition when the table takes all),
/// and the name the delivery state and tokens of that (table, partition) are kept under (<see cref="TopicRoutes.StateTopics"/>).
/// </summary>
public sealed record RoutedRecords(TableName Table, PartitionRecords Records, string StateTopic);

/// <summary>
/// Where the records of one partition go: per table the records it receives (a record matched by several tables is in
/// each: fan-out), and the records no table receives, dead-lettered with <see cref="UnroutedReasons"/> or counted.
/// </summary>
/// <param name="Routed">Per target table that receives at least one record, in the order of the topic's tables.</param>
/// <param name="Unrouted">The records to dead-letter for want of a route (their reasons index into its records); null when none.</param>
/// <param name="UnroutedReasons">One per record of <paramref name="Unrouted"/>: why it has no route.</param>
/// <param name="UnroutedSkipped">Records no rule matched, skipped (UNROUTED=skip).</param>
/// <param name="TombstonesSkipped">Unrouted tombstones skipped under TOMBSTONES=skip (a routed one is counted by its table's encoder).</param>
/// <param name="Targets">Per record of <paramref name="Source"/>: the indexes in <paramref name="Routed"/> of its tables (for <see cref="RowEncoder.EncodeRouted"/>).</param>
public sealed record PartitionRouting(
    PartitionRecords Source,
    IReadOnlyList<RoutedRecords> Routed,
    PartitionRecords? Unrouted,
    IReadOnlyList<RejectedRecord> UnroutedReasons,
    int UnroutedSkipped,
    int TombstonesSkipped,
    RecordTargets Targets);
