using System.Buffers;
using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>Record headers: arrays of byte numbers, read by hand on the fast path, by the reader otherwise.</summary>
public static partial class KafkaEventDecoder
{
    private sealed partial class DecodeState
    {
        public void DecodeHeaders(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, ref string? error)
        {
            // [ { "name": [signed bytes] }, ... ]
            while (Next(ref reader) != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    error ??= WrongType(ref reader, "headers[]", "an object { name: [bytes] }");
                    continue;
                }

                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    var name = CopyString(ref reader);
                    Next(ref reader);
                    var value = ByteRange.Null;
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        value = TryReadSignedBytesFast(ref reader, payload) ?? ReadSignedBytes(ref reader, ref error);
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "headers", "an array of byte numbers");
                    }

                    AddHeader(new KafkaHeader(name, value));
                }
            }
        }

        /// <summary>
        /// Reads a header's array of byte numbers straight from the payload (a token per number through the reader
        /// costs several times more), then continues with a new reader, of the same state, at the closing ']'.
        /// Null (nothing consumed) when the array is anything but plain integers in -128..255: the reader path then
        /// reads it and reports what is wrong.
        /// </summary>
        private ByteRange? TryReadSignedBytesFast(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload)
        {
            var i = (int)(readerBase + reader.BytesConsumed);
            var start = arenaLength;
            var count = 0;
            var room = arena.Length - arenaLength;
            while (true)
            {
                while (i < payload.Length && payload[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                {
                    i++;
                }

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

                if (digits == 0 || digits > 3 || (digits > 1 && payload[i - digits] == (byte)'0') || (negative ? v > 128 : v > 255) || count >= room)
                {
                    return null;
                }

                arena[start + count++] = (byte)(negative ? -v : v);
                while (i < payload.Length && payload[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                {
                    i++;
                }

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
            readerBase = i;
            reader.Read();
            arenaLength += count;
            return new ByteRange(start, count);
        }

        private ByteRange ReadSignedBytes(ref Utf8JsonReader reader, ref string? error)
        {
            var start = arenaLength;
            while (Next(ref reader) != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var b) && b is >= -128 and <= 255)
                {
                    // Each number is at least one payload byte, so the arena (sized from the payload) has room; check anyway.
                    EnsureArena(1);
                    arena[arenaLength++] = (byte)b;
                }
                else
                {
                    error ??= $"a header value byte is {Describe(reader.TokenType)} out of -128..255 (at byte {Start(ref reader)})";
                    reader.Skip();
                }
            }

            return new ByteRange(start, arenaLength - start);
        }

        private ByteRange CopyString(ref Utf8JsonReader reader)
        {
            var src = reader.ValueSpan;
            EnsureArena(src.Length);
            var start = arenaLength;
            if (reader.ValueIsEscaped)
            {
                arenaLength += reader.CopyString(arena.AsSpan(start));
            }
            else
            {
                src.CopyTo(arena.AsSpan(start));
                arenaLength += src.Length;
            }

            return new ByteRange(start, arenaLength - start);
        }

        private void AddHeader(KafkaHeader header)
        {
            if (HeaderCount == headers.Length)
            {
                var bigger = ArrayPool<KafkaHeader>.Shared.Rent(headers.Length * 2);
                headers.AsSpan(0, HeaderCount).CopyTo(bigger);
                ArrayPool<KafkaHeader>.Shared.Return(headers);
                headers = bigger;
            }

            headers[HeaderCount++] = header;
        }
    }
}
