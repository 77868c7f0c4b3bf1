using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>
/// Decodes the Lambda Kafka event (Amazon MSK and self-managed Apache Kafka event source mappings) in one pass of
/// <see cref="Utf8JsonReader"/> over the raw payload. Keys, values and header bytes are base64-decoded straight into
/// one pooled arena; no string or object is made per record (one topic string per partition).
/// </summary>
/// <remarks>
/// Records are grouped by their own <c>topic</c> and <c>partition</c>, not by the <c>records</c> map key (which is kept,
/// from the first record seen, as <see cref="PartitionRecords.MapKey"/>). A record that cannot be decoded (invalid
/// base64, wrongly typed field, invalid Unicode) is kept with <see cref="KafkaRecord.Error"/> set and its whole JSON text,
/// as sent, in <see cref="KafkaRecord.Value"/>; one without a readable topic, partition or offset goes to
/// <see cref="KafkaBatch.Unidentified"/> (<see cref="RecordReader"/>). Only a payload that is not a Kafka event (not JSON,
/// truncated, or an envelope of the wrong shape or with invalid Unicode outside the records) throws
/// <see cref="EventFormatException"/>, with the byte position.
/// </remarks>
public static class KafkaEventDecoder
{
    /// <summary>
    /// Depth is no reason to refuse an event: skipping a deep value is iterative, and a record's deep field is that
    /// record's error, not the event's. The payload's size (6 MB at most) bounds it anyway.
    /// </summary>
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 1 << 24, CommentHandling = JsonCommentHandling.Disallow };

    public static KafkaBatch Decode(ReadOnlySpan<byte> utf8Payload)
    {
        var cursor = new EventCursor();
        var batch = new BatchBuilder(utf8Payload.Length);
        var reader = new Utf8JsonReader(utf8Payload, ReaderOptions);
        try
        {
            ReadEvent(ref reader, utf8Payload, cursor, batch);
            return batch.Finish(utf8Payload.Length);
        }
        catch (JsonException ex)
        {
            batch.Abandon();
            // After a header fast path re-based the reader, line numbers no longer add up: use the last token's end.
            var position = cursor.Base == 0 && ex.LineNumber is long line && ex.BytePositionInLine is long inLine
                ? JsonErrorText.AbsolutePosition(utf8Payload, line, inLine, reader.BytesConsumed)
                : cursor.End(ref reader);
            throw new EventFormatException(position, "not valid JSON: " + JsonErrorText.StripPosition(ex.Message), ex);
        }
        catch (InvalidOperationException ex)
        {
            // The reader's refusal to read a text (invalid Unicode) that no check above caught: still the event's position.
            batch.Abandon();
            throw new EventFormatException(cursor.Start(ref reader), "unreadable text: " + ex.Message, ex);
        }
        catch
        {
            batch.Abandon();
            throw;
        }
    }

    private static void ReadEvent(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, EventCursor cursor, BatchBuilder batch)
    {
        if (!reader.Read())
        {
            throw new EventFormatException(0, "expected a JSON object, found an empty payload");
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw cursor.Unexpected(ref reader, "the event to be a JSON object");
        }

        var sawRecords = false;
        while (cursor.Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (Is(ref reader, cursor, "records"u8))
            {
                cursor.Next(ref reader);
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw cursor.Unexpected(ref reader, "'records' to be an object keyed \"topic-partition\"");
                }

                ReadRecordsMap(ref reader, payload, cursor, batch);
                sawRecords = true;
            }
            else if (Is(ref reader, cursor, "eventSourceArn"u8))
            {
                cursor.Next(ref reader);
                batch.EventSourceArn = OptionalString(ref reader, cursor, "eventSourceArn");
            }
            else if (Is(ref reader, cursor, "eventSource"u8))
            {
                cursor.Next(ref reader);
                batch.EventSource = OptionalString(ref reader, cursor, "eventSource");
            }
            else if (Is(ref reader, cursor, "bootstrapServers"u8))
            {
                cursor.Next(ref reader);
                batch.BootstrapServers = OptionalString(ref reader, cursor, "bootstrapServers");
            }
            else
            {
                cursor.Next(ref reader);
                reader.Skip();
            }
        }

        if (!sawRecords)
        {
            throw new EventFormatException(cursor.Start(ref reader), "the event has no 'records' object (is this a Kafka event?)");
        }

        // Anything after the closing brace other than whitespace makes Read throw (trailing garbage).
        if (reader.Read())
        {
            throw cursor.Unexpected(ref reader, "the end of the payload after the event object");
        }
    }

    private static void ReadRecordsMap(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, EventCursor cursor, BatchBuilder batch)
    {
        while (cursor.Next(ref reader) == JsonTokenType.PropertyName)
        {
            // The key names the partition in the answer (batchItemFailures): it must be text.
            var mapKey = Text(ref reader, cursor, "a key of 'records'");
            cursor.Next(ref reader);
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw cursor.Unexpected(ref reader, $"an array of records for key '{mapKey}'");
            }

            while (cursor.Next(ref reader) != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw cursor.Unexpected(ref reader, $"a record object in '{mapKey}'");
                }

                RecordReader.Read(ref reader, payload, cursor, batch, mapKey);
            }
        }
    }

    /// <summary>Whether the envelope's property name is <paramref name="name"/>; a name that is not valid Unicode is the event's error.</summary>
    private static bool Is(ref Utf8JsonReader reader, EventCursor cursor, ReadOnlySpan<byte> name)
    {
        var equal = JsonUnicode.TextEquals(ref reader, name, out var valid);
        return valid ? equal : throw InvalidUnicode(ref reader, cursor, "a property name of the event");
    }

    private static string? OptionalString(ref Utf8JsonReader reader, EventCursor cursor, string field) => reader.TokenType switch
    {
        JsonTokenType.String => Text(ref reader, cursor, $"'{field}'"),
        JsonTokenType.Null => null,
        _ => throw cursor.Unexpected(ref reader, $"'{field}' to be a string"),
    };

    private static string Text(ref Utf8JsonReader reader, EventCursor cursor, string what) =>
        JsonUnicode.TryGetString(ref reader, out var text) ? text : throw InvalidUnicode(ref reader, cursor, what);

    private static EventFormatException InvalidUnicode(ref Utf8JsonReader reader, EventCursor cursor, string what) =>
        new(cursor.Start(ref reader), $"{what} is not valid Unicode (invalid UTF-8 or a lone surrogate escape)");
}
