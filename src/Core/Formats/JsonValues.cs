using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
using System.Text;
using MskClickHouse.Core.Json;

namespace MskClickHouse.Core.Formats;

/// <summary>
/// Writes decoded scalar values as the JSON text ClickHouse's JSONEachRow input reads exactly (checked against the
/// engine, ClickHouse 26.7, with date_time_input_format=best_effort as the sink pins it):
/// timestamps as ISO 8601 UTC strings with 3, 6 or 9 fraction digits (DateTime64(3|6|9), negative epochs too),
/// dates as "yyyy-MM-dd" (Date, Date32), decimals as quoted exact text (Decimal(P,S) up to 76 digits, and String),
/// non-finite floats as "nan", "inf", "-inf" (quoted; Float32/Float64 read them).
/// </summary>
public static class JsonValues
{
    /// <summary><paramref name="s"/> as a JSON string literal, quotes included (names and enum symbols of a schema, written once per value).</summary>
    public static byte[] Quoted(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        var buffer = new byte[(utf8.Length * 6) + 2];
        buffer[0] = (byte)'"';
        var n = JsonText.Escape(utf8, buffer.AsSpan(1));
        buffer[n + 1] = (byte)'"';
        return buffer.AsSpan(0, n + 2).ToArray();
    }

    /// <summary>
    /// <c>,"name":</c>: a field's name as the transcoders write it before the field's value (the first field of an
    /// object skips the comma).
    /// </summary>
    public static byte[] MemberName(string name)
    {
        var quoted = Quoted(name);
        var bytes = new byte[quoted.Length + 2];
        bytes[0] = (byte)',';
        quoted.CopyTo(bytes, 1);
        bytes[^1] = (byte)':';
        return bytes;
    }

    public static void Long(JsonOutput o, long value)
    {
        var dest = o.Reserve(20);
        Utf8Formatter.TryFormat(value, dest, out var n);
        o.Advance(n);
    }

    public static void ULong(JsonOutput o, ulong value)
    {
        var dest = o.Reserve(20);
        Utf8Formatter.TryFormat(value, dest, out var n);
        o.Advance(n);
    }

    public static void Double(JsonOutput o, double value)
    {
        if (!double.IsFinite(value))
        {
            o.Write(double.IsNaN(value) ? "\"nan\""u8 : value > 0 ? "\"inf\""u8 : "\"-inf\""u8);
            return;
        }

        var dest = o.Reserve(32);
        value.TryFormat(dest, out var n, default, CultureInfo.InvariantCulture);
        o.Advance(n);
    }

    public static void Float(JsonOutput o, float value)
    {
        if (!float.IsFinite(value))
        {
            Double(o, value);
            return;
        }

        var dest = o.Reserve(32);
        value.TryFormat(dest, out var n, default, CultureInfo.InvariantCulture);
        o.Advance(n);
    }

    /// <summary>A JSON string of raw bytes: only '"', '\' and control bytes are escaped (invalid UTF-8 passes through, as the string format does).</summary>
    public static void String(JsonOutput o, ReadOnlySpan<byte> utf8)
    {
        var dest = o.Reserve((utf8.Length * 6) + 2);
        dest[0] = (byte)'"';
        var n = JsonText.Escape(utf8, dest[1..]);
        dest[n + 1] = (byte)'"';
        o.Advance(n + 2);
    }

    /// <summary>
    /// <paramref name="value"/> units of 10^-<paramref name="digits"/> seconds since the epoch (digits 3, 6 or 9) as
    /// "yyyy-MM-ddTHH:mm:ss.f...Z" (without Z when <paramref name="local"/>).
    /// </summary>
    public static void Timestamp(JsonOutput o, long value, int digits, bool local)
    {
        var perSecond = digits == 3 ? 1_000L : digits == 6 ? 1_000_000L : 1_000_000_000L;
        var seconds = Math.DivRem(value, perSecond, out var fraction);
        if (fraction < 0)
        {
            fraction += perSecond;
            seconds--;
        }

        var days = Math.DivRem(seconds, 86_400, out var secondOfDay);
        if (secondOfDay < 0)
        {
            secondOfDay += 86_400;
            days--;
        }

        var dest = o.Reserve(40);
        dest[0] = (byte)'"';
        var w = 1 + CivilDate(days, dest[1..]);
        dest[w++] = (byte)'T';
        w += Clock((int)secondOfDay, dest[w..]);
        dest[w++] = (byte)'.';
        Digits(dest, w, fraction, digits);
        w += digits;
        if (!local)
        {
            dest[w++] = (byte)'Z';
        }

        dest[w++] = (byte)'"';
        o.Advance(w);
    }

    /// <summary>Days since 1970-01-01 as "yyyy-MM-dd".</summary>
    public static void Date(JsonOutput o, int days)
    {
        var dest = o.Reserve(16);
        dest[0] = (byte)'"';
        var w = 1 + CivilDate(days, dest[1..]);
        dest[w++] = (byte)'"';
        o.Advance(w);
    }

    /// <summary>Units of 10^-digits seconds after midnight as "HH:mm:ss.f..." (ClickHouse Time64 and String read it).</summary>
    public static void TimeOfDay(JsonOutput o, long value, int digits)
    {
        var perSecond = digits == 3 ? 1_000L : 1_000_000L;
        var seconds = Math.DivRem(value, perSecond, out var fraction);
        if (value < 0 || seconds >= 86_400)
        {
            Long(o, value); // not a time of day: keep the number rather than invent one
            return;
        }

        var dest = o.Reserve(24);
        dest[0] = (byte)'"';
        var w = 1 + Clock((int)seconds, dest[1..]);
        dest[w++] = (byte)'.';
        Digits(dest, w, fraction, digits);
        w += digits;
        dest[w++] = (byte)'"';
        o.Advance(w);
    }

    /// <summary>A two's-complement big-endian unscaled integer with <paramref name="scale"/> as quoted exact decimal text.</summary>
    public static void Decimal(JsonOutput o, ReadOnlySpan<byte> twosComplement, int scale)
    {
        Span<byte> digits = stackalloc byte[100];
        int n;
        bool negative;
        if (twosComplement.Length <= 8)
        {
            // The common case (precision up to 18): a long, formatted without 128-bit arithmetic.
            long v = twosComplement.IsEmpty ? 0 : (sbyte)twosComplement[0];
            for (var i = 1; i < twosComplement.Length; i++)
            {
                v = (v << 8) | twosComplement[i];
            }

            negative = v < 0;
            Utf8Formatter.TryFormat(negative ? (ulong)(-(v + 1)) + 1 : (ulong)v, digits, out n);
        }
        else if (twosComplement.Length <= 16)
        {
            Int128 v = twosComplement.IsEmpty ? 0 : (sbyte)twosComplement[0];
            for (var i = 1; i < twosComplement.Length; i++)
            {
                v = (v << 8) | twosComplement[i];
            }

            negative = v < 0;
            var magnitude = negative ? (UInt128)(-(v + 1)) + 1 : (UInt128)v;
            magnitude.TryFormat(digits, out n, default, CultureInfo.InvariantCulture);
        }
        else
        {
            var big = new BigInteger(twosComplement, isUnsigned: false, isBigEndian: true);
            negative = big.Sign < 0;
            var text = BigInteger.Abs(big).ToString(CultureInfo.InvariantCulture);
            if (text.Length > digits.Length)
            {
                digits = new byte[text.Length];
            }

            n = System.Text.Encoding.ASCII.GetBytes(text, digits);
        }

        var dest = o.Reserve(n + scale + 6);
        var w = 0;
        dest[w++] = (byte)'"';
        if (negative)
        {
            dest[w++] = (byte)'-';
        }

        if (scale == 0)
        {
            digits[..n].CopyTo(dest[w..]);
            w += n;
        }
        else if (n > scale)
        {
            digits[..(n - scale)].CopyTo(dest[w..]);
            w += n - scale;
            dest[w++] = (byte)'.';
            digits[(n - scale)..n].CopyTo(dest[w..]);
            w += scale;
        }
        else
        {
            dest[w++] = (byte)'0';
            dest[w++] = (byte)'.';
            dest.Slice(w, scale - n).Fill((byte)'0');
            w += scale - n;
            digits[..n].CopyTo(dest[w..]);
            w += n;
        }

        dest[w++] = (byte)'"';
        o.Advance(w);
    }

    /// <summary>16 bytes as a quoted canonical UUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".</summary>
    public static void Uuid(JsonOutput o, ReadOnlySpan<byte> bytes16)
    {
        var g = new Guid(bytes16, bigEndian: true);
        var dest = o.Reserve(40);
        dest[0] = (byte)'"';
        g.TryFormat(dest[1..], out var n, "D");
        dest[n + 1] = (byte)'"';
        o.Advance(n + 2);
    }

    private static int CivilDate(long days, Span<byte> dest)
    {
        // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm, floor division for negatives).
        var z = days + 719_468;
        var era = (z >= 0 ? z : z - 146_096) / 146_097;
        var doe = z - (era * 146_097);
        var yoe = (doe - (doe / 1460) + (doe / 36_524) - (doe / 146_096)) / 365;
        var doy = doe - ((365 * yoe) + (yoe / 4) - (yoe / 100));
        var mp = ((5 * doy) + 2) / 153;
        var day = doy - (((153 * mp) + 2) / 5) + 1;
        var month = mp < 10 ? mp + 3 : mp - 9;
        var year = yoe + (era * 400) + (month <= 2 ? 1 : 0);
        if (year is < 0 or > 9999)
        {
            // Outside what any ClickHouse date type holds: write it anyway (ClickHouse reports the row).
            var text = $"{year:D4}-{month:D2}-{day:D2}";
            return System.Text.Encoding.ASCII.GetBytes(text, dest);
        }

        Digits(dest, 0, year, 4);
        dest[4] = (byte)'-';
        Digits(dest, 5, month, 2);
        dest[7] = (byte)'-';
        Digits(dest, 8, day, 2);
        return 10;
    }

    private static int Clock(int secondOfDay, Span<byte> dest)
    {
        Digits(dest, 0, secondOfDay / 3600, 2);
        dest[2] = (byte)':';
        Digits(dest, 3, secondOfDay / 60 % 60, 2);
        dest[5] = (byte)':';
        Digits(dest, 6, secondOfDay % 60, 2);
        return 8;
    }

    private static void Digits(Span<byte> dest, int at, long value, int count)
    {
        for (var i = at + count - 1; i >= at; i--)
        {
            dest[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}
