using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace MskClickHouse.Core.Events;

/// <summary>
/// One record of the <c>records</c> map. Whatever is wrong inside the record object (any field, any number of them, any
/// JSON shape, invalid Unicode) is the record's error, not the event's: the reader always ends on the record's closing
/// brace. A record with an identity (topic, partition, offset) joins its partition; one without is unidentified.
/// </summary>
internal static class RecordReader
{
    /// <summary>Reads the record object the reader is on (its <see cref="JsonTokenType.StartObject"/>).</summary>
    public static void Read(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, EventCursor cursor, BatchBuilder batch, string mapKey)
    {
        var recordStart = (int)cursor.Start(ref reader);
        var headerStart = batch.HeaderCount;
        ReadOnlySpan<byte> topic = default;
        var hasTopic = false;
        var partition = -1;
        var offset = -1L;
        var timestamp = -1L;
        var timestampType = TimestampType.NoTimestampType;
        var key = ByteRange.Null;
        var value = ByteRange.Null;
        var hasSchema = false;
        var valueFormat = SchemaDataFormat.None;
        string? error = null;

        while (cursor.Next(ref reader) == JsonTokenType.PropertyName)
        {
            var field = RecordFields.Classify(ref reader);
            if (field == RecordField.Invalid)
            {
                error ??= cursor.InvalidUnicode(ref reader, "a field name");
            }

            cursor.Next(ref reader);
            var token = reader.TokenType;
            string? problem = null;
            switch (field)
            {
                case RecordField.Topic:
                    hasTopic = false;
                    if (token != JsonTokenType.String)
                    {
                        problem = cursor.WrongType(ref reader, "topic", "a string");
                    }
                    else
                    {
                        var valid = false;
                        if (!reader.ValueIsEscaped)
                        {
                            topic = reader.ValueSpan;
                            valid = Utf8.IsValid(topic);
                        }
                        else if (JsonUnicode.TryGetString(ref reader, out var text))
                        {
                            topic = Encoding.UTF8.GetBytes(text);
                            valid = true;
                        }

                        if (!valid)
                        {
                            problem = cursor.InvalidUnicode(ref reader, "field 'topic'");
                        }
                        else
                        {
                            hasTopic = topic.Length > 0;
                        }
                    }

                    break;
                case RecordField.Partition:
                    partition = token == JsonTokenType.Number && reader.TryGetInt32(out var p) && p >= 0 ? p : -1;
                    if (partition < 0)
                    {
                        problem = cursor.WrongType(ref reader, "partition", "a non-negative 32-bit integer");
                    }

                    break;
                case RecordField.Offset:
                    offset = token == JsonTokenType.Number && reader.TryGetInt64(out var o) && o >= 0 ? o : -1;
                    if (offset < 0)
                    {
                        problem = cursor.WrongType(ref reader, "offset", "a non-negative 64-bit integer");
                    }

                    break;
                case RecordField.Timestamp:
                    if (token == JsonTokenType.Number && reader.TryGetInt64(out var t))
                    {
                        timestamp = t;
                    }
                    else
                    {
                        timestamp = -1;
                        if (token != JsonTokenType.Null)
                        {
                            problem = cursor.WrongType(ref reader, "timestamp", "an integer (epoch milliseconds)");
                        }
                    }

                    break;
                case RecordField.TimestampType:
                    if (token == JsonTokenType.String)
                    {
                        timestampType = ReadTimestampType(ref reader, cursor, ref problem);
                    }
                    else
                    {
                        reader.Skip();
                    }

                    break;
                case RecordField.Key:
                case RecordField.Value:
                    var name = field == RecordField.Key ? "key" : "value";
                    var bytes = ByteRange.Null;
                    if (token == JsonTokenType.String)
                    {
                        bytes = ReadBase64(ref reader, cursor, batch, name, ref problem);
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        problem = cursor.WrongType(ref reader, name, "a base64 string or null");
                    }

                    if (field == RecordField.Key)
                    {
                        key = bytes;
                    }
                    else
                    {
                        value = bytes;
                    }

                    break;
                case RecordField.Headers:
                    if (token == JsonTokenType.StartArray)
                    {
                        HeadersReader.Read(ref reader, payload, cursor, batch, ref problem);
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        problem = cursor.WrongType(ref reader, "headers", "an array of objects");
                    }

                    break;
                case RecordField.ValueSchemaMetadata:
                    hasSchema = true;
                    valueFormat = ReadSchemaFormat(ref reader, cursor, ref problem);
                    break;
                case RecordField.KeySchemaMetadata:
                    hasSchema = true;
                    reader.Skip();
                    break;
                default:
                    reader.Skip();
                    break;
            }

            error ??= problem;
        }

        var recordEnd = (int)cursor.End(ref reader);
        var missing = Missing(hasTopic, partition >= 0, offset >= 0);
        if (missing is not null)
        {
            error = $"record at byte {recordStart} of records key '{mapKey}' has no valid {missing}: it is kept under its place in the event" + (error is null ? string.Empty : "; " + error);
        }

        if (error is not null)
        {
            // Keep what was sent: the record's JSON text, so the dead-letter table can show it.
            value = batch.Copy(payload[recordStart..recordEnd]);
        }

        var record = new KafkaRecord(offset, timestamp, timestampType, key, value, headerStart, batch.HeaderCount - headerStart, hasSchema, error)
        {
            ValueSchemaFormat = valueFormat,
        };
        if (missing is not null)
        {
            batch.AddUnidentified(new UnidentifiedRecord(recordStart, mapKey, hasTopic ? Encoding.UTF8.GetString(topic) : string.Empty, partition, record));
        }
        else
        {
            batch.Add(topic, partition, mapKey, in record);
        }
    }

    /// <summary>"topic, offset" for the parts of the identity that are missing; null when the record has all three.</summary>
    private static string? Missing(bool topic, bool partition, bool offset)
    {
        if (topic && partition && offset)
        {
            return null;
        }

        List<string> names = [];
        if (!topic)
        {
            names.Add("'topic'");
        }

        if (!partition)
        {
            names.Add("'partition'");
        }

        if (!offset)
        {
            names.Add("'offset'");
        }

        return string.Join(", ", names);
    }

    /// <summary>Base64 of a key or value, unescaped first when it has escapes (<c>"\/"</c>, <c>"\u002B"</c>).</summary>
    private static ByteRange ReadBase64(ref Utf8JsonReader reader, EventCursor cursor, BatchBuilder batch, string field, ref string? problem)
    {
        var src = reader.ValueSpan;
        var dest = batch.Free(src.Length);
        OperationStatus status;
        int written;
        if (reader.ValueIsEscaped)
        {
            if (!JsonUnicode.TryCopy(ref reader, dest, out var n))
            {
                problem = cursor.InvalidUnicode(ref reader, $"field '{field}'");
                return ByteRange.Null;
            }

            status = System.Buffers.Text.Base64.DecodeFromUtf8InPlace(dest[..n], out written);
            if (status != OperationStatus.Done)
            {
                // The in-place attempt may have overwritten the text: unescape it again for the lenient decoder.
                n = reader.CopyString(dest);
                status = LenientBase64.DecodeNonCanonical(dest[..n], dest, out written);
            }
        }
        else
        {
            status = LenientBase64.Decode(src, dest, out written);
        }

        if (status != OperationStatus.Done)
        {
            problem = $"field '{field}' is not valid base64 (at byte {cursor.Start(ref reader)})";
            return ByteRange.Null;
        }

        return batch.Commit(written);
    }

    private static TimestampType ReadTimestampType(ref Utf8JsonReader reader, EventCursor cursor, ref string? problem)
    {
        var create = JsonUnicode.TextEquals(ref reader, "CREATE_TIME"u8, out var valid);
        if (!valid)
        {
            problem = cursor.InvalidUnicode(ref reader, "field 'timestampType'");
            return TimestampType.NoTimestampType;
        }

        return create ? TimestampType.CreateTime
            : JsonUnicode.TextEquals(ref reader, "LOG_APPEND_TIME"u8, out _) ? TimestampType.LogAppendTime
            : TimestampType.NoTimestampType;
    }

    private static SchemaDataFormat ReadSchemaFormat(ref Utf8JsonReader reader, EventCursor cursor, ref string? problem)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return SchemaDataFormat.None;
        }

        var format = SchemaDataFormat.Other;
        while (cursor.Next(ref reader) == JsonTokenType.PropertyName)
        {
            var isFormat = JsonUnicode.TextEquals(ref reader, "dataFormat"u8, out var valid);
            if (!valid)
            {
                problem ??= cursor.InvalidUnicode(ref reader, "a field name of 'valueSchemaMetadata'");
            }

            cursor.Next(ref reader);
            if (isFormat && reader.TokenType == JsonTokenType.String)
            {
                format = JsonUnicode.TextEquals(ref reader, "AVRO"u8, out valid) ? SchemaDataFormat.Avro
                    : JsonUnicode.TextEquals(ref reader, "PROTOBUF"u8, out _) ? SchemaDataFormat.Protobuf
                    : JsonUnicode.TextEquals(ref reader, "JSON"u8, out _) ? SchemaDataFormat.Json
                    : SchemaDataFormat.Other;
                if (!valid)
                {
                    problem ??= cursor.InvalidUnicode(ref reader, "field 'dataFormat'");
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return format;
    }
}
