using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Delivery;

/// <summary>What happened to one partition of an invocation.</summary>
public sealed class PartitionOutcome
{
    public PartitionOutcome(PartitionRecords source, TableName table)
    {
        Source = source;
        Table = table;
    }

    public PartitionRecords Source { get; }

    public TableName Table { get; }

    public long RowsInserted { get; set; }

    public long DeadLettered { get; set; }

    public long Replayed { get; set; }

    public long PossibleDuplicates { get; set; }

    public long TombstonesSkipped { get; set; }

    /// <summary>Whether the target table drops a retried insert; null when the table was not found.</summary>
    public bool? TableDeduplicates { get; set; }

    public int Inserts { get; set; }

    public double InsertMilliseconds { get; set; }

    /// <summary>Set when the partition could not be delivered: it is reported in batchItemFailures and retried.</summary>
    public Exception? Failure { get; set; }
}
