using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace MskClickHouse.Core.Cdc;

/// <summary>
/// The Connect logical types of the row fields of a change event (the fields of its <c>before</c>/<c>after</c>
/// structs), read from the schema that travels with the event (JsonConverter, <c>schemas.enable=true</c>) or from the
/// registry's Avro schema (Confluent AvroConverter: <c>connect.name</c>). Only fields whose type the mapping converts
/// are kept; every other field passes through as written.
/// </summary>
public sealed class ChangeEventSchema
{
    public static readonly ChangeEventSchema Empty = new(FrozenDictionary<string, ConnectType>.Empty);

    private readonly FrozenDictionary<string, ConnectType> _fields;

    private ChangeEventSchema(FrozenDictionary<string, ConnectType> fields) => _fields = fields;

    public int Count => _fields.Count;

    public ConnectType? Find(string field) => _fields.TryGetValue(field, out var t) ? t : null;

    /// <summary>
    /// From a JsonConverter schema: <c>{"type":"struct","fields":[{"field":"before","type":"struct","fields":[...]}, ...]}</c>,
    /// each row field <c>{"field":"x","type":"int32","name":"io.debezium.time.Date","parameters":{"scale":"2"}}</c>.
    /// </summary>
    public static ChangeEventSchema FromConnect(JsonElement schema)
    {
        var found = new Dictionary<string, ConnectType>(StringComparer.Ordinal);
        foreach (var image in Array(schema, "fields"))
        {
            if (Text(image, "field") is not ("before" or "after"))
            {
                continue;
            }

            foreach (var field in Array(image, "fields"))
            {
                if (Text(field, "field") is { } name && Text(field, "name") is { } logical)
                {
                    Add(found, name, new ConnectType(logical, ScaleOf(field, "parameters")));
                }
            }
        }

        return Of(found);
    }

    /// <summary>
    /// From a Confluent AvroConverter schema (the registry's text): the envelope record's <c>before</c>/<c>after</c>
    /// field is <c>["null", {"type":"record","fields":[...]}]</c> (or names that record); a row field's type, or its
    /// union's non-null branch, is <c>{"type":"int","connect.name":"io.debezium.time.Date"}</c>. Empty when the text is
    /// not an Avro record of that shape (the mapping then passes values through). A type that also has an Avro
    /// <c>logicalType</c> (a Decimal) is left out: the Avro transcoder writes it converted already.
    /// </summary>
    public static ChangeEventSchema FromAvro(string schemaText)
    {
        ArgumentNullException.ThrowIfNull(schemaText);
        var found = new Dictionary<string, ConnectType>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(schemaText, new JsonDocumentOptions { MaxDepth = 256 });
            foreach (var image in Array(document.RootElement, "fields"))
            {
                if (Text(image, "name") is not ("before" or "after") || RecordOf(image.TryGetProperty("type", out var t) ? t : default) is not { } record)
                {
                    continue;
                }

                foreach (var field in Array(record, "fields"))
                {
                    // A type with an Avro logicalType (the Decimal's "decimal") is written converted by the transcoder already.
                    if (Text(field, "name") is { } name && field.TryGetProperty("type", out var type) && NonNull(type) is { ValueKind: JsonValueKind.Object } typed
                        && Text(typed, "connect.name") is { } logical && Text(typed, "logicalType") is null)
                    {
                        Add(found, name, new ConnectType(logical, ScaleOf(typed, "connect.parameters")));
                    }
                }
            }
        }
        catch (JsonException)
        {
            return Empty;
        }

        return Of(found);
    }

    private static ChangeEventSchema Of(Dictionary<string, ConnectType> found) =>
        found.Count == 0 ? Empty : new ChangeEventSchema(found.ToFrozenDictionary(StringComparer.Ordinal));

    private static void Add(Dictionary<string, ConnectType> found, string name, ConnectType type)
    {
        if (type.IsConverted)
        {
            found[name] = type;
        }
    }

    private static JsonElement? RecordOf(JsonElement type) => NonNull(type) is { ValueKind: JsonValueKind.Object } o && Text(o, "type") == "record" ? o : null;

    /// <summary>A type, or the first non-null branch of a union.</summary>
    private static JsonElement? NonNull(JsonElement type)
    {
        if (type.ValueKind != JsonValueKind.Array)
        {
            return type.ValueKind == JsonValueKind.Undefined ? null : type;
        }

        foreach (var branch in type.EnumerateArray())
        {
            if (!(branch.ValueKind == JsonValueKind.String && branch.ValueEquals("null")))
            {
                return branch;
            }
        }

        return null;
    }

    private static int ScaleOf(JsonElement field, string parameters) =>
        field.TryGetProperty(parameters, out var p) && p.ValueKind == JsonValueKind.Object && Text(p, "scale") is { } s
        && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var scale) && scale is >= 0 and <= 76
            ? scale
            : 0;

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static IEnumerable<JsonElement> Array(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];
}
