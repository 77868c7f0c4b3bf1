using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>The fields of a record the decoder reads; <see cref="Invalid"/> for a name that is not valid Unicode.</summary>
internal enum RecordField
{
    Unknown,
    Invalid,
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

/// <summary>Names a record's property (the reader is on its <see cref="JsonTokenType.PropertyName"/>).</summary>
internal static class RecordFields
{
    public static RecordField Classify(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            var name = reader.ValueSpan;
            switch (name.Length)
            {
                case 3 when name.SequenceEqual("key"u8): return RecordField.Key;
                case 5 when name.SequenceEqual("topic"u8): return RecordField.Topic;
                case 5 when name.SequenceEqual("value"u8): return RecordField.Value;
                case 6 when name.SequenceEqual("offset"u8): return RecordField.Offset;
                case 7 when name.SequenceEqual("headers"u8): return RecordField.Headers;
                case 9 when name.SequenceEqual("partition"u8): return RecordField.Partition;
                case 9 when name.SequenceEqual("timestamp"u8): return RecordField.Timestamp;
                case 13 when name.SequenceEqual("timestampType"u8): return RecordField.TimestampType;
                case 17 when name.SequenceEqual("keySchemaMetadata"u8): return RecordField.KeySchemaMetadata;
                case 19 when name.SequenceEqual("valueSchemaMetadata"u8): return RecordField.ValueSchemaMetadata;
                default: return RecordField.Unknown;
            }
        }

        if (!JsonUnicode.TryGetString(ref reader, out var text))
        {
            return RecordField.Invalid;
        }

        return text switch
        {
            "key" => RecordField.Key,
            "topic" => RecordField.Topic,
            "value" => RecordField.Value,
            "offset" => RecordField.Offset,
            "headers" => RecordField.Headers,
            "partition" => RecordField.Partition,
            "timestamp" => RecordField.Timestamp,
            "timestampType" => RecordField.TimestampType,
            "keySchemaMetadata" => RecordField.KeySchemaMetadata,
            "valueSchemaMetadata" => RecordField.ValueSchemaMetadata,
            _ => RecordField.Unknown,
        };
    }
}
