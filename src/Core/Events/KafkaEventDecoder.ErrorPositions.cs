using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>Where a malformed payload went wrong: token descriptions and absolute payload positions.</summary>
public static partial class KafkaEventDecoder
{
    private static EventFormatException Unexpected(ref Utf8JsonReader reader, string expected) =>
        new(Start(ref reader), $"expected {expected}, found {Describe(reader.TokenType)}");

    internal static string Describe(JsonTokenType token) => token switch
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
    internal static long AbsolutePosition(ReadOnlySpan<byte> data, long line, long bytePositionInLine, long fallback)
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
    internal static string StripPosition(string message)
    {
        var i = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (i >= 0 ? message[..i] : message).TrimEnd(' ', '.');
    }
}
