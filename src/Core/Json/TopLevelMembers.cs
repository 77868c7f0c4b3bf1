using System.Buffers;
using System.Text;
using System.Text.Json;

namespace MskClickHouse.Core.Json;

/// <summary>
/// The members of a JSON object's top level, one at a time, found by a byte scan instead of a parse: only quotes,
/// backslashes and brackets are looked at (vectorized), nested objects and arrays are skipped by depth, no value is
/// decoded. The one scanner of the sink: Drift and Evolution read every name of a row, Routing stops at the field it
/// compares.
/// </summary>
/// <remarks>
/// The input need not be valid: the scan never reads outside the span and ends at what it cannot read (an unterminated
/// string, the end of the first object). A string at depth 1 followed by <c>:</c> is a member name; its raw bytes are
/// still escaped (<see cref="Decode"/>, <see cref="TextEquals"/> read them as ClickHouse does).
/// </remarks>
public ref struct TopLevelMembers
{
    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[]"u8);
    private static readonly SearchValues<byte> StringEnd = SearchValues.Create("\"\\"u8);
    private static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\r\n"u8);

    private readonly ReadOnlySpan<byte> json;
    private int at;
    private int depth;

    public TopLevelMembers(ReadOnlySpan<byte> json) => this.json = json;

    /// <summary>The raw (still escaped) UTF-8 name of the current member.</summary>
    public ReadOnlySpan<byte> Name { get; private set; }

    /// <summary>Where the current member's value starts: the first byte after its colon and whitespace (the span's length when none).</summary>
    public int ValueStart { get; private set; }

    /// <summary>Moves to the next top-level member; false at the end of the object or of what can be read.</summary>
    public bool MoveNext()
    {
        while (at < json.Length)
        {
            var next = json[at..].IndexOfAny(Structural);
            if (next < 0)
            {
                break;
            }

            at += next;
            switch (json[at])
            {
                case (byte)'{' or (byte)'[':
                    depth++;
                    at++;
                    break;
                case (byte)'}' or (byte)']':
                    depth--;
                    at++;
                    if (depth <= 0)
                    {
                        at = json.Length;
                        return false;
                    }

                    break;
                default:
                    var nameStart = at + 1;
                    var end = EndOfString(json, nameStart);
                    if (end < 0)
                    {
                        at = json.Length;
                        return false;
                    }

                    at = end + 1;
                    if (depth != 1)
                    {
                        break;
                    }

                    var colon = SkipWhitespace(json, at);
                    if (colon >= json.Length || json[colon] != (byte)':')
                    {
                        break; // a string value, not a name
                    }

                    Name = json[nameStart..end];
                    ValueStart = SkipWhitespace(json, colon + 1);
                    at = colon + 1;
                    return true;
            }
        }

        at = json.Length;
        return false;
    }

    /// <summary>The index of the quote closing the string whose content starts at <paramref name="start"/>; -1 if unterminated.</summary>
    public static int EndOfString(ReadOnlySpan<byte> json, int start)
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

            i += 2; // a backslash and the byte it escapes (\" or \\ included)
        }

        return -1;
    }

    /// <summary>A raw (escaped) string's content equals <paramref name="text"/> once unescaped; an invalid escape equals nothing.</summary>
    public static bool TextEquals(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> text)
    {
        if (raw.IndexOf((byte)'\\') < 0)
        {
            return raw.SequenceEqual(text);
        }

        var quoted = raw.Length + 2 <= 512 ? stackalloc byte[raw.Length + 2] : new byte[raw.Length + 2];
        Quote(raw, quoted);
        try
        {
            var reader = new Utf8JsonReader(quoted);
            return reader.Read() && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(text);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A raw name as ClickHouse reads it: the bytes, or, when they hold an escape, the unescaped string.</summary>
    public static string Decode(ReadOnlySpan<byte> raw)
    {
        if (raw.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(raw);
        }

        var quoted = raw.Length + 2 <= 512 ? stackalloc byte[raw.Length + 2] : new byte[raw.Length + 2];
        Quote(raw, quoted);
        try
        {
            var reader = new Utf8JsonReader(quoted);
            return reader.Read() ? reader.GetString() ?? string.Empty : Encoding.UTF8.GetString(raw);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Encoding.UTF8.GetString(raw); // an invalid escape: cannot come from a validated row
        }
    }

    private static void Quote(ReadOnlySpan<byte> raw, Span<byte> quoted)
    {
        quoted[0] = (byte)'"';
        raw.CopyTo(quoted[1..]);
        quoted[^1] = (byte)'"';
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> json, int i)
    {
        if (i < json.Length && json[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
        {
            return i; // compact JSON: no search
        }

        var n = i < json.Length ? json[i..].IndexOfAnyExcept(Whitespace) : -1;
        return n < 0 ? json.Length : i + n;
    }
}
