// TEMPORARY until the decoder branch merges: signatures only, so Delivery compiles.
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Decoding;

public static class KafkaEventDecoder
{
    public static KafkaBatch Decode(ReadOnlySpan<byte> utf8Payload) => throw new NotImplementedException(utf8Payload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

public static class RowEncoder
{
    public static EncodedPartition Encode(KafkaBatch batch, PartitionRecords partition, TableShape shape, TombstonePolicy tombstones) => throw new NotImplementedException($"{batch}{partition}{shape}{tombstones}");
}
