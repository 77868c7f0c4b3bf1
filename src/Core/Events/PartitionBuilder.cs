using System.Buffers;

namespace MskClickHouse.Core.Events;

/// <summary>Records of one topic-partition while decoding; the record array is pooled until <see cref="BatchBuilder.Finish"/>.</summary>
internal sealed class PartitionBuilder(byte[] topicUtf8, string topic, int partition, string mapKey)
{
    public byte[] TopicUtf8 { get; } = topicUtf8;

    public string Topic { get; } = topic;

    public int Partition { get; } = partition;

    public string MapKey { get; } = mapKey;

    public KafkaRecord[] Records { get; private set; } = ArrayPool<KafkaRecord>.Shared.Rent(64);

    public int Count { get; private set; }

    public void Add(in KafkaRecord record)
    {
        if (Count == Records.Length)
        {
            var bigger = ArrayPool<KafkaRecord>.Shared.Rent(Count * 2);
            Records.AsSpan(0, Count).CopyTo(bigger);
            ArrayPool<KafkaRecord>.Shared.Return(Records, clearArray: true);
            Records = bigger;
        }

        Records[Count++] = record;
    }

    public void Release() => ArrayPool<KafkaRecord>.Shared.Return(Records, clearArray: true);
}
