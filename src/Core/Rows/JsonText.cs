using System.Buffers;
using System.Buffers.Text;

namespace MskClickHouse.Core.Rows;

/// <summary>
/// Writes JSON text for ClickHouse's JSONEachRow input. Strings are written from raw bytes: quotes, backslashes and
/// control characters are escaped, every other byte passes through unchanged (ClickHouse's String is bytes).
/// </summary>
public static class JsonText
{
    private static readonly SearchValues<byte> StringSpecials = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\"\\"u8);

    /// <summary>Writes <paramref name="value"/> as a quoted JSON string.</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan((value.Length * 6) + 2);
        span[0] = (byte)'"';
        var n = 1 + Escape(value, span[1..]);
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

    /// <summary>Epoch milliseconds as a quoted <c>"yyyy-MM-ddTHH:mm:ss.fffZ"</c> (parsed with date_time_input_format=best_effort).</summary>
    public static void WriteTimestamp(IBufferWriter<byte> output, long epochMs)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(26);
        span[0] = (byte)'"';
        var n = 1 + Timestamp(epochMs, span[1..]);
        span[n++] = (byte)'"';
        output.Advance(n);
    }

    /// <summary>JSON-escapes <c>"</c>, <c>\</c> and control bytes; every other byte passes through. Returns bytes written.</summary>
    public static int Escape(ReadOnlySpan<byte> source, Span<byte> dest)
    {
        var w = 0;
        while (true)
        {
            var i = source.IndexOfAny(StringSpecials);
            if (i < 0)
            {
                source.CopyTo(dest[w..]);
                return w + source.Length;
            }

            source[..i].CopyTo(dest[w..]);
            w += i;
            var c = source[i];
            dest[w++] = (byte)'\\';
            switch (c)
            {
                case (byte)'"':
                case (byte)'\\':
                    dest[w++] = c;
                    break;
                case (byte)'\n':
                    dest[w++] = (byte)'n';
                    break;
                case (byte)'\r':
                    dest[w++] = (byte)'r';
                    break;
                case (byte)'\t':
                    dest[w++] = (byte)'t';
                    break;
                case (byte)'\b':
                    dest[w++] = (byte)'b';
                    break;
                case (byte)'\f':
                    dest[w++] = (byte)'f';
                    break;
                default:
                    dest[w++] = (byte)'u';
                    dest[w++] = (byte)'0';
                    dest[w++] = (byte)'0';
                    dest[w++] = Hex(c >> 4);
                    dest[w++] = Hex(c & 0xF);
                    break;
            }

            source = source[(i + 1)..];
        }
    }

    private static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    /// <summary>Writes epoch milliseconds as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c> (UTC); a negative (absent) timestamp as the epoch.</summary>
    public static int Timestamp(long epochMs, Span<byte> dest)
    {
        const long MaxMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
        var ms = Math.Clamp(epochMs, 0, MaxMs);
        var days = ms / 86_400_000;
        var msOfDay = (int)(ms - (days * 86_400_000));

        // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm), for non-negative days.
        var z = days + 719_468;
        var era = z / 146_097;
        var doe = z - (era * 146_097);
        var yoe = (doe - (doe / 1460) + (doe / 36_524) - (doe / 146_096)) / 365;
        var doy = doe - ((365 * yoe) + (yoe / 4) - (yoe / 100));
        var mp = ((5 * doy) + 2) / 153;
        var day = (int)(doy - (((153 * mp) + 2) / 5) + 1);
        var month = (int)(mp < 10 ? mp + 3 : mp - 9);
        var year = (int)(yoe + (era * 400) + (month <= 2 ? 1 : 0));

        var hour = msOfDay / 3_600_000;
        var minute = msOfDay / 60_000 % 60;
        var second = msOfDay / 1000 % 60;
        var milli = msOfDay % 1000;

        Digits(dest, 0, year, 4);
        dest[4] = (byte)'-';
        Digits(dest, 5, month, 2);
        dest[7] = (byte)'-';
        Digits(dest, 8, day, 2);
        dest[10] = (byte)'T';
        Digits(dest, 11, hour, 2);
        dest[13] = (byte)':';
        Digits(dest, 14, minute, 2);
        dest[16] = (byte)':';
        Digits(dest, 17, second, 2);
        dest[19] = (byte)'.';
        Digits(dest, 20, milli, 3);
        dest[23] = (byte)'Z';
        return 24;
    }

    private static void Digits(Span<byte> dest, int at, int value, int count)
    {
        for (var i = at + count - 1; i >= at; i--)
        {
            dest[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}
