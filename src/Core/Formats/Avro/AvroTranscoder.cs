using System.Buffers.Binary;

namespace MskClickHouse.Core.Formats.Avro;

/// <summary>
/// Transcodes Avro binary (the writer schema's encoding, as the Confluent and Glue serializers write it) straight to
/// one JSON object, without building any intermediate value: a walk of the compiled schema graph that reads varints
/// and writes JSON bytes. Records → objects (fields by name, so versions with reordered fields land alike), enums →
/// their symbol, arrays → arrays, maps → objects, unions → the chosen branch's value (null for the null branch),
/// bytes/fixed → strings of the raw bytes, and logical types as <see cref="JsonValues"/> writes them.
/// </summary>
public static class AvroTranscoder
{
    /// <summary>Nesting limit for recursive schemas (a linked list of 10k nodes would otherwise overflow the stack).</summary>
    public const int MaxDepth = 200;

    /// <summary>Transcodes one value; throws <see cref="AvroDataException"/> when the bytes do not fit the schema.</summary>
    public static void Transcode(AvroType schema, ReadOnlySpan<byte> data, JsonOutput output)
    {
        var reader = new AvroReader(data);
        Write(schema, ref reader, output, 0);
        if (reader.Position != data.Length)
        {
            throw new AvroDataException($"{data.Length - reader.Position} bytes left over after the value (at byte {reader.Position}): the writer schema does not match");
        }
    }

    private static void Write(AvroType t, ref AvroReader r, JsonOutput o, int depth)
    {
        switch (t.Kind)
        {
            case AvroKind.Null:
                o.Write("null"u8);
                break;
            case AvroKind.Boolean:
                var b = r.Byte();
                o.Write(b == 0 ? "false"u8 : b == 1 ? "true"u8 : throw new AvroDataException($"boolean byte {b} at byte {r.Position - 1} is neither 0 nor 1"));
                break;
            case AvroKind.Int:
            case AvroKind.Long:
                JsonValues.Long(o, r.Long());
                break;
            case AvroKind.Float:
                JsonValues.Float(o, BinaryPrimitives.ReadSingleLittleEndian(r.Bytes(4)));
                break;
            case AvroKind.Double:
                JsonValues.Double(o, BinaryPrimitives.ReadDoubleLittleEndian(r.Bytes(8)));
                break;
            case AvroKind.Bytes:
            case AvroKind.String:
                JsonValues.String(o, r.Bytes(r.Length()));
                break;
            case AvroKind.Fixed:
                JsonValues.String(o, r.Bytes(t.Size));
                break;
            case AvroKind.Record:
                WriteRecord(t, ref r, o, depth);
                break;
            case AvroKind.Enum:
                var symbol = r.Long();
                if ((ulong)symbol >= (ulong)t.Symbols.Length)
                {
                    throw new AvroDataException($"enum {t.FullName} index {symbol} is out of its {t.Symbols.Length} symbols");
                }

                o.Write(t.Symbols[symbol]);
                break;
            case AvroKind.Array:
                WriteBlocks(t, ref r, o, depth, map: false);
                break;
            case AvroKind.Map:
                WriteBlocks(t, ref r, o, depth, map: true);
                break;
            case AvroKind.Union:
                var branch = r.Long();
                if ((ulong)branch >= (ulong)t.Branches.Length)
                {
                    throw new AvroDataException($"union branch {branch} is out of its {t.Branches.Length} branches");
                }

                Write(t.Branches[branch], ref r, o, depth);
                break;
            case AvroKind.Date:
                JsonValues.Date(o, checked((int)r.Long()));
                break;
            case AvroKind.TimeMillis:
                JsonValues.TimeOfDay(o, r.Long(), 3);
                break;
            case AvroKind.TimeMicros:
                JsonValues.TimeOfDay(o, r.Long(), 6);
                break;
            case AvroKind.TimestampMillis:
                JsonValues.Timestamp(o, r.Long(), 3, t.Local);
                break;
            case AvroKind.TimestampMicros:
                JsonValues.Timestamp(o, r.Long(), 6, t.Local);
                break;
            case AvroKind.TimestampNanos:
                JsonValues.Timestamp(o, r.Long(), 9, t.Local);
                break;
            case AvroKind.Decimal:
                JsonValues.Decimal(o, r.Bytes(t.FixedBacked ? t.Size : r.Length()), t.Scale);
                break;
            case AvroKind.FixedUuid:
                JsonValues.Uuid(o, r.Bytes(16));
                break;
            default:
                throw new AvroDataException($"unsupported Avro type {t.Kind}");
        }
    }

    private static void WriteRecord(AvroType t, ref AvroReader r, JsonOutput o, int depth)
    {
        if (depth >= MaxDepth)
        {
            throw new AvroDataException($"records nest deeper than {MaxDepth}");
        }

        o.WriteByte((byte)'{');
        var fields = t.Fields;
        for (var i = 0; i < fields.Length; i++)
        {
            var f = fields[i];
            o.Write(i == 0 ? f.JsonNameWithComma.AsSpan(1) : f.JsonNameWithComma);
            Write(f.Type, ref r, o, depth + 1);
        }

        o.WriteByte((byte)'}');
    }

    /// <summary>
    /// An array (JSON array) or a map (JSON object, string keys): both are blocks of items, each block led by its count,
    /// the last block empty; a map's item is its key then its value.
    /// </summary>
    private static void WriteBlocks(AvroType t, ref AvroReader r, JsonOutput o, int depth, bool map)
    {
        o.WriteByte(map ? (byte)'{' : (byte)'[');
        var first = true;
        while (true)
        {
            var count = r.BlockCount();
            if (count == 0)
            {
                break;
            }

            for (var i = 0L; i < count; i++)
            {
                if (!first)
                {
                    o.WriteByte((byte)',');
                }

                first = false;
                if (map)
                {
                    JsonValues.String(o, r.Bytes(r.Length()));
                    o.WriteByte((byte)':');
                }

                Write(t.Items!, ref r, o, depth + 1);
            }
        }

        o.WriteByte(map ? (byte)'}' : (byte)']');
    }

    /// <summary>Reads Avro's binary primitives from a span; every read is bounds-checked.</summary>
    private ref struct AvroReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Position { get; private set; }

        public byte Byte()
        {
            if (Position >= _data.Length)
            {
                throw Truncated();
            }

            return _data[Position++];
        }

        /// <summary>A zigzag varint (int and long share the encoding).</summary>
        public long Long()
        {
            ulong raw = 0;
            var shift = 0;
            while (true)
            {
                if (Position >= _data.Length)
                {
                    throw Truncated();
                }

                var b = _data[Position++];
                raw |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return (long)(raw >> 1) ^ -(long)(raw & 1);
                }

                shift += 7;
                if (shift > 63)
                {
                    throw new AvroDataException($"a varint at byte {Position} is longer than 10 bytes");
                }
            }
        }

        public int Length()
        {
            var n = Long();
            if (n < 0 || n > _data.Length - Position)
            {
                throw new AvroDataException($"length {n} at byte {Position} is negative or runs past the end of the value ({_data.Length} bytes)");
            }

            return (int)n;
        }

        /// <summary>An array/map block's item count; a negative count is followed by the block's byte size (skipped).</summary>
        public long BlockCount()
        {
            var n = Long();
            if (n < 0)
            {
                Long();
                n = -n;
            }

            // An item takes at least one byte unless its type is zero-width (null, an empty record): a count beyond
            // the bytes left plus a margin for those is corrupt data, not a reason to write gigabytes of "null".
            if (n > _data.Length - Position + 65_536L)
            {
                throw new AvroDataException($"block count {n} at byte {Position} exceeds what the {_data.Length - Position} bytes left can hold");
            }

            return n;
        }

        public ReadOnlySpan<byte> Bytes(int n)
        {
            if (n > _data.Length - Position)
            {
                throw Truncated();
            }

            var s = _data.Slice(Position, n);
            Position += n;
            return s;
        }

        private readonly AvroDataException Truncated() => new($"the value ends early ({_data.Length} bytes): the writer schema does not match");
    }
}
