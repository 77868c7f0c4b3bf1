using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>Field names and typed field readers shared by the event and record parsers.</summary>
public static partial class KafkaEventDecoder
{
    private enum Field
    {
        Unknown,
        Topic,
        Partition,
        Offset,
        Timestamp,
        TimestampType,
        Key,
        Value,
        Headers,
        KeySchemaMetadata,
        ValueSchemaMetadata,
    }

    private static Field Classify(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            var name = reader.ValueSpan;
            switch (name.Length)
            {
                case 3 when name.SequenceEqual("key"u8): return Field.Key;
                case 5 when name.SequenceEqual("topic"u8): return Field.Topic;
                case 5 when name.SequenceEqual("value"u8): return Field.Value;
                case 6 when name.SequenceEqual("offset"u8): return Field.Offset;
                case 7 when name.SequenceEqual("headers"u8): return Field.Headers;
                case 9 when name.SequenceEqual("partition"u8): return Field.Partition;
                case 9 when name.SequenceEqual("timestamp"u8): return Field.Timestamp;
                case 13 when name.SequenceEqual("timestampType"u8): return Field.TimestampType;
                case 17 when name.SequenceEqual("keySchemaMetadata"u8): return Field.KeySchemaMetadata;
                case 19 when name.SequenceEqual("valueSchemaMetadata"u8): return Field.ValueSchemaMetadata;
                default: return Field.Unknown;
            }
        }

        return reader.ValueTextEquals("key"u8) ? Field.Key
            : reader.ValueTextEquals("topic"u8) ? Field.Topic
            : reader.ValueTextEquals("value"u8) ? Field.Value
            : reader.ValueTextEquals("offset"u8) ? Field.Offset
            : reader.ValueTextEquals("headers"u8) ? Field.Headers
            : reader.ValueTextEquals("partition"u8) ? Field.Partition
            : reader.ValueTextEquals("timestamp"u8) ? Field.Timestamp
            : reader.ValueTextEquals("timestampType"u8) ? Field.TimestampType
            : reader.ValueTextEquals("keySchemaMetadata"u8) ? Field.KeySchemaMetadata
            : reader.ValueTextEquals("valueSchemaMetadata"u8) ? Field.ValueSchemaMetadata
            : Field.Unknown;
    }

    private static string WrongType(ref Utf8JsonReader reader, string field, string expected)
    {
        var found = Describe(reader.TokenType);
        var at = Start(ref reader);
        reader.Skip();
        return $"field '{field}' is {found}, expected {expected} (at byte {at})";
    }

    private static string? OptionalString(ref Utf8JsonReader reader, string field)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        throw Unexpected(ref reader, $"'{field}' to be a string");
    }

    /// <summary>Reads the next token; the end of the payload in the middle of the event is a format error.</summary>
    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new EventFormatException(readerBase + reader.BytesConsumed, "the payload ends in the middle of the event (truncated JSON)");
        }

        return reader.TokenType;
    }
}
