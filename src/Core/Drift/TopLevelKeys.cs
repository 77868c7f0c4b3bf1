using System.Buffers;
using System.Text;
using System.Text.Json;

namespace MskClickHouse.Core.Drift;

/// <summary>
/// The member names of a JSON object's top level, found by a byte scan instead of a parse: only quotes, backslashes
/// and brackets are looked at (vectorized <see cref="MemoryExtensions.IndexOfAny{T}(ReadOnlySpan{T}, SearchValues{T})"/>);
/// nested objects and arrays are skipped by depth, values are never decoded.
/// </summary>
/// <remarks>
/// The input is a row the sink already validated or produced (a JSONEachRow line: one object, optionally followed by
/// whitespace), so the scan does not re-validate it. A string at depth 1 followed by <c>:</c> is a member name; a name
/// with escapes (<c>"\u0041"</c>) is unescaped, as ClickHouse reads it.
/// </remarks>
public static class TopLevelKeys
{
    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[]"u8);
    private static readonly SearchValues<byte> StringEnd = SearchValues.Create("\"\\"u8);
    private static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\r\n"u8);

    /// <summary>Calls <paramref name="onKey"/> with the raw (still escaped) UTF-8 bytes of each top-level member name.</summary>
    /// <returns>The number of names found.</returns>
    public static int Scan<TState>(ReadOnlySpan<byte> jsonObject, ref TState state, KeyVisitor<TState> onKey)
        where TState : allows ref struct
    {
        ArgumentNullException.ThrowIfNull(onKey);
        var depth = 0;
        var found = 0;
        var i = 0;
        while (true)
        {
            var next = jsonObject[i..].IndexOfAny(Structural);
            if (next < 0)
            {
                return found;
            }

            i += next;
            switch (jsonObject[i])
            {
                case (byte)'{' or (byte)'[':
                    depth++;
                    i++;
                    break;
                case (byte)'}' or (byte)']':
                    depth--;
                    i++;
                    if (depth == 0)
                    {
                        return found;
                    }

                    break;
                default:
                    var start = i + 1;
                    var end = EndOfString(jsonObject, start);
                    i = end + 1;
                    if (depth == 1)
                    {
                        var after = jsonObject[i..].IndexOfAnyExcept(Whitespace);
                        if (after >= 0 && jsonObject[i + after] == (byte)':')
                        {
                            found++;
                            onKey(jsonObject[start..end], ref state);
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>All top-level member names, unescaped (tests and tools; the sink uses <see cref="Scan"/>).</summary>
    public static List<string> Of(ReadOnlySpan<byte> jsonObject)
    {
        var names = new List<string>();
        Scan(jsonObject, ref names, static (ReadOnlySpan<byte> raw, ref List<string> list) => list.Add(Decode(raw)));
        return names;
    }

    /// <summary>The name as ClickHouse reads it: the raw bytes, or, when they hold an escape, the unescaped string.</summary>
    public static string Decode(ReadOnlySpan<byte> raw)
    {
        if (raw.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(raw);
        }

        Span<byte> quoted = raw.Length + 2 <= 512 ? stackalloc byte[raw.Length + 2] : new byte[raw.Length + 2];
        quoted[0] = (byte)'"';
        raw.CopyTo(quoted[1..]);
        quoted[^1] = (byte)'"';
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

    /// <summary>The index of the quote that closes the string whose content starts at <paramref name="start"/>.</summary>
    private static int EndOfString(ReadOnlySpan<byte> json, int start)
    {
        var i = start;
        while (true)
        {
            if (i >= json.Length)
            {
                return json.Length - 1; // unterminated: cannot happen for a validated row; end the scan
            }

            var next = json[i..].IndexOfAny(StringEnd);
            if (next < 0)
            {
                return json.Length - 1; // unterminated: cannot happen for a validated row; end the scan
            }

            i += next;
            if (json[i] == (byte)'"')
            {
                return i;
            }

            i += 2; // a backslash and the byte it escapes (\" or \\ included)
        }
    }
}

/// <summary>Receives one raw member name found by <see cref="TopLevelKeys.Scan"/>.</summary>
public delegate void KeyVisitor<TState>(ReadOnlySpan<byte> rawName, ref TState state)
    where TState : allows ref struct;
