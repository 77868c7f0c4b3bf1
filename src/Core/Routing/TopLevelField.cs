using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;
using MskClickHouse.Core.Json;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// One top-level member of a JSON object, found by the byte scan of <see cref="TopLevelMembers"/> that stops at it, and
/// its raw value compared as text (a field condition of ROUTES).
/// </summary>
/// <remarks>
/// The value may not have been validated yet (routing runs before the row encoder): the scan never reads outside the
/// span and answers "not found" for what it cannot read; the encoder still rejects an invalid value in every table it
/// is routed to. The first member of the name counts.
/// </remarks>
public static class TopLevelField
{
    private static readonly SearchValues<byte> ScalarEnd = SearchValues.Create(" \t\r\n,}]"u8);

    /// <summary>
    /// True when the top-level member <paramref name="name"/> (UTF-8, unescaped) of <paramref name="json"/> holds
    /// <paramref name="text"/> compared as text: a string by its unescaped content, a number or boolean by its JSON
    /// text. A null, object or array member, or none, is never equal.
    /// </summary>
    public static bool HoldsText(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name, ReadOnlySpan<byte> text) =>
        Find(json, name, out var start, out var length, out var isString) && ValueEquals(json.Slice(start, length), isString, text);

    /// <summary>A raw value found by <see cref="Find"/> compared as text with <paramref name="text"/>; null never equals.</summary>
    public static bool ValueEquals(ReadOnlySpan<byte> raw, bool isString, ReadOnlySpan<byte> text) =>
        isString ? TopLevelMembers.TextEquals(raw, text) : !raw.SequenceEqual("null"u8) && raw.SequenceEqual(text);

    /// <summary>
    /// Where the raw value of the top-level member <paramref name="name"/> lies in <paramref name="json"/>: a string's
    /// content between its quotes (still escaped, <paramref name="isString"/>) or a scalar's text. False when absent,
    /// or an object or array.
    /// </summary>
    public static bool Find(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name, out int start, out int length, out bool isString)
    {
        var at = TopLevelMembers.ValueStartOf(json, name);
        if (at >= 0)
        {
            return ValueAt(json, at, out start, out length, out isString);
        }

        start = 0;
        length = 0;
        isString = false;
        return false;
    }

    /// <summary>
    /// <see cref="TopLevelMembers.EndOfString"/> for the short values routes compare: the first 16 bytes compared with
    /// a quote and a backslash at once (no loop whose exit depends on the value's length), the full scan for a long or
    /// escaped string; near the end of the span, its bytes one by one.
    /// </summary>
    private static int EndOfShortString(ReadOnlySpan<byte> json, int start)
    {
        if (Vector128.IsHardwareAccelerated && json.Length - start >= Vector128<byte>.Count)
        {
            var bytes = Vector128.Create(json.Slice(start, Vector128<byte>.Count));
            var marks = Vector128.ExtractMostSignificantBits(Vector128.Equals(bytes, Vector128.Create((byte)'"')) | Vector128.Equals(bytes, Vector128.Create((byte)'\\')));
            if (marks == 0)
            {
                return TopLevelMembers.EndOfString(json, start + Vector128<byte>.Count);
            }

            var first = start + BitOperations.TrailingZeroCount(marks);
            return json[first] == (byte)'"' ? first : TopLevelMembers.EndOfString(json, start);
        }

        for (var i = start; i < json.Length; i++)
        {
            var b = json[i];
            if (b == (byte)'"')
            {
                return i;
            }

            if (b == (byte)'\\')
            {
                break;
            }
        }

        return TopLevelMembers.EndOfString(json, start);
    }

    private static bool ValueAt(ReadOnlySpan<byte> json, int at, out int start, out int length, out bool isString)
    {
        start = at;
        length = 0;
        isString = false;
        if (at >= json.Length || json[at] is (byte)'{' or (byte)'[')
        {
            return false;
        }

        if (json[at] == (byte)'"')
        {
            var end = EndOfShortString(json, at + 1);
            if (end < 0)
            {
                return false;
            }

            start = at + 1;
            length = end - start;
            isString = true;
            return true;
        }

        var scalar = json[at..].IndexOfAny(ScalarEnd);
        length = scalar < 0 ? json.Length - at : scalar;
        return length > 0;
    }
}
