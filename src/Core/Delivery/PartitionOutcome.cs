using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// What happened to one partition of an invocation in one table: with ROUTES a partition is delivered to each of its
/// tables as a unit of its own (<see cref="Source"/> the records routed there, <see cref="StateTopic"/> the name its
/// state and tokens are kept under); the partition is answered as undelivered if any of its units failed.
/// </summary>
public sealed class PartitionOutcome
{
    public PartitionOutcome(PartitionRecords source, TableName table)
        : this(source, table, source?.Topic ?? throw new ArgumentNullException(nameof(source)), source)
    {
    }

    /// <param name="source">The records of the partition this unit delivers (all of them, or those routed to <paramref name="table"/>).</param>
    /// <param name="stateTopic">The name the unit's state and tokens are kept under (the topic's own for its home table).</param>
    /// <param name="partition">The whole partition as the event delivered it: what the answer reports.</param>
    public PartitionOutcome(PartitionRecords source, TableName table, string stateTopic, PartitionRecords partition)
    {
        Source = source;
        Table = table;
        StateTopic = stateTopic;
        Partition = partition;
    }

    /// <summary>The records this unit delivers, in offset order.</summary>
    public PartitionRecords Source { get; }

    public TableName Table { get; }

    /// <summary>The name of this unit's state row and the topic part of its tokens (<c>topic</c>, or <c>topic@db.table</c>).</summary>
    public string StateTopic { get; }

    /// <summary>The whole partition of the event (batchItemFailures names it, from its first offset).</summary>
    public PartitionRecords Partition { get; }

    public long RowsInserted { get; set; }

    public long DeadLettered { get; set; }

    public long Replayed { get; set; }

    public long PossibleDuplicates { get; set; }

    public long TombstonesSkipped { get; set; }

    /// <summary>Whether the target table drops a retried insert; null when the table was not found.</summary>
    public bool? TableDeduplicates { get; set; }

    /// <summary>
    /// The table whose deduplication window decides whether a retried insert is dropped (the target, or the table behind
    /// a Null landing table), as last read; null when not known (not found, or about to be created).
    /// </summary>
    public TableInfo? DeduplicatingTable { get; set; }

    public int Inserts { get; set; }

    public double InsertMilliseconds { get; set; }

    /// <summary>Set when the partition could not be delivered: it is reported in batchItemFailures and retried.</summary>
    public Exception? Failure { get; set; }

    /// <summary>
    /// The recorded range whose round-0 insert a materialized view rejected, when the table's rows of the range are then
    /// known to be round 0's (the insert carried all of it, or no later round was used yet): recorded in the state after
    /// the failure (<see cref="State.StateEntry.ViewFailed"/>).
    /// </summary>
    public OffsetRange? ViewRejected { get; set; }
}
