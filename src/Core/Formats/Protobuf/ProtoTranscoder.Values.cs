using System.Buffers.Binary;

namespace MskClickHouse.Core.Formats.Protobuf;

/// <summary>Scalar values, packed repeated values, timestamps and varints of the wire format.</summary>
public static partial class ProtoTranscoder
{
    private static bool IsPackable(ProtoKind kind) => kind is not (ProtoKind.String or ProtoKind.Bytes or ProtoKind.Message or ProtoKind.Timestamp);

    private static int WritePackedOne(ProtoField f, ReadOnlySpan<byte> packed, int p, JsonOutput o)
    {
        switch (f.Kind)
        {
            case ProtoKind.Double or ProtoKind.Fixed64 or ProtoKind.SFixed64:
                Need(packed, p, 8);
                WriteValue(f, 1, packed.Slice(p, 8), o, 0);
                return p + 8;
            case ProtoKind.Float or ProtoKind.Fixed32 or ProtoKind.SFixed32:
                Need(packed, p, 4);
                WriteValue(f, 5, packed.Slice(p, 4), o, 0);
                return p + 4;
            default:
                var start = p;
                Varint(packed, ref p);
                WriteValue(f, 0, packed[start..p], o, 0);
                return p;
        }
    }

    private static void Need(ReadOnlySpan<byte> data, int at, int bytes)
    {
        if (data.Length - at < bytes)
        {
            throw new ProtoDataException("a packed repeated field ends in the middle of a value");
        }
    }

    /// <summary>One value: for wire type 0 <paramref name="raw"/> is the varint's bytes, 1/5 the fixed bytes, 2 the content.</summary>
    private static void WriteValue(ProtoField f, int wire, ReadOnlySpan<byte> raw, JsonOutput o, int depth)
    {
        var expected = f.Kind switch
        {
            ProtoKind.Double or ProtoKind.Fixed64 or ProtoKind.SFixed64 => 1,
            ProtoKind.Float or ProtoKind.Fixed32 or ProtoKind.SFixed32 => 5,
            ProtoKind.String or ProtoKind.Bytes or ProtoKind.Message or ProtoKind.Timestamp => 2,
            _ => 0,
        };
        if (wire != expected)
        {
            throw new ProtoDataException($"field '{f.Name}' ({f.Kind}) arrived with wire type {wire}, expected {expected}: the schema does not match");
        }

        var p = 0;
        switch (f.Kind)
        {
            case ProtoKind.Double:
                JsonValues.Double(o, BinaryPrimitives.ReadDoubleLittleEndian(raw));
                break;
            case ProtoKind.Float:
                JsonValues.Float(o, BinaryPrimitives.ReadSingleLittleEndian(raw));
                break;
            case ProtoKind.Fixed64:
                JsonValues.ULong(o, BinaryPrimitives.ReadUInt64LittleEndian(raw));
                break;
            case ProtoKind.SFixed64:
                JsonValues.Long(o, BinaryPrimitives.ReadInt64LittleEndian(raw));
                break;
            case ProtoKind.Fixed32:
                JsonValues.Long(o, BinaryPrimitives.ReadUInt32LittleEndian(raw));
                break;
            case ProtoKind.SFixed32:
                JsonValues.Long(o, BinaryPrimitives.ReadInt32LittleEndian(raw));
                break;
            case ProtoKind.Int64:
                JsonValues.Long(o, (long)Varint(raw, ref p));
                break;
            case ProtoKind.UInt64:
                JsonValues.ULong(o, Varint(raw, ref p));
                break;
            case ProtoKind.Int32:
                JsonValues.Long(o, (int)Varint(raw, ref p));
                break;
            case ProtoKind.UInt32:
                JsonValues.Long(o, (uint)Varint(raw, ref p));
                break;
            case ProtoKind.SInt32:
            case ProtoKind.SInt64:
                var z = Varint(raw, ref p);
                var v = (long)(z >> 1) ^ -(long)(z & 1);
                JsonValues.Long(o, f.Kind == ProtoKind.SInt32 ? (int)v : v);
                break;
            case ProtoKind.Bool:
                o.Write(Varint(raw, ref p) != 0 ? "true"u8 : "false"u8);
                break;
            case ProtoKind.Enum:
                var number = (int)Varint(raw, ref p);
                if (f.Enum!.Symbols.TryGetValue(number, out var symbol))
                {
                    o.Write(symbol);
                }
                else
                {
                    JsonValues.Long(o, number);
                }

                break;
            case ProtoKind.String:
            case ProtoKind.Bytes:
                JsonValues.String(o, raw);
                break;
            case ProtoKind.Timestamp:
                WriteTimestamp(raw, o);
                break;
            case ProtoKind.Message:
                WriteMessage(f.Message!, raw, o, depth + 1);
                break;
        }
    }

    private static void WriteTimestamp(ReadOnlySpan<byte> data, JsonOutput o)
    {
        long seconds = 0;
        long nanos = 0;
        var pos = 0;
        while (pos < data.Length)
        {
            var tag = Varint(data, ref pos);
            if ((tag & 7) != 0)
            {
                throw new ProtoDataException("google.protobuf.Timestamp has a field that is not a varint");
            }

            var value = Varint(data, ref pos);
            if ((tag >> 3) == 1)
            {
                seconds = (long)value;
            }
            else if ((tag >> 3) == 2)
            {
                nanos = (int)value;
            }
        }

        if (nanos is < 0 or > 999_999_999)
        {
            throw new ProtoDataException($"google.protobuf.Timestamp has nanos {nanos} out of 0..999999999");
        }

        JsonValues.Timestamp(o, checked((seconds * 1_000_000_000) + nanos), 9, local: false);
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (pos >= data.Length)
            {
                throw new ProtoDataException("the message ends in the middle of a varint");
            }

            var b = data[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new ProtoDataException("a varint is longer than 10 bytes");
    }

    private readonly record struct Occurrence(int Field, int Wire, int Start, int Length);
}
