namespace MskClickHouse.Core.Formats.Framing;

/// <summary>Compression of a Glue-framed payload (the byte after the header version).</summary>
public enum GlueCompression : byte
{
    None = 0x00,
    Zlib = 0x05,
}

/// <summary>
/// A value's framing header, parsed: the schema it names, where the payload starts, and (Glue) whether the payload
/// is zlib-compressed. Confluent Protobuf's message-index list is not part of it: it is read by
/// <see cref="ConfluentMessageIndexes"/> from the payload start, because only Protobuf values carry it.
/// </summary>
public readonly record struct FramedValue(SchemaRef Schema, int PayloadStart, GlueCompression Compression);
