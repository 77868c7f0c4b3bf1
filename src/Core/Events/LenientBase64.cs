using System.Buffers;
using System.Buffers.Text;

namespace MskClickHouse.Core.Events;

/// <summary>
/// Base64 of keys and values, accepting the non-canonical endings Java and Python decoders accept
/// (<c>"...34=="</c> instead of <c>"...3w=="</c>); anything else stays invalid. Pure.
/// </summary>
internal static class LenientBase64
{
    /// <summary>Decodes <paramref name="text"/> into <paramref name="destination"/> (at least as long as the text).</summary>
    public static OperationStatus Decode(ReadOnlySpan<byte> text, Span<byte> destination, out int written)
    {
        var status = Base64.DecodeFromUtf8(text, destination, out _, out written);
        return status == OperationStatus.Done ? status : DecodeNonCanonical(text, destination, out written);
    }

    /// <summary>
    /// Decodes base64 whose last character carries bits beyond the data, which strict decoding refuses. The text and
    /// the destination may start at the same place (the bytes are written behind the text being read).
    /// </summary>
    public static OperationStatus DecodeNonCanonical(ReadOnlySpan<byte> text, Span<byte> dest, out int written)
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
        var v = Value(last[at]);
        if (v < 0)
        {
            return OperationStatus.InvalidData;
        }

        last[at] = Char(v & mask);
        var status = Base64.DecodeFromUtf8(text[..^4], dest, out _, out var body);
        if (status != OperationStatus.Done)
        {
            return status;
        }

        status = Base64.DecodeFromUtf8(last, dest[body..], out _, out var tail);
        written = body + tail;
        return status;
    }

    private static int Value(byte c) => c switch
    {
        >= (byte)'A' and <= (byte)'Z' => c - 'A',
        >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
        (byte)'+' => 62,
        (byte)'/' => 63,
        _ => -1,
    };

    private static byte Char(int v) => (byte)(v < 26 ? 'A' + v : v < 52 ? 'a' + v - 26 : v < 62 ? '0' + v - 52 : v == 62 ? '+' : '/');
}
