using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>How a malformed payload is described: token names and absolute byte positions of reader errors.</summary>
internal static class JsonErrorText
{
    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.PropertyName => "a property name",
        JsonTokenType.EndObject => "the end of an object",
        JsonTokenType.EndArray => "the end of an array",
        _ => token.ToString(),
    };

    /// <summary>The absolute byte offset of a reader error from its line and byte-in-line.</summary>
    public static long AbsolutePosition(ReadOnlySpan<byte> data, long line, long bytePositionInLine, long fallback)
    {
        var start = 0;
        for (long l = 0; l < line; l++)
        {
            var nl = data[start..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                return fallback;
            }

            start += nl + 1;
        }

        return start + bytePositionInLine;
    }

    /// <summary>Drops the " LineNumber: .. | BytePositionInLine: .." tail of a reader message: we report an absolute byte.</summary>
    public static string StripPosition(string message)
    {
        var i = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (i >= 0 ? message[..i] : message).TrimEnd(' ', '.');
    }
}
