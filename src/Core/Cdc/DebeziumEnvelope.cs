using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MskClickHouse.Core.Cdc;

/// <summary>What one change event became: a row (in <see cref="DebeziumEnvelope.Map"/>'s output), or why not.</summary>
public readonly record struct ChangeEventResult(ChangeEventKind Kind, string? Reason = null);

/// <summary>
/// Maps one Debezium change event (a JSON object: the envelope itself, or JsonConverter's <c>{"schema":…,"payload":…}</c>
/// around it) onto the row of a <c>ReplacingMergeTree(_version, _is_deleted)</c> table. Pure: the same event and
/// offset always give the same row.
/// <list type="bullet">
/// <item>op <c>c</c>, <c>r</c>, <c>u</c>: the <c>after</c> object with <c>_is_deleted = 0</c>;</item>
/// <item>op <c>d</c>: the <c>before</c> object (it may hold only the key columns) with <c>_is_deleted = 1</c>;</item>
/// <item><c>_version</c>: the record's Kafka offset (Debezium keeps a key in one partition, so a key's changes ascend);</item>
/// <item>op <c>t</c> is <see cref="ChangeEventKind.Truncate"/>, a null payload a <see cref="ChangeEventKind.Tombstone"/>;</item>
/// <item>anything else is <see cref="ChangeEventKind.Malformed"/>, with the field at fault in the reason.</item>
/// </list>
/// With a schema (in the event, or the registry types of <see cref="Map"/> from the registry's Avro schema), fields of the
/// Connect logical types <see cref="ConnectValues"/> knows are converted; without, every value passes through.
/// </summary>
public static class DebeziumEnvelope
{
    private static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 256 };

    private static readonly JsonWriterOptions WriteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? scratch;

    /// <summary>
    /// Maps <paramref name="value"/> (one JSON object); on <see cref="ChangeEventKind.Row"/>, <paramref name="row"/>
    /// is the row as one JSON object, valid until the next call on this thread.
    /// </summary>
    public static ChangeEventResult Map(ReadOnlySpan<byte> value, long offset, ChangeEventSchema? registryTypes, out ReadOnlySpan<byte> row)
    {
        row = default;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value.ToArray(), ReadOptions);
        }
        catch (JsonException e)
        {
            return Malformed($"change event is not JSON: {e.Message}");
        }

        using (document)
        {
            var envelope = document.RootElement;
            if (envelope.ValueKind != JsonValueKind.Object)
            {
                return Malformed($"change event is {envelope.ValueKind}, expected an object");
            }

            var types = registryTypes ?? ChangeEventSchema.Empty;
            if (envelope.TryGetProperty("payload", out var payload) && envelope.TryGetProperty("schema", out var schema) && !envelope.TryGetProperty("op", out _))
            {
                // JsonConverter with schemas.enable=true: the schema travels with every event.
                if (payload.ValueKind == JsonValueKind.Null)
                {
                    return new ChangeEventResult(ChangeEventKind.Tombstone);
                }

                envelope = payload;
                types = schema.ValueKind == JsonValueKind.Object ? ChangeEventSchema.FromConnect(schema) : ChangeEventSchema.Empty;
                if (envelope.ValueKind != JsonValueKind.Object)
                {
                    return Malformed($"change event's 'payload' is {envelope.ValueKind}, expected the envelope object");
                }
            }

            if (!envelope.TryGetProperty("op", out var op) || op.ValueKind != JsonValueKind.String)
            {
                return Malformed(op.ValueKind == JsonValueKind.Undefined
                    ? "change event has no 'op' field (is this topic's value a Debezium envelope? CDC_TOPICS names the topics that are)"
                    : $"change event's 'op' is {op.ValueKind}, expected a string");
            }

            var (image, deleted) = op.GetString() switch
            {
                "c" or "r" or "u" => ("after", false),
                "d" => ("before", true),
                "t" => (null, false),
                var other => ("?" + other, false),
            };
            if (image is null)
            {
                return new ChangeEventResult(ChangeEventKind.Truncate);
            }

            if (image[0] == '?')
            {
                return Malformed($"change event's 'op' is '{image[1..]}', expected c, r, u, d or t");
            }

            if (!envelope.TryGetProperty(image, out var fields) || fields.ValueKind != JsonValueKind.Object)
            {
                var found = fields.ValueKind == JsonValueKind.Undefined ? "missing" : fields.ValueKind.ToString().ToLowerInvariant();
                return Malformed($"change event with op '{op.GetString()}' needs the '{image}' object, got {found}");
            }

            return Write(fields, types, offset, deleted, out row);
        }
    }

    private static ChangeEventResult Write(JsonElement fields, ChangeEventSchema types, long offset, bool deleted, out ReadOnlySpan<byte> row)
    {
        row = default;
        var buffer = scratch ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, WriteOptions))
        {
            writer.WriteStartObject();
            foreach (var field in fields.EnumerateObject())
            {
                if (field.NameEquals(ChangeColumns.Version) || field.NameEquals(ChangeColumns.IsDeleted))
                {
                    return Malformed($"the row has its own '{field.Name}' field, which the change-event mapping writes");
                }

                writer.WritePropertyName(field.Name);
                if (types.Count > 0 && types.Find(field.Name) is { } type)
                {
                    if (ConnectValues.Write(writer, type, field.Value) is { } reason)
                    {
                        return Malformed($"field '{field.Name}': {reason}");
                    }
                }
                else
                {
                    writer.WriteRawValue(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(field.Value), skipInputValidation: true);
                }
            }

            writer.WriteNumber(ChangeColumns.Version, offset);
            writer.WriteNumber(ChangeColumns.IsDeleted, deleted ? 1 : 0);
            writer.WriteEndObject();
        }

        row = buffer.WrittenSpan;
        return new ChangeEventResult(ChangeEventKind.Row);
    }

    private static ChangeEventResult Malformed(string reason) => new(ChangeEventKind.Malformed, reason);
}
