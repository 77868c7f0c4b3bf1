namespace MskClickHouse.Core.Events;

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

    /// <summary>
    /// The <c>dataFormat</c> of the record's <c>valueSchemaMetadata</c> (set when the event source mapping has a
    /// schema registry); <see cref="SchemaDataFormat.None"/> when absent.
    /// </summary>
    public SchemaDataFormat ValueSchemaFormat { get; init; }
}

/// <summary>The <c>dataFormat</c> a schema registry reports for a key or value.</summary>
public enum SchemaDataFormat : byte
{
    None = 0,
    Avro = 1,
    Protobuf = 2,
    Json = 3,
    Other = 4,
}

/// <summary>
/// The records of one topic-partition, sorted by offset with each offset once (a repeated offset keeps its first copy);
/// or a subset of them in the same order (<see cref="Subset"/>: the records one table receives), which refers to the
/// partition's records by index instead of copying them.
/// </summary>
public sealed class PartitionRecords
{
    /// <summary>The whole partition's records; a subset's are those at <see cref="indexes"/>.</summary>
    private readonly KafkaRecord[] source;
    private readonly int[]? indexes;
    private KafkaRecord[]? copied;

    public PartitionRecords(string topic, int partition, string mapKey, KafkaRecord[] records, int duplicateOffsetsDropped)
    {
        Topic = topic;
        Partition = partition;
        MapKey = mapKey;
        source = records;
        DuplicateOffsetsDropped = duplicateOffsetsDropped;
    }

    private PartitionRecords(PartitionRecords whole, int[] indexes)
        : this(whole.Topic, whole.Partition, whole.MapKey, whole.source, duplicateOffsetsDropped: 0) => this.indexes = indexes;

    public string Topic { get; }

    public int Partition { get; }

    /// <summary>The key of the event's <c>records</c> map this partition came from (used in <c>batchItemFailures</c>).</summary>
    public string MapKey { get; }

    /// <summary>
    /// The records as an array. A subset's are copied on the first read and kept (two threads reading first may each
    /// copy: the same records): the encode and plan steps read them through <see cref="Count"/> and the indexer
    /// instead, which copy nothing.
    /// </summary>
    public KafkaRecord[] Records => indexes is null ? source : copied ??= Copy(source, indexes);

    public int Count => indexes?.Length ?? source.Length;

    /// <summary>The <paramref name="index"/>-th record (of the subset when this is one).</summary>
    public ref readonly KafkaRecord this[int index] => ref indexes is null ? ref source[index] : ref source[indexes[index]];

    public int DuplicateOffsetsDropped { get; }

    public long FirstOffset => this[0].Offset;

    public long LastOffset => this[Count - 1].Offset;

    /// <summary>
    /// The records at <paramref name="indexes"/> (ascending, each once, below <see cref="Count"/>), in their order,
    /// without copying them; the subset keeps <paramref name="indexes"/>, which must not change afterwards. A subset of a
    /// subset indexes the whole partition too.
    /// </summary>
    public PartitionRecords Subset(int[] indexes)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        var count = Count;
        for (var i = 0; i < indexes.Length; i++)
        {
            if ((uint)indexes[i] >= (uint)count || (i > 0 && indexes[i] <= indexes[i - 1]))
            {
                throw new ArgumentException($"index {i} of the subset of {Topic}-{Partition} is {indexes[i]}: indexes must ascend, each below {count}", nameof(indexes));
            }
        }

        if (this.indexes is { } own)
        {
            indexes = Array.ConvertAll(indexes, i => own[i]);
        }

        return new(this, indexes);
    }

    private static KafkaRecord[] Copy(KafkaRecord[] source, int[] indexes)
    {
        var records = new KafkaRecord[indexes.Length];
        for (var i = 0; i < indexes.Length; i++)
        {
            records[i] = source[indexes[i]];
        }

        return records;
    }
}

/// <summary>
/// One decoded Lambda Kafka event. Owns a pooled arena holding every decoded key, value and header byte, and a
/// pooled header array; <see cref="Dispose"/> returns both to the pool, after which no span from this batch may be used.
/// </summary>
public sealed class KafkaBatch : IDisposable
{
    private byte[]? arena;
    private KafkaHeader[]? headers;
    private readonly int arenaLength;
    private readonly int headerCount;

    internal KafkaBatch(
        byte[] arena,
        int arenaLength,
        KafkaHeader[] headers,
        int headerCount,
        IReadOnlyList<PartitionRecords> partitions,
        int payloadBytes,
        string? eventSource,
        string? eventSourceArn,
        string? bootstrapServers,
        long? oldestTimestampMs,
        int receivedRecordCount,
        IReadOnlyList<UnidentifiedRecord> unidentified)
    {
        this.arena = arena;
        this.arenaLength = arenaLength;
        this.headers = headers;
        this.headerCount = headerCount;
        Partitions = partitions;
        PayloadBytes = payloadBytes;
        EventSource = eventSource;
        EventSourceArn = eventSourceArn;
        BootstrapServers = bootstrapServers;
        OldestTimestampMs = oldestTimestampMs;
        ReceivedRecordCount = receivedRecordCount;
        Unidentified = unidentified;
        var count = 0;
        foreach (var p in partitions)
        {
            count += p.Records.Length;
        }

        RecordCount = count;
    }

    /// <summary>The partitions of the event, in the order they first appeared, each grouped by the records' own topic and partition.</summary>
    public IReadOnlyList<PartitionRecords> Partitions { get; }

    /// <summary>
    /// The records whose topic, partition or offset could not be read, in event order: in no partition, each to be
    /// dead-lettered under its own identity (its place in the event).
    /// </summary>
    public IReadOnlyList<UnidentifiedRecord> Unidentified { get; }

    /// <summary>Records kept (after dropping repeated offsets), over all partitions.</summary>
    public int RecordCount { get; }

    /// <summary>Records as they arrived in the event, repeated offsets and unidentified records included.</summary>
    public int ReceivedRecordCount { get; }

    /// <summary>Size of the raw event in bytes.</summary>
    public int PayloadBytes { get; }

    /// <summary><c>eventSource</c> as sent (aws:kafka, SelfManagedKafka, aws:SelfManagedKafka...); informational only.</summary>
    public string? EventSource { get; }

    public string? EventSourceArn { get; }

    public string? BootstrapServers { get; }

    /// <summary>
    /// The source cluster: <c>eventSourceArn</c> (MSK), else <c>bootstrapServers</c> (self-managed Kafka sends no ARN),
    /// else "unknown-source". Part of the exactly-once identity (state, tokens, probes) with topic and partition.
    /// </summary>
    public string SourceName =>
        !string.IsNullOrEmpty(EventSourceArn) ? EventSourceArn
        : !string.IsNullOrEmpty(BootstrapServers) ? BootstrapServers
        : "unknown-source";

    /// <summary>The smallest record timestamp (epoch ms) of the batch; null when no record carries one.</summary>
    public long? OldestTimestampMs { get; }

    /// <summary>All decoded bytes; records point into it with <see cref="ByteRange"/>.</summary>
    public ReadOnlySpan<byte> Arena => Live().AsSpan(0, arenaLength);

    /// <summary>The bytes of <paramref name="range"/>; empty for <see cref="ByteRange.Null"/>.</summary>
    public ReadOnlySpan<byte> Bytes(ByteRange range) =>
        range.IsNull ? ReadOnlySpan<byte>.Empty : Live().AsSpan(range.Start, range.Length);

    /// <summary>The bytes of <paramref name="range"/> as memory (valid until <see cref="Dispose"/>).</summary>
    public ReadOnlyMemory<byte> Memory(ByteRange range) =>
        range.IsNull ? ReadOnlyMemory<byte>.Empty : Live().AsMemory(range.Start, range.Length);

    /// <summary>The headers of <paramref name="record"/>, in the order sent.</summary>
    public ReadOnlySpan<KafkaHeader> HeadersOf(in KafkaRecord record)
    {
        var h = headers ?? throw new ObjectDisposedException(nameof(KafkaBatch));
        return record.HeaderCount == 0 ? ReadOnlySpan<KafkaHeader>.Empty : h.AsSpan(record.HeaderStart, record.HeaderCount);
    }

    /// <summary>All headers of the batch.</summary>
    internal ReadOnlySpan<KafkaHeader> AllHeaders => (headers ?? throw new ObjectDisposedException(nameof(KafkaBatch))).AsSpan(0, headerCount);

    public void Dispose()
    {
        var a = Interlocked.Exchange(ref arena, null);
        if (a is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(a);
        }

        var h = Interlocked.Exchange(ref headers, null);
        if (h is not null)
        {
            System.Buffers.ArrayPool<KafkaHeader>.Shared.Return(h);
        }
    }

    private byte[] Live() => arena ?? throw new ObjectDisposedException(nameof(KafkaBatch));
}
