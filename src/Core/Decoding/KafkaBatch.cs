namespace MskClickHouse.Core.Decoding;

/// <summary>A slice of <see cref="KafkaBatch.Arena"/>; <see cref="IsNull"/> for a JSON null or absent field.</summary>
public readonly record struct ByteRange(int Start, int Length)
{
    public static readonly ByteRange Null = new(-1, 0);

    public bool IsNull => Start < 0;
}

public enum TimestampType : byte
{
    NoTimestampType = 0,
    CreateTime = 1,
    LogAppendTime = 2,
}

/// <summary>One header of a record: name and value bytes in the arena (values arrive as signed Java bytes).</summary>
public readonly record struct KafkaHeader(ByteRange Name, ByteRange Value);

/// <summary>
/// One Kafka record, decoded. Key and value are base64-decoded into the batch arena.
/// A record with <see cref="Error"/> set could not be decoded (e.g. invalid base64): its <see cref="Value"/>
/// then holds the raw text as it arrived, so the dead-letter table keeps what was sent.
/// </summary>
public readonly record struct KafkaRecord(
    long Offset,
    long TimestampMs,
    TimestampType TimestampType,
    ByteRange Key,
    ByteRange Value,
    int HeaderStart,
    int HeaderCount,
    bool HasSchemaMetadata,
    string? Error)
{
    /// <summary>A null value: a Kafka tombstone.</summary>
    public bool IsTombstone => Value.IsNull && Error is null;
}

/// <summary>
/// The records of one topic-partition, sorted by offset with each offset once (a repeated offset keeps its first copy).
/// </summary>
public sealed class PartitionRecords
{
    public PartitionRecords(string topic, int partition, string mapKey, KafkaRecord[] records, int duplicateOffsetsDropped)
    {
        Topic = topic;
        Partition = partition;
        MapKey = mapKey;
        Records = records;
        DuplicateOffsetsDropped = duplicateOffsetsDropped;
    }

    public string Topic { get; }

    public int Partition { get; }

    /// <summary>The key of the event's <c>records</c> map this partition came from (used in <c>batchItemFailures</c>).</summary>
    public string MapKey { get; }

    public KafkaRecord[] Records { get; }

    public int DuplicateOffsetsDropped { get; }

    public long FirstOffset => Records[0].Offset;

    public long LastOffset => Records[^1].Offset;
}
