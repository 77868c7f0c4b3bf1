namespace MskClickHouse.Core.Formats.Protobuf;

/// <summary>
/// Transcodes Protobuf wire bytes to one JSON object with every field of the message in declaration order: nested
/// message → object, map → object, repeated → array (packed or not), enum → its name (the number when unknown),
/// google.protobuf.Timestamp → ISO 8601 string with 9 fraction digits, bytes → a string of the raw bytes, each integer
/// kind read as its own width and signedness (int32 negative values sign-extended, sint zigzag, fixed little-endian).
/// Absent fields get proto3 defaults (0, "", false, first enum value, [] and {}); absent message fields, oneof members
/// and fields with explicit presence (proto2, proto3 'optional') are null. Unknown field numbers are skipped.
/// A singular field sent more than once keeps its last value (messages are not merged).
/// </summary>
public static partial class ProtoTranscoder
{
    public const int MaxDepth = 100;

    [ThreadStatic]
    private static Occurrence[][]? levels;

    public static void Transcode(ProtoMessage message, ReadOnlySpan<byte> data, JsonOutput output)
    {
        ArgumentNullException.ThrowIfNull(message);
        WriteMessage(message, data, output, 0);
    }

    private static void WriteMessage(ProtoMessage m, ReadOnlySpan<byte> data, JsonOutput o, int depth)
    {
        if (depth >= MaxDepth)
        {
            throw new ProtoDataException($"messages nest deeper than {MaxDepth}");
        }

        var all = levels ??= new Occurrence[8][];
        if (depth >= all.Length)
        {
            Array.Resize(ref all, all.Length * 2);
            levels = all;
        }

        var occ = all[depth] ??= new Occurrence[32];
        var count = 0;
        var pos = 0;
        while (pos < data.Length)
        {
            var (field, wire, start) = NextField(data, ref pos, m, mapEntry: false);
            var number = (int)field;
            if (number == 0)
            {
                throw new ProtoDataException($"{m.FullName}: the message ends early or has field number 0");
            }

            var index = m.IndexOf(number);
            if (index < 0)
            {
                continue; // unknown field (a newer writer): skipped
            }

            if (count == occ.Length)
            {
                Array.Resize(ref occ, occ.Length * 2);
                all[depth] = occ;
            }

            occ[count++] = new Occurrence(index, wire, start, pos - start);
        }

        o.WriteByte((byte)'{');
        var fields = m.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            var f = fields[i];
            o.Write(i == 0 ? f.JsonNameWithComma.AsSpan(1) : f.JsonNameWithComma);
            // occ may be reallocated by nested calls at deeper levels only; this level's array is stable.
            WriteField(f, i, data, all[depth].AsSpan(0, count), o, depth);
        }

        o.WriteByte((byte)'}');
    }

    private static void WriteField(ProtoField f, int index, ReadOnlySpan<byte> data, ReadOnlySpan<Occurrence> occ, JsonOutput o, int depth)
    {
        if (f.IsMap)
        {
            o.WriteByte((byte)'{');
            var first = true;
            foreach (var x in occ)
            {
                if (x.Field != index)
                {
                    continue;
                }

                if (!first)
                {
                    o.WriteByte((byte)',');
                }

                first = false;
                WriteMapEntry(f.Message!, data.Slice(x.Start, x.Length), o, depth);
            }

            o.WriteByte((byte)'}');
            return;
        }

        if (f.Repeated)
        {
            o.WriteByte((byte)'[');
            var first = true;
            foreach (var x in occ)
            {
                if (x.Field != index)
                {
                    continue;
                }

                if (x.Wire == 2 && IsPackable(f.Kind))
                {
                    var packed = data.Slice(x.Start, x.Length);
                    var p = 0;
                    while (p < packed.Length)
                    {
                        if (!first)
                        {
                            o.WriteByte((byte)',');
                        }

                        first = false;
                        p = WritePackedOne(f, packed, p, o);
                    }

                    continue;
                }

                if (!first)
                {
                    o.WriteByte((byte)',');
                }

                first = false;
                WriteValue(f, x.Wire, data.Slice(x.Start, x.Length), o, depth);
            }

            o.WriteByte((byte)']');
            return;
        }

        for (var k = occ.Length - 1; k >= 0; k--)
        {
            if (occ[k].Field == index)
            {
                WriteValue(f, occ[k].Wire, data.Slice(occ[k].Start, occ[k].Length), o, depth);
                return;
            }
        }

        WriteDefault(f, o);
    }

    private static void WriteDefault(ProtoField f, JsonOutput o)
    {
        if (f.HasPresence || f.Kind is ProtoKind.Message or ProtoKind.Timestamp)
        {
            o.Write("null"u8);
            return;
        }

        o.Write(f.Kind switch
        {
            ProtoKind.Bool => "false"u8,
            ProtoKind.String or ProtoKind.Bytes => "\"\""u8,
            ProtoKind.Enum => f.Enum!.Default,
            _ => "0"u8,
        });
    }

    private static void WriteMapEntry(ProtoMessage entry, ReadOnlySpan<byte> data, JsonOutput o, int depth)
    {
        var keyField = entry.Fields[0];
        var valueField = entry.Fields[1];
        int keyWire = -1, keyStart = 0, keyLength = 0, valueWire = -1, valueStart = 0, valueLength = 0;
        var pos = 0;
        while (pos < data.Length)
        {
            var (field, wire, start) = NextField(data, ref pos, entry, mapEntry: true);
            if (field == 1)
            {
                (keyWire, keyStart, keyLength) = (wire, start, pos - start);
            }
            else if (field == 2)
            {
                (valueWire, valueStart, valueLength) = (wire, start, pos - start);
            }
        }

        // JSON object keys are strings: a numeric or bool key is written quoted.
        if (keyWire < 0)
        {
            o.Write(keyField.Kind is ProtoKind.String ? "\"\""u8 : keyField.Kind is ProtoKind.Bool ? "\"false\""u8 : "\"0\""u8);
        }
        else if (keyField.Kind == ProtoKind.String)
        {
            WriteValue(keyField, keyWire, data.Slice(keyStart, keyLength), o, depth);
        }
        else
        {
            o.WriteByte((byte)'"');
            WriteValue(keyField, keyWire, data.Slice(keyStart, keyLength), o, depth);
            o.WriteByte((byte)'"');
        }

        o.WriteByte((byte)':');
        if (valueWire >= 0)
        {
            WriteValue(valueField, valueWire, data.Slice(valueStart, valueLength), o, depth);
        }
        else if (valueField.Kind == ProtoKind.Message)
        {
            WriteMessage(valueField.Message!, default, o, depth + 1);
        }
        else
        {
            WriteDefault(valueField, o);
        }
    }

    /// <summary>
    /// Reads one field's tag at <paramref name="pos"/> and steps over its value, leaving <paramref name="pos"/> after it.
    /// Returns the field number (as the tag has it), the wire type and where the value starts (for wire type 2, after
    /// its length: the value ends at <paramref name="pos"/>). A group wire type, a length past the end or a value cut
    /// short throws, naming the field of <paramref name="owner"/> (or its map entry).
    /// </summary>
    private static (ulong Field, int Wire, int Start) NextField(ReadOnlySpan<byte> data, ref int pos, ProtoMessage owner, bool mapEntry)
    {
        var tag = Varint(data, ref pos);
        var wire = (int)(tag & 7);
        var start = pos;
        switch (wire)
        {
            case 0:
                Varint(data, ref pos);
                break;
            case 1:
                pos += 8;
                break;
            case 2:
                var n = Varint(data, ref pos);
                if (n > (ulong)(data.Length - pos))
                {
                    throw new ProtoDataException($"{FieldName(owner, tag, mapEntry)}: length {n} runs past the end");
                }

                start = pos;
                pos += (int)n;
                break;
            case 5:
                pos += 4;
                break;
            default:
                throw new ProtoDataException($"{FieldName(owner, tag, mapEntry)} has wire type {wire}{(mapEntry ? string.Empty : " (groups are not supported)")}");
        }

        if (pos > data.Length)
        {
            throw new ProtoDataException(mapEntry ? $"map entry of {owner.FullName} ends early" : $"{owner.FullName}: the message ends early or has field number 0");
        }

        return (tag >> 3, wire, start);
    }

    private static string FieldName(ProtoMessage owner, ulong tag, bool mapEntry) =>
        mapEntry ? $"map entry of {owner.FullName}" : $"field {(int)(tag >> 3)} of {owner.FullName}";
}
