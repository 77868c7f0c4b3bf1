using MskClickHouse.Core.Errors;





namespace MskClickHouse.Core.Hosting;

/// <summary>One partition of the batch that was not delivered: where the mapping must resume it.</summary>
public sealed record UndeliveredPartition(string Topic, int Partition, string MapKey, long FirstOffset, long LastOffset);

/// <summary>
/// The invocation's answer when partitions were not delivered and the mapping cannot take a partial batch response
/// (POLLER_MODE=ON_DEMAND): the invocation fails, so Lambda retries the whole batch instead of committing it. The
/// message names every undelivered topic, partition and offset range; the causes were logged per partition.
/// </summary>
public sealed class UndeliveredPartitionsException : SinkException
{
    public UndeliveredPartitionsException(IReadOnlyList<UndeliveredPartition> partitions)
        : base(Describe(partitions))
    {
        Partitions = partitions;
    }

    public IReadOnlyList<UndeliveredPartition> Partitions { get; }

    public override bool IsRetryable => true;

    private static string Describe(IReadOnlyList<UndeliveredPartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        var list = string.Join(", ", partitions.Select(p => $"topic {p.Topic} partition {p.Partition} from offset {p.FirstOffset} (to {p.LastOffset})"));
        return $"{partitions.Count} partition(s) not delivered, failing the invocation so that Lambda retries the batch " +
            $"(POLLER_MODE=ON_DEMAND: the mapping ignores batchItemFailures): {list}";
    }
}
