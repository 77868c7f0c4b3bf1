using System.Buffers;
using System.Buffers.Text;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>
/// Writes JSON text for ClickHouse's JSONEachRow input. Strings are written from raw bytes: quotes, backslashes and
/// control characters are escaped, every other byte passes through unchanged (ClickHouse's String is bytes).
/// </summary>
public static class JsonText
{
    private static readonly SearchValues<byte> NeedsEscape = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(i => (byte)i), (byte)'"', (byte)'\\']);

    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan((value.Length * 6) + 2);
        var n = 0;
        span[n++] = (byte)'"';
        while (!value.IsEmpty)
        {
            var i = value.IndexOfAny(NeedsEscape);
            if (i < 0)
            {
                value.CopyTo(span[n..]);
                n += value.Length;
                break;
            }

            value[..i].CopyTo(span[n..]);
            n += i;
            var b = value[i];
            span[n++] = (byte)'\\';
            switch (b)
            {
                case (byte)'"':
                case (byte)'\\':
                    span[n++] = b;
                    break;
                case (byte)'\n':
                    span[n++] = (byte)'n';
                    break;
                case (byte)'\r':
                    span[n++] = (byte)'r';
                    break;
                case (byte)'\t':
                    span[n++] = (byte)'t';
                    break;
                default:
                    span[n++] = (byte)'u';
                    span[n++] = (byte)'0';
                    span[n++] = (byte)'0';
                    span[n++] = Hex[b >> 4];
                    span[n++] = Hex[b & 0xF];
                    break;
            }

            value = value[(i + 1)..];
        }

        span[n++] = (byte)'"';
        output.Advance(n);
    }

    public static void WriteString(IBufferWriter<byte> output, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteString(output, System.Text.Encoding.UTF8.GetBytes(value));
    }

    public static void WriteNumber(IBufferWriter<byte> output, long value)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        output.Advance(written);
    }

    public static void WriteRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> raw)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(raw);
    }

    /// <summary>Epoch milliseconds as <c>"yyyy-MM-dd HH:mm:ss.fff"</c> (UTC), the DateTime64(3, 'UTC') text form.</summary>
    public static void WriteTimestamp(IBufferWriter<byte> output, long epochMs)
    {
        ArgumentNullException.ThrowIfNull(output);
        var t = DateTimeOffset.FromUnixTimeMilliseconds(epochMs).UtcDateTime;
        var span = output.GetSpan(32);
        span[0] = (byte)'"';
        t.TryFormat(span[1..], out var written, "yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        span[written + 1] = (byte)'"';
        output.Advance(written + 2);
    }
}
