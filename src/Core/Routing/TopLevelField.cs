using System.Buffers;
using System.Text.Json;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// Finds one top-level member of a JSON object by a byte scan that stops at it: only quotes, backslashes and brackets
/// are looked at (vectorized), nested objects and arrays are skipped by depth, no value before it is decoded. The same
/// scan as Drift's TopLevelKeys, which Routing may not import (docs/architecture.md), stopping at the name asked for.
/// </summary>
/// <remarks>
/// The value may not have been validated yet (routing runs before the row encoder): the scan never reads outside the
/// span and answers "not found" for what it cannot read; the encoder still rejects an invalid value in every table it
/// is routed to. The first member of the name counts.
/// </remarks>
public static class TopLevelField
{
    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[]"u8);
    private static readonly SearchValues<byte> StringEnd = SearchValues.Create("\"\\"u8);
    private static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\r\n"u8);
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
        isString ? TextEquals(raw, text) : !raw.SequenceEqual("null"u8) && raw.SequenceEqual(text);

    /// <summary>
    /// Where the raw value of the top-level member <paramref name="name"/> lies in <paramref name="json"/>: a string's
    /// content between its quotes (still escaped, <paramref name="isString"/>) or a scalar's text. False when absent,
    /// or an object or array.
    /// </summary>
    public static bool Find(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name, out int start, out int length, out bool isString)
    {
        start = 0;
        length = 0;
        isString = false;
        var depth = 0;
        var i = 0;
        while (i < json.Length)
        {
            var next = json[i..].IndexOfAny(Structural);
            if (next < 0)
            {
                return false;
            }

            i += next;
            switch (json[i])
            {
                case (byte)'{' or (byte)'[':
                    depth++;
                    i++;
                    break;
                case (byte)'}' or (byte)']':
                    depth--;
                    i++;
                    if (depth <= 0)
                    {
                        return false;
                    }

                    break;
                default:
                    var nameStart = i + 1;
                    var end = EndOfString(json, nameStart);
                    if (end < 0)
                    {
                        return false;
                    }

                    i = end + 1;
                    if (depth != 1)
                    {
                        break;
                    }

                    var colon = SkipWhitespace(json, i);
                    if (colon >= json.Length || json[colon] != (byte)':' || !NameEquals(json[nameStart..end], name))
                    {
                        break;
                    }

                    return ValueAt(json, SkipWhitespace(json, colon + 1), out start, out length, out isString);
            }
        }

        return false;
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
            var end = EndOfString(json, at + 1);
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

    private static bool NameEquals(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> name) =>
        raw.IndexOf((byte)'\\') < 0 ? raw.SequenceEqual(name) : TextEquals(raw, name);

    /// <summary>A raw (escaped) string's content equals <paramref name="text"/> once unescaped.</summary>
    public static bool TextEquals(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> text)
    {
        if (raw.IndexOf((byte)'\\') < 0)
        {
            return raw.SequenceEqual(text);
        }

        var quoted = raw.Length + 2 <= 512 ? stackalloc byte[raw.Length + 2] : new byte[raw.Length + 2];
        quoted[0] = (byte)'"';
        raw.CopyTo(quoted[1..]);
        quoted[^1] = (byte)'"';
        try
        {
            var reader = new Utf8JsonReader(quoted);
            return reader.Read() && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(text);
        }
        catch (JsonException)
        {
            return false; // an invalid escape: not a value this rule can equal; the encoder rejects the record
        }
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> json, int i)
    {
        var n = i < json.Length ? json[i..].IndexOfAnyExcept(Whitespace) : -1;
        return n < 0 ? json.Length : i + n;
    }

    /// <summary>The index of the quote closing the string whose content starts at <paramref name="start"/>; -1 if unterminated.</summary>
    private static int EndOfString(ReadOnlySpan<byte> json, int start)
    {
        var i = start;
        while (i < json.Length)
        {
            var next = json[i..].IndexOfAny(StringEnd);
            if (next < 0)
            {
                return -1;
            }

            i += next;
            if (json[i] == (byte)'"')
            {
                return i;
            }

            i += 2; // a backslash and the byte it escapes
        }

        return -1;
    }
}
