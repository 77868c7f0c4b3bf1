using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>
/// Where the decoder's reader stands in the payload. The header fast path reads byte arrays by hand and continues with a
/// new reader (same state) after them, so the reader's own positions count from <see cref="Base"/>.
/// </summary>
internal sealed class EventCursor
{
    /// <summary>Where the current reader's span starts in the payload.</summary>
    public long Base { get; set; }

    /// <summary>The payload position of the current token.</summary>
    public long Start(ref Utf8JsonReader reader) => Base + reader.TokenStartIndex;

    /// <summary>The payload position just after the last token read.</summary>
    public long End(ref Utf8JsonReader reader) => Base + reader.BytesConsumed;

    /// <summary>Reads the next token; the end of the payload in the middle of the event is a format error.</summary>
    public JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new EventFormatException(End(ref reader), "the payload ends in the middle of the event (truncated JSON)");
        }

        return reader.TokenType;
    }

    /// <summary>The envelope error "expected …, found …" at the current token.</summary>
    public EventFormatException Unexpected(ref Utf8JsonReader reader, string expected) =>
        new(Start(ref reader), $"expected {expected}, found {JsonErrorText.Describe(reader.TokenType)}");

    /// <summary>
    /// A record's problem "field 'f' is …, expected …"; always skips the value (an object or array whole), so the
    /// reader stays in place however many fields of the record are wrong.
    /// </summary>
    public string WrongType(ref Utf8JsonReader reader, string field, string expected)
    {
        var found = JsonErrorText.Describe(reader.TokenType);
        var at = Start(ref reader);
        reader.Skip();
        return $"field '{field}' is {found}, expected {expected} (at byte {at})";
    }

    /// <summary>A record's problem: the string at the current token is not valid Unicode.</summary>
    public string InvalidUnicode(ref Utf8JsonReader reader, string what) =>
        $"{what} is not valid Unicode (invalid UTF-8 or a lone surrogate escape) (at byte {Start(ref reader)})";
}
