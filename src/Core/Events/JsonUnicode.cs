using System.Text;
using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>
/// Reads a string token's text only when it is valid Unicode. <see cref="Utf8JsonReader"/> reads invalid UTF-8 and lone
/// surrogate escapes (<c>\ud800</c>) without complaint and throws only when the text is unescaped or compared; these
/// answer false instead, so the caller can name the field and its position.
/// </summary>
internal static class JsonUnicode
{
    public static bool TryGetString(ref Utf8JsonReader reader, out string text)
    {
        try
        {
            text = reader.GetString() ?? string.Empty;
            return true;
        }
        catch (InvalidOperationException)
        {
            // Invalid UTF-8 or a lone surrogate escape: the only reasons GetString of a string token throws.
            text = string.Empty;
            return false;
        }
    }

    /// <summary>Unescapes the token into <paramref name="destination"/> (at least as long as its raw text).</summary>
    public static bool TryCopy(ref Utf8JsonReader reader, Span<byte> destination, out int written)
    {
        try
        {
            written = reader.CopyString(destination);
            return true;
        }
        catch (InvalidOperationException)
        {
            written = 0;
            return false;
        }
    }

    /// <summary>Whether the token's text equals <paramref name="utf8"/>; false in <paramref name="valid"/> when the text is not valid Unicode.</summary>
    public static bool TextEquals(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, out bool valid)
    {
        valid = true;
        if (!reader.ValueIsEscaped)
        {
            // Equal to a valid literal is valid; only a mismatch needs the check.
            if (reader.ValueSpan.SequenceEqual(utf8))
            {
                return true;
            }

            valid = System.Text.Unicode.Utf8.IsValid(reader.ValueSpan);
            return false;
        }

        // Unescaped whole (ValueTextEquals stops at a length mismatch without looking at an invalid escape).
        if (!TryGetString(ref reader, out var text))
        {
            valid = false;
            return false;
        }

        return Encoding.UTF8.GetBytes(text).AsSpan().SequenceEqual(utf8);
    }
}
