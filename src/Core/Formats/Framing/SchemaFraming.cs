using System.Buffers.Binary;

namespace MskClickHouse.Core.Formats.Framing;

/// <summary>
/// Detects the schema-registry framing of a record value. Pure.
/// </summary>
/// <remarks>
/// <para><b>Confluent</b> (the serializers of Confluent's clients): <c>0x00</c>, then the schema id as a 4-byte
/// big-endian integer, then the payload (Protobuf values start with the message-index list).</para>
/// <para><b>AWS Glue Schema Registry</b> (the serde library of awslabs/aws-glue-schema-registry): header version
/// <c>0x03</c>, a compression byte (<c>0x00</c> none, <c>0x05</c> zlib), the schema version id as a 16-byte UUID in
/// network (big-endian) order, then the payload.</para>
/// </remarks>
public static class SchemaFraming
{
    public const byte ConfluentMagic = 0x00;
    public const byte GlueHeaderVersion = 0x03;
    public const int ConfluentHeaderLength = 5;
    public const int GlueHeaderLength = 18;

    /// <summary>
    /// Parses the framing of <paramref name="value"/>. Returns null on success, else why the value is not framed
    /// (the dead-letter reason).
    /// </summary>
    public static string? TryParse(ReadOnlySpan<byte> value, out FramedValue framed)
    {
        framed = default;
        if (value.IsEmpty)
        {
            return "value is empty, expected a schema-registry framed value (Confluent 0x00 + schema id, or Glue 0x03)";
        }

        switch (value[0])
        {
            case ConfluentMagic:
                if (value.Length < ConfluentHeaderLength)
                {
                    return $"value is {value.Length} bytes, too short for the Confluent framing (0x00 + 4-byte schema id)";
                }

                var id = BinaryPrimitives.ReadInt32BigEndian(value[1..]);
                if (id < 0)
                {
                    return $"Confluent framing names a negative schema id ({id})";
                }

                framed = new FramedValue(SchemaRef.Confluent(id), ConfluentHeaderLength, GlueCompression.None);
                return null;
            case GlueHeaderVersion:
                if (value.Length < GlueHeaderLength)
                {
                    return $"value is {value.Length} bytes, too short for the Glue framing (0x03, compression byte, 16-byte schema version id)";
                }

                var compression = value[1];
                if (compression is not ((byte)GlueCompression.None or (byte)GlueCompression.Zlib))
                {
                    return $"Glue framing has unknown compression byte 0x{compression:x2} (expected 0x00 none or 0x05 zlib)";
                }

                var version = new Guid(value.Slice(2, 16), bigEndian: true);
                framed = new FramedValue(SchemaRef.Glue(version), GlueHeaderLength, (GlueCompression)compression);
                return null;
            case (byte)'{':
                return "value does not start with a schema-registry framing byte (0x00 Confluent or 0x03 Glue) but with 0x7b '{': it is JSON; if the event source mapping decodes it (EventRecordFormat JSON), set VALUE_FORMAT=json for the topic";
            default:
                return $"value does not start with a schema-registry framing byte (0x00 Confluent or 0x03 Glue) but with 0x{value[0]:x2}; is the topic's VALUE_FORMAT right?";
        }
    }

    /// <summary>Writes a Confluent header (tests, the event generator).</summary>
    public static void WriteConfluent(Span<byte> dest, int schemaId)
    {
        dest[0] = ConfluentMagic;
        BinaryPrimitives.WriteInt32BigEndian(dest[1..], schemaId);
    }

    /// <summary>Writes a Glue header (tests, the event generator).</summary>
    public static void WriteGlue(Span<byte> dest, Guid versionId, GlueCompression compression)
    {
        dest[0] = GlueHeaderVersion;
        dest[1] = (byte)compression;
        versionId.TryWriteBytes(dest.Slice(2, 16), bigEndian: true, out _);
    }
}
