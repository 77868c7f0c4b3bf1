using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>
/// Decodes the Lambda Kafka event (Amazon MSK and self-managed Apache Kafka event source mappings) in one pass of
/// <see cref="Utf8JsonReader"/> over the raw payload. Keys, values and header bytes are base64-decoded straight into
/// one pooled arena; no string or object is made per record (one topic string per partition).
/// </summary>
/// <remarks>
/// Records are grouped by their own <c>topic</c> and <c>partition</c>, not by the <c>records</c> map key (which is kept,
/// from the first record seen, as <see cref="PartitionRecords.MapKey"/>). A record that cannot be decoded (missing
/// topic/partition/offset, invalid base64, wrongly typed field) is kept with <see cref="KafkaRecord.Error"/> set and its
/// whole JSON text, as sent, in <see cref="KafkaRecord.Value"/>. A payload that is not a Kafka event at all throws
/// <see cref="EventFormatException"/>.
/// </remarks>
public static partial class KafkaEventDecoder
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>
    /// Where the current reader's span starts in the payload: the header fast path skips number arrays by hand and
    /// starts a new reader (same state) after them. Decode runs synchronously on one thread, so a thread-static is safe.
    /// </summary>
    [ThreadStatic]
    private static long readerBase;

    public static KafkaBatch Decode(ReadOnlySpan<byte> utf8Payload)
    {
        readerBase = 0;
        var state = new DecodeState(utf8Payload.Length);
        var reader = new Utf8JsonReader(utf8Payload, ReaderOptions);
        try
        {
            DecodeEvent(ref reader, utf8Payload, state);
            return state.Finish(utf8Payload.Length);
        }
        catch (JsonException ex)
        {
            state.Abandon();
            // After a header fast path re-based the reader, line numbers no longer add up: use the last token's end.
            var position = readerBase == 0 && ex.LineNumber is long line && ex.BytePositionInLine is long inLine
                ? AbsolutePosition(utf8Payload, line, inLine, reader.BytesConsumed)
                : readerBase + reader.BytesConsumed;
            throw new EventFormatException(position, "not valid JSON: " + StripPosition(ex.Message), ex);
        }
        catch
        {
            state.Abandon();
            throw;
        }
    }

    private static void DecodeEvent(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, DecodeState state)
    {
        if (!reader.Read())
        {
            throw new EventFormatException(0, "expected a JSON object, found an empty payload");
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Unexpected(ref reader, "the event to be a JSON object");
        }

        var sawRecords = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("records"u8))
            {
                Next(ref reader);
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw Unexpected(ref reader, "'records' to be an object keyed \"topic-partition\"");
                }

                DecodeRecordsMap(ref reader, payload, state);
                sawRecords = true;
            }
            else if (reader.ValueTextEquals("eventSourceArn"u8))
            {
                Next(ref reader);
                state.EventSourceArn = OptionalString(ref reader, "eventSourceArn");
            }
            else if (reader.ValueTextEquals("eventSource"u8))
            {
                Next(ref reader);
                state.EventSource = OptionalString(ref reader, "eventSource");
            }
            else if (reader.ValueTextEquals("bootstrapServers"u8))
            {
                Next(ref reader);
                state.BootstrapServers = OptionalString(ref reader, "bootstrapServers");
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }

        if (!sawRecords)
        {
            throw new EventFormatException(Start(ref reader), "the event has no 'records' object (is this a Kafka event?)");
        }

        // Anything after the closing brace other than whitespace makes Read throw (trailing garbage).
        if (reader.Read())
        {
            throw Unexpected(ref reader, "the end of the payload after the event object");
        }
    }

    private static void DecodeRecordsMap(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, DecodeState state)
    {
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var mapKey = new MapKey(reader.ValueIsEscaped ? reader.GetString() : null, (int)Start(ref reader) + 1, reader.ValueSpan.Length);
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw Unexpected(ref reader, $"an array of records for key '{mapKey.ToString(payload)}'");
            }

            while (Next(ref reader) != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw Unexpected(ref reader, $"a record object in '{mapKey.ToString(payload)}'");
                }

                DecodeRecord(ref reader, payload, state, ref mapKey);
            }
        }
    }
}
