using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>Base64 of keys and values, accepting the non-canonical endings Java and Python decoders accept.</summary>
public static partial class KafkaEventDecoder
{
    private sealed partial class DecodeState
    {
        public ByteRange DecodeBase64(ref Utf8JsonReader reader, string field, ref string? error)
        {
            var src = reader.ValueSpan;
            EnsureArena(src.Length);
            var start = arenaLength;
            var dest = arena.AsSpan(start);
            OperationStatus status;
            int written;
            if (reader.ValueIsEscaped)
            {
                // e.g. "\/" or "\u002B": unescape in place into the arena, then decode in place.
                var n = reader.CopyString(dest);
                status = Base64.DecodeFromUtf8InPlace(dest[..n], out written);
            }
            else
            {
                status = Base64.DecodeFromUtf8(src, dest, out _, out written);
            }

            if (status != OperationStatus.Done)
            {
                var text = reader.ValueIsEscaped ? arena.AsSpan(start, reader.CopyString(arena.AsSpan(start))) : src;
                status = DecodeNonCanonical(text, dest, out written);
            }

            if (status != OperationStatus.Done)
            {
                error ??= $"field '{field}' is not valid base64 (at byte {Start(ref reader)})";
                return ByteRange.Null;
            }

            arenaLength += written;
            return new ByteRange(start, written);
        }

        /// <summary>
        /// Decodes base64 whose last character carries bits beyond the data ("...34==" instead of "...3w=="), which
        /// strict decoding refuses but Java and Python decoders accept; anything else stays invalid.
        /// </summary>
        private static OperationStatus DecodeNonCanonical(ReadOnlySpan<byte> text, Span<byte> dest, out int written)
        {
            written = 0;
            if (text.Length < 4 || text.Length % 4 != 0 || text[^1] != (byte)'=')
            {
                return OperationStatus.InvalidData;
            }

            Span<byte> last = stackalloc byte[4];
            text[^4..].CopyTo(last);
            var at = last[2] == (byte)'=' ? 1 : 2;
            var mask = at == 1 ? 0x30 : 0x3C;
            var v = Base64Value(last[at]);
            if (v < 0)
            {
                return OperationStatus.InvalidData;
            }

            last[at] = Base64Char(v & mask);
            var status = Base64.DecodeFromUtf8(text[..^4], dest, out _, out var body);
            if (status != OperationStatus.Done)
            {
                return status;
            }

            status = Base64.DecodeFromUtf8(last, dest[body..], out _, out var tail);
            written = body + tail;
            return status;
        }

        private static int Base64Value(byte c) => c switch
        {
            >= (byte)'A' and <= (byte)'Z' => c - 'A',
            >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
            >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
            (byte)'+' => 62,
            (byte)'/' => 63,
            _ => -1,
        };

        private static byte Base64Char(int v) => (byte)(v < 26 ? 'A' + v : v < 52 ? 'a' + v - 26 : v < 62 ? '0' + v - 52 : v == 62 ? '+' : '/');
    }
}
