using System.Text;
using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>One record of the <c>records</c> map: its fields, its timestamp type and schema metadata.</summary>
public static partial class KafkaEventDecoder
{
    private static void DecodeRecord(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, DecodeState state, ref MapKey mapKey)
    {
        var recordStart = (int)Start(ref reader);
        var headerStart = state.HeaderCount;
        ReadOnlySpan<byte> topic = default;
        var hasTopic = false;
        var partition = 0;
        var hasPartition = false;
        var offset = -1L;
        var hasOffset = false;
        var timestamp = -1L;
        var timestampType = TimestampType.NoTimestampType;
        var key = ByteRange.Null;
        var value = ByteRange.Null;
        var hasSchema = false;
        var valueFormat = SchemaDataFormat.None;
        string? error = null;

        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var field = Classify(ref reader);
            Next(ref reader);
            var token = reader.TokenType;
            switch (field)
            {
                case Field.Topic:
                    if (token == JsonTokenType.String)
                    {
                        topic = reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
                        hasTopic = topic.Length > 0;
                    }
                    else
                    {
                        error ??= WrongType(ref reader, "topic", "a string");
                    }

                    break;
                case Field.Partition:
                    if (token == JsonTokenType.Number && reader.TryGetInt32(out partition) && partition >= 0)
                    {
                        hasPartition = true;
                    }
                    else
                    {
                        error ??= WrongType(ref reader, "partition", "a non-negative 32-bit integer");
                    }

                    break;
                case Field.Offset:
                    if (token == JsonTokenType.Number && reader.TryGetInt64(out offset) && offset >= 0)
                    {
                        hasOffset = true;
                    }
                    else
                    {
                        offset = -1;
                        error ??= WrongType(ref reader, "offset", "a non-negative 64-bit integer");
                    }

                    break;
                case Field.Timestamp:
                    if (token == JsonTokenType.Number && reader.TryGetInt64(out timestamp))
                    {
                        break;
                    }

                    timestamp = -1;
                    if (token != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "timestamp", "an integer (epoch milliseconds)");
                    }

                    break;
                case Field.TimestampType:
                    if (token == JsonTokenType.String)
                    {
                        timestampType = ParseTimestampType(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }

                    break;
                case Field.Key:
                    if (token == JsonTokenType.String)
                    {
                        key = state.DecodeBase64(ref reader, "key", ref error);
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "key", "a base64 string or null");
                    }

                    break;
                case Field.Value:
                    if (token == JsonTokenType.String)
                    {
                        value = state.DecodeBase64(ref reader, "value", ref error);
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "value", "a base64 string or null");
                    }

                    break;
                case Field.Headers:
                    if (token == JsonTokenType.StartArray)
                    {
                        state.DecodeHeaders(ref reader, payload, ref error);
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "headers", "an array of objects");
                    }

                    break;
                case Field.ValueSchemaMetadata:
                    hasSchema = true;
                    valueFormat = ReadSchemaFormat(ref reader);
                    break;
                case Field.KeySchemaMetadata:
                    hasSchema = true;
                    reader.Skip();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        var recordEnd = (int)(readerBase + reader.BytesConsumed);

        if (!hasOffset)
        {
            error ??= $"record has no 'offset' (record at byte {recordStart})";
        }

        if (!hasTopic || !hasPartition)
        {
            error ??= $"record has no '{(hasTopic ? "partition" : "topic")}' (record at byte {recordStart}); topic and partition taken from the records key";
            if (!mapKey.TrySplit(payload, out var mapTopic, out var mapPartition))
            {
                throw new EventFormatException(
                    recordStart,
                    $"a record has no topic or partition and its records key '{mapKey.ToString(payload)}' is not \"topic-partition\"");
            }

            if (!hasTopic)
            {
                topic = mapTopic;
            }

            if (!hasPartition)
            {
                partition = mapPartition;
            }
        }

        if (error is not null)
        {
            // Keep what was sent: the record's JSON text, so the dead-letter table can show it.
            value = state.CopyRaw(payload[recordStart..recordEnd]);
        }

        var record = new KafkaRecord(
            offset,
            timestamp,
            timestampType,
            key,
            value,
            headerStart,
            state.HeaderCount - headerStart,
            hasSchema,
            error)
        {
            ValueSchemaFormat = valueFormat,
        };
        state.Add(topic, partition, ref mapKey, payload, in record);
    }

    /// <summary>The payload position of the current token.</summary>
    private static long Start(ref Utf8JsonReader reader) => readerBase + reader.TokenStartIndex;

    private static TimestampType ParseTimestampType(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("CREATE_TIME"u8))
        {
            return TimestampType.CreateTime;
        }

        if (reader.ValueTextEquals("LOG_APPEND_TIME"u8))
        {
            return TimestampType.LogAppendTime;
        }

        return TimestampType.NoTimestampType;
    }

    private static SchemaDataFormat ReadSchemaFormat(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return SchemaDataFormat.None;
        }

        var format = SchemaDataFormat.Other;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var isFormat = reader.ValueTextEquals("dataFormat"u8);
            Next(ref reader);
            if (isFormat && reader.TokenType == JsonTokenType.String)
            {
                format = reader.ValueTextEquals("AVRO"u8) ? SchemaDataFormat.Avro
                    : reader.ValueTextEquals("PROTOBUF"u8) ? SchemaDataFormat.Protobuf
                    : reader.ValueTextEquals("JSON"u8) ? SchemaDataFormat.Json
                    : SchemaDataFormat.Other;
            }
            else
            {
                reader.Skip();
            }
        }

        return format;
    }
}
