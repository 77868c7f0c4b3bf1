using System.Buffers;
using System.Text;

namespace MskClickHouse.Core.Events;

/// <summary>Batch building: the arena, grouping by topic-partition, and the finished <see cref="KafkaBatch"/>.</summary>
public static partial class KafkaEventDecoder
{
    /// <summary>Records of one topic-partition while decoding; the record array is pooled until <see cref="DecodeState.Finish"/>.</summary>
    private sealed class PartitionBuilder(byte[] topicUtf8, string topic, int partition, string mapKey)
    {
        public byte[] TopicUtf8 { get; } = topicUtf8;

        public string Topic { get; } = topic;

        public int Partition { get; } = partition;

        public string MapKey { get; } = mapKey;

        public KafkaRecord[] Records { get; set; } = ArrayPool<KafkaRecord>.Shared.Rent(64);

        public int Count { get; set; }
    }

    /// <summary>
    /// The batch being built: the pooled arena that holds every key, value and header byte, the header array, and the
    /// records grouped by their own topic-partition. Base64 (KafkaEventDecoder.LenientBase64.cs) and headers
    /// (KafkaEventDecoder.Headers.cs) are decoded into it by the other parts of this class.
    /// </summary>
    private sealed partial class DecodeState
    {
        private readonly List<PartitionBuilder> partitions = [];
        private byte[] arena;
        private int arenaLength;
        private KafkaHeader[] headers;
        private PartitionBuilder? last;
        private long oldest = long.MaxValue;
        private int received;

        public DecodeState(int payloadLength)
        {
            // Every decoded byte comes from at least one distinct payload byte, so the payload length is enough
            // (the raw text copied for records in error may need more: EnsureArena grows then).
            arena = ArrayPool<byte>.Shared.Rent(Math.Max(payloadLength, 256));
            headers = ArrayPool<KafkaHeader>.Shared.Rent(64);
        }

        public string? EventSource { get; set; }

        public string? EventSourceArn { get; set; }

        public string? BootstrapServers { get; set; }

        public int HeaderCount { get; private set; }

        public ByteRange CopyRaw(ReadOnlySpan<byte> raw)
        {
            EnsureArena(raw.Length);
            var start = arenaLength;
            raw.CopyTo(arena.AsSpan(start));
            arenaLength += raw.Length;
            return new ByteRange(start, raw.Length);
        }

        private void EnsureArena(int extra)
        {
            if (arena.Length - arenaLength >= extra)
            {
                return;
            }

            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(arena.Length * 2, arenaLength + extra));
            arena.AsSpan(0, arenaLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(arena);
            arena = bigger;
        }

        public void Add(ReadOnlySpan<byte> topic, int partition, ref MapKey mapKey, ReadOnlySpan<byte> payload, in KafkaRecord record)
        {
            received++;
            if (record.TimestampMs >= 0 && record.TimestampMs < oldest)
            {
                oldest = record.TimestampMs;
            }

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
                    p = new PartitionBuilder(topic.ToArray(), Encoding.UTF8.GetString(topic), partition, mapKey.ToString(payload));
                    partitions.Add(p);
                }

                last = p;
            }

            if (p.Count == p.Records.Length)
            {
                var bigger = ArrayPool<KafkaRecord>.Shared.Rent(p.Count * 2);
                p.Records.AsSpan(0, p.Count).CopyTo(bigger);
                ArrayPool<KafkaRecord>.Shared.Return(p.Records, clearArray: true);
                p.Records = bigger;
            }

            p.Records[p.Count++] = record;
        }

        public KafkaBatch Finish(int payloadLength)
        {
            var result = new PartitionRecords[partitions.Count];
            for (var i = 0; i < partitions.Count; i++)
            {
                var p = partitions[i];
                var records = SortAndDeduplicate(p.Records.AsSpan(0, p.Count), out var dropped);
                ArrayPool<KafkaRecord>.Shared.Return(p.Records, clearArray: true);
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
                received);
        }

        public void Abandon()
        {
            foreach (var p in partitions)
            {
                ArrayPool<KafkaRecord>.Shared.Return(p.Records, clearArray: true);
            }

            partitions.Clear();
            ArrayPool<byte>.Shared.Return(arena);
            ArrayPool<KafkaHeader>.Shared.Return(headers);
        }
    }
}
