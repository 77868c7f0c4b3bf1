using System.Buffers;
using System.Text;

namespace MskClickHouse.Core.Events;

/// <summary>
/// The batch being decoded: the pooled arena that holds every key, value and header byte, the header array, the
/// records grouped by their own topic-partition, and the records no partition can hold (<see cref="UnidentifiedRecord"/>).
/// </summary>
internal sealed class BatchBuilder
{
    private readonly List<PartitionBuilder> partitions = [];
    private readonly List<UnidentifiedRecord> unidentified = [];
    private byte[] arena;
    private int arenaLength;
    private KafkaHeader[] headers;
    private PartitionBuilder? last;
    private long oldest = long.MaxValue;
    private int received;

    public BatchBuilder(int payloadLength)
    {
        // Every decoded byte comes from at least one distinct payload byte, so the payload length is enough
        // (the raw text copied for records in error may need more: Free grows then).
        arena = ArrayPool<byte>.Shared.Rent(Math.Max(payloadLength, 256));
        headers = ArrayPool<KafkaHeader>.Shared.Rent(64);
    }

    public string? EventSource { get; set; }

    public string? EventSourceArn { get; set; }

    public string? BootstrapServers { get; set; }

    public int HeaderCount { get; private set; }

    /// <summary>Where the next arena byte goes.</summary>
    public int ArenaLength => arenaLength;

    /// <summary>The free arena after <see cref="ArenaLength"/>, grown to at least <paramref name="atLeast"/> bytes.</summary>
    public Span<byte> Free(int atLeast)
    {
        if (arena.Length - arenaLength < atLeast)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(arena.Length * 2, arenaLength + atLeast));
            arena.AsSpan(0, arenaLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(arena);
            arena = bigger;
        }

        return arena.AsSpan(arenaLength);
    }

    /// <summary>Keeps <paramref name="count"/> bytes written into <see cref="Free"/> as one range.</summary>
    public ByteRange Commit(int count)
    {
        var range = new ByteRange(arenaLength, count);
        arenaLength += count;
        return range;
    }

    public ByteRange Copy(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Free(bytes.Length));
        return Commit(bytes.Length);
    }

    public void AddHeader(KafkaHeader header)
    {
        if (HeaderCount == headers.Length)
        {
            var bigger = ArrayPool<KafkaHeader>.Shared.Rent(headers.Length * 2);
            headers.AsSpan(0, HeaderCount).CopyTo(bigger);
            ArrayPool<KafkaHeader>.Shared.Return(headers);
            headers = bigger;
        }

        headers[HeaderCount++] = header;
    }

    /// <summary>Adds a record to the partition of its own <paramref name="topic"/> and <paramref name="partition"/>.</summary>
    public void Add(ReadOnlySpan<byte> topic, int partition, string mapKey, in KafkaRecord record)
    {
        Count(in record);
        var p = last;
        if (p is null || p.Partition != partition || !topic.SequenceEqual(p.TopicUtf8))
        {
            p = null;
            foreach (var candidate in partitions)
            {
                if (candidate.Partition == partition && topic.SequenceEqual(candidate.TopicUtf8))
                {
                    p = candidate;
                    break;
                }
            }

            if (p is null)
            {
                p = new PartitionBuilder(topic.ToArray(), Encoding.UTF8.GetString(topic), partition, mapKey);
                partitions.Add(p);
            }

            last = p;
        }

        p.Add(in record);
    }

    public void AddUnidentified(UnidentifiedRecord record)
    {
        Count(record.Record);
        unidentified.Add(record);
    }

    public KafkaBatch Finish(int payloadLength)
    {
        var result = new PartitionRecords[partitions.Count];
        for (var i = 0; i < partitions.Count; i++)
        {
            var p = partitions[i];
            var records = OffsetOrder.SortAndDeduplicate(p.Records.AsSpan(0, p.Count), out var dropped);
            p.Release();
            result[i] = new PartitionRecords(p.Topic, p.Partition, p.MapKey, records, dropped);
        }

        partitions.Clear();
        return new KafkaBatch(
            arena,
            arenaLength,
            headers,
            HeaderCount,
            result,
            payloadLength,
            EventSource,
            EventSourceArn,
            BootstrapServers,
            oldest == long.MaxValue ? null : oldest,
            received,
            [.. unidentified]);
    }

    public void Abandon()
    {
        foreach (var p in partitions)
        {
            p.Release();
        }

        partitions.Clear();
        ArrayPool<byte>.Shared.Return(arena);
        ArrayPool<KafkaHeader>.Shared.Return(headers);
    }

    private void Count(in KafkaRecord record)
    {
        received++;
        if (record.TimestampMs >= 0 && record.TimestampMs < oldest)
        {
            oldest = record.TimestampMs;
        }
    }
}
