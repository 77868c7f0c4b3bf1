// TEMPORARY until the decoder branch merges: the container the decoder returns, reduced to what Delivery uses.
namespace MskClickHouse.Core.Decoding;

public sealed class KafkaBatch : IDisposable
{
    private readonly byte[] _arena;
    private readonly KafkaHeader[] _headers;

    public KafkaBatch(byte[] arena, KafkaHeader[] headers, IReadOnlyList<PartitionRecords> partitions, int payloadBytes)
    {
        _arena = arena;
        _headers = headers;
        Partitions = partitions;
        PayloadBytes = payloadBytes;
    }

    public IReadOnlyList<PartitionRecords> Partitions { get; }

    public int PayloadBytes { get; }

    public int RecordCount => Partitions.Sum(p => p.Records.Length);

    public long? OldestTimestampMs => Partitions.SelectMany(p => p.Records).Select(r => (long?)r.TimestampMs).Min();

    public ReadOnlySpan<byte> Bytes(ByteRange range) => range.IsNull ? default : _arena.AsSpan(range.Start, range.Length);

    public ReadOnlySpan<KafkaHeader> HeadersOf(in KafkaRecord record) => _headers.AsSpan(record.HeaderStart, record.HeaderCount);

    public void Dispose()
    {
    }
}
