using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>
/// A record's <c>headers</c>: <c>[ { "name": [signed bytes] }, ... ]</c>. The byte arrays are read by hand on the fast
/// path (a token per number through the reader costs several times more), by the reader otherwise.
/// </summary>
internal static class HeadersReader
{
    /// <summary>Reads the array the reader is on into <paramref name="batch"/>'s headers; a problem goes to <paramref name="error"/>.</summary>
    public static void Read(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, EventCursor cursor, BatchBuilder batch, ref string? error)
    {
        while (cursor.Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                // Evaluated whatever the error so far: it skips the element, an object or array whole.
                var wrong = cursor.WrongType(ref reader, "headers[]", "an object { name: [bytes] }");
                error ??= wrong;
                continue;
            }

            while (cursor.Next(ref reader) == JsonTokenType.PropertyName)
            {
                var name = CopyName(ref reader, cursor, batch, ref error);
                cursor.Next(ref reader);
                var value = ByteRange.Null;
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    value = TryReadBytesFast(ref reader, payload, cursor, batch) ?? ReadBytes(ref reader, cursor, batch, ref error);
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    var problem = cursor.WrongType(ref reader, "headers", "an array of byte numbers");
                    error ??= problem;
                }

                batch.AddHeader(new KafkaHeader(name, value));
            }
        }
    }

    private static ByteRange CopyName(ref Utf8JsonReader reader, EventCursor cursor, BatchBuilder batch, ref string? error)
    {
        var src = reader.ValueSpan;
        if (!reader.ValueIsEscaped)
        {
            return batch.Copy(src);
        }

        if (JsonUnicode.TryCopy(ref reader, batch.Free(src.Length), out var written))
        {
            return batch.Commit(written);
        }

        error ??= cursor.InvalidUnicode(ref reader, "a header name");
        return batch.Commit(0);
    }

    /// <summary>
    /// Reads a header's array of byte numbers straight from the payload, then continues with a new reader, of the same
    /// state, at the closing ']'. Null (nothing consumed) when the array is anything but plain integers in -128..255:
    /// the reader path then reads it and reports what is wrong.
    /// </summary>
    private static ByteRange? TryReadBytesFast(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, EventCursor cursor, BatchBuilder batch)
    {
        var i = (int)cursor.End(ref reader);
        var free = batch.Free(0);
        var count = 0;
        while (true)
        {
            i = SkipWhitespace(payload, i);
            if (i >= payload.Length)
            {
                return null;
            }

            if (payload[i] == (byte)']')
            {
                if (count > 0)
                {
                    return null; // "[1,]" is not JSON: let the reader say so
                }

                break;
            }

            var negative = payload[i] == (byte)'-';
            if (negative)
            {
                i++;
            }

            var digits = 0;
            var v = 0;
            while (i < payload.Length && payload[i] - (uint)'0' <= 9 && digits < 4)
            {
                v = (v * 10) + (payload[i] - '0');
                digits++;
                i++;
            }

            if (digits == 0 || digits > 3 || (digits > 1 && payload[i - digits] == (byte)'0') || (negative ? v > 128 : v > 255) || count >= free.Length)
            {
                return null;
            }

            free[count++] = (byte)(negative ? -v : v);
            i = SkipWhitespace(payload, i);
            if (i >= payload.Length)
            {
                return null;
            }

            if (payload[i] == (byte)',')
            {
                i++;
                continue;
            }

            if (payload[i] == (byte)']')
            {
                break;
            }

            return null;
        }

        // payload[i] is the ']': a new reader over the rest, in the state "inside an array just opened", reads it as EndArray.
        var state = reader.CurrentState;
        reader = new Utf8JsonReader(payload[i..], isFinalBlock: true, state);
        cursor.Base = i;
        reader.Read();
        return batch.Commit(count);
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> payload, int i)
    {
        while (i < payload.Length && payload[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            i++;
        }

        return i;
    }

    private static ByteRange ReadBytes(ref Utf8JsonReader reader, EventCursor cursor, BatchBuilder batch, ref string? error)
    {
        var start = batch.ArenaLength;
        while (cursor.Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var b) && b is >= -128 and <= 255)
            {
                batch.Free(1)[0] = (byte)b;
                batch.Commit(1);
            }
            else
            {
                error ??= $"a header value byte is {JsonErrorText.Describe(reader.TokenType)} out of -128..255 (at byte {cursor.Start(ref reader)})";
                reader.Skip();
            }
        }

        return new ByteRange(start, batch.ArenaLength - start);
    }
}
