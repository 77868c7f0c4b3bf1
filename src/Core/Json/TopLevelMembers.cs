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

    /// <summary>Bytes looked at one by one before a vector search (<see cref="Find"/>).</summary>
    private const int ScalarBytes = 16;

    private const byte StructuralByte = 1;
    private const byte StringEndByte = 2;

    /// <summary>Per byte value: <see cref="StructuralByte"/> for <c>" { } [ ]</c>, <see cref="StringEndByte"/> for <c>" \</c>.</summary>
    private static ReadOnlySpan<byte> Classes =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

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
            var next = Find(json, at, Structural, StructuralByte);
            if (next < 0)
            {
                break;
            }

            at = next;
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

    /// <summary>
    /// Where the value of the first top-level member named <paramref name="name"/> (UTF-8, unescaped) starts, as
    /// <see cref="ValueStart"/> after the <see cref="MoveNext"/> that stops at it; -1 when there is none. The same scan
    /// in one loop, each top-level name compared where it lies: routing reads one field of every record.
    /// </summary>
    public static int ValueStartOf(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        var depth = 0;
        var at = 0;
        while (true)
        {
            at = Find(json, at, Structural, StructuralByte);
            if (at < 0)
            {
                return -1;
            }

            var c = json[at++];
            if (c != (byte)'"')
            {
                depth += c is (byte)'{' or (byte)'[' ? 1 : -1;
                if (depth <= 0)
                {
                    return -1;
                }

                continue;
            }

            var nameStart = at;
            // A name without quote or backslash is the raw name that holds its bytes up to a quote.
            var same = depth == 1 && nameStart + name.Length < json.Length && json[nameStart + name.Length] == (byte)'"'
                && json.Slice(nameStart, name.Length).SequenceEqual(name) && IsPlain(name);
            var end = same ? nameStart + name.Length : EndOfString(json, nameStart);
            if (end < 0)
            {
                return -1;
            }

            at = end + 1;
            if (depth != 1)
            {
                continue;
            }

            var colon = SkipWhitespace(json, at);
            if (colon >= json.Length || json[colon] != (byte)':')
            {
                continue; // a string value, not a name
            }

            // An escape is longer than what it stands for: a raw name shorter than the name is another name.
            if (same || (end - nameStart >= name.Length && TextEquals(json[nameStart..end], name)))
            {
                return SkipWhitespace(json, colon + 1);
            }

            at = colon + 1;
        }
    }

    private static bool IsPlain(ReadOnlySpan<byte> name)
    {
        foreach (var b in name)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The index of the quote closing the string whose content starts at <paramref name="start"/>; -1 if unterminated.</summary>
    public static int EndOfString(ReadOnlySpan<byte> json, int start)
    {
        var i = start;
        while (i < json.Length)
        {
            i = Find(json, i, StringEnd, StringEndByte);
            if (i < 0)
            {
                return -1;
            }

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
        // An escape always stands for fewer bytes than it takes: raw no longer than text equals it only byte for byte.
        if (raw.Length <= text.Length)
        {
            return raw.Length == text.Length && raw.SequenceEqual(text) && raw.IndexOf((byte)'\\') < 0;
        }

        if (raw.IndexOf((byte)'\\') < 0)
        {
            return false;
        }

        var quoted = raw.Length + 2 <= 512 ? stackalloc byte[raw.Length + 2] : new byte[raw.Length + 2];
        Quote(raw, quoted);
        try
        {
            var reader = new Utf8JsonReader(quoted);
            return reader.Read() && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(text);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false; // an invalid escape, or a lone surrogate ("\ud800"), which ValueTextEquals refuses
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

    /// <summary>
    /// The index of the first byte at or after <paramref name="from"/> of the class <paramref name="flag"/> (same as
    /// <paramref name="values"/>), -1 if none. Members and scalars are short in most rows: the first bytes are looked at
    /// one by one, which costs less than a vector search's set-up; the rest of the span is searched with vectors.
    /// </summary>
    private static int Find(ReadOnlySpan<byte> json, int from, SearchValues<byte> values, byte flag)
    {
        var end = Math.Min(json.Length, from + ScalarBytes);
        for (var i = from; i < end; i++)
        {
            if ((Classes[json[i]] & flag) != 0)
            {
                return i;
            }
        }

        if (end >= json.Length)
        {
            return -1;
        }

        var next = json[end..].IndexOfAny(values);
        return next < 0 ? -1 : end + next;
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
