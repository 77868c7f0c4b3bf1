using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Rows;

/// <summary>Checks that a value is one JSON object ClickHouse will parse, and says why when it is not.</summary>
public static partial class RowEncoder
{
    /// <summary>
    /// Null when <paramref name="value"/> is one JSON object and nothing else; otherwise why not.
    /// <paramref name="inner"/> is the object after its opening brace, through its closing brace.
    /// </summary>
    internal static string? ValidateObject(ReadOnlySpan<byte> value, MetadataColumns meta, SchemaDataFormat schemaFormat, out ReadOnlySpan<byte> inner)
    {
        inner = default;
        var first = value.IndexOfAnyExcept(Whitespace);
        if (first < 0)
        {
            return value.IsEmpty ? "value is empty, expected a JSON object" : "value is only whitespace, expected a JSON object";
        }

        if (value[first] != (byte)'{')
        {
            var kind = value[first] switch
            {
                (byte)'[' => "a JSON array",
                (byte)'"' => "a JSON string",
                (byte)'t' or (byte)'f' => "a JSON boolean",
                (byte)'n' => "JSON null",
                (byte)'-' or (>= (byte)'0' and <= (byte)'9') => "a JSON number",
                _ => null,
            };
            if (kind is not null && IsValidJson(value))
            {
                return $"value is {kind}, expected an object";
            }

            return NotJsonReason(value, schemaFormat, first, "it does not start with '{'");
        }

        var reader = new Utf8JsonReader(value, ValidationOptions);
        try
        {
            reader.Read();
            if (meta == MetadataColumns.None)
            {
                reader.Skip();
            }
            else
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    // At depth 1: a property name of the row; its value is skipped whole.
                    var name = reader.ValueSpan;
                    if (name.Length > 0 && name[0] == (byte)'_' && !reader.ValueIsEscaped)
                    {
                        var flag = ColumnSet.FlagOf(name);
                        if ((flag & meta) != 0)
                        {
                            return $"value has its own top-level '{ColumnSet.NameOf(flag)}' field, which is also a metadata column of the table";
                        }
                    }

                    reader.Read();
                    reader.Skip();
                }
            }

            var end = (int)reader.BytesConsumed;
            var trailing = value[end..].IndexOfAnyExcept(Whitespace);
            if (trailing >= 0)
            {
                return $"value has trailing data after the JSON object at byte {end + trailing}";
            }

            if (!Utf8.IsValid(value))
            {
                return $"value is not valid UTF-8 at byte {FirstInvalidUtf8(value)}";
            }

            inner = value[(first + 1)..end];
            return null;
        }
        catch (JsonException ex)
        {
            var at = ex.LineNumber is long line && ex.BytePositionInLine is long inLine
                ? KafkaEventDecoder.AbsolutePosition(value, line, inLine, reader.BytesConsumed)
                : reader.BytesConsumed;
            return NotJsonReason(value, schemaFormat, at, KafkaEventDecoder.StripPosition(ex.Message));
        }
    }

    private static string NotJsonReason(ReadOnlySpan<byte> value, SchemaDataFormat schemaFormat, long at, string message)
    {
        if (schemaFormat is SchemaDataFormat.Avro or SchemaDataFormat.Protobuf)
        {
            var name = schemaFormat == SchemaDataFormat.Avro ? "AVRO" : "PROTOBUF";
            return $"value is {name} in SOURCE format; set EventRecordFormat to JSON on the event source mapping, or VALUE_FORMAT={name.ToLowerInvariant()} to decode it in the function";
        }

        if (!Utf8.IsValid(value) || value.IndexOf((byte)0) >= 0)
        {
            return $"value is not valid JSON: binary data (not UTF-8 text) at byte {FirstInvalidUtf8(value)}; Avro or Protobuf topics need a schema registry with EventRecordFormat JSON on the event source mapping";
        }

        return $"value is not valid JSON: {message} at byte {at}";
    }

    private static bool IsValidJson(ReadOnlySpan<byte> value)
    {
        var reader = new Utf8JsonReader(value, ValidationOptions);
        try
        {
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> value)
    {
        var i = 0;
        while (i < value.Length)
        {
            if (value[i] == 0 || System.Text.Rune.DecodeFromUtf8(value[i..], out _, out var consumed) != OperationStatus.Done)
            {
                return i;
            }

            i += consumed;
        }

        return i;
    }
}
