using System.Text.Json;

namespace MskClickHouse.Core.Formats.Avro;

/// <summary>An Avro schema the transcoder cannot use (not valid JSON, an unknown type, a name never defined).</summary>
public sealed class AvroSchemaException(string message) : Exception(message);

/// <summary>
/// Parses an Avro schema (the JSON text a registry returns) into <see cref="AvroType"/> nodes with
/// <see cref="JsonDocument"/> (no reflection, AOT-safe). Named types (record, enum, fixed) are registered under their
/// full name before their fields are read, so recursive references resolve. Unknown logical types fall back to their
/// underlying type, as the Avro specification requires.
/// </summary>
public static class AvroSchemaParser
{
    public static AvroType Parse(string schemaJson)
    {
        ArgumentNullException.ThrowIfNull(schemaJson);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(schemaJson, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new AvroSchemaException($"the Avro schema is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var named = new Dictionary<string, AvroType>(StringComparer.Ordinal);
            return ParseType(document.RootElement, null, named);
        }
    }

    private static AvroType ParseType(JsonElement e, string? enclosingNamespace, Dictionary<string, AvroType> named)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return Primitive(e.GetString()!, enclosingNamespace, named);
            case JsonValueKind.Array:
                var branches = new List<AvroType>();
                foreach (var b in e.EnumerateArray())
                {
                    branches.Add(ParseType(b, enclosingNamespace, named));
                }

                if (branches.Count == 0)
                {
                    throw new AvroSchemaException("a union has no branches");
                }

                return new AvroType(AvroKind.Union) { Branches = [.. branches] };
            case JsonValueKind.Object:
                return ParseObject(e, enclosingNamespace, named);
            default:
                throw new AvroSchemaException($"expected a type name, a union array or a type object, found {e.ValueKind}");
        }
    }

    private static AvroType Primitive(string name, string? ns, Dictionary<string, AvroType> named) => name switch
    {
        "null" => new AvroType(AvroKind.Null),
        "boolean" => new AvroType(AvroKind.Boolean),
        "int" => new AvroType(AvroKind.Int),
        "long" => new AvroType(AvroKind.Long),
        "float" => new AvroType(AvroKind.Float),
        "double" => new AvroType(AvroKind.Double),
        "bytes" => new AvroType(AvroKind.Bytes),
        "string" => new AvroType(AvroKind.String),
        _ => named.TryGetValue(FullName(name, ns), out var t) || named.TryGetValue(name, out t)
            ? t
            : throw new AvroSchemaException($"type '{name}' is neither a primitive nor a named type defined before it"),
    };

    private static AvroType ParseObject(JsonElement e, string? ns, Dictionary<string, AvroType> named)
    {
        if (!e.TryGetProperty("type", out var typeElement))
        {
            throw new AvroSchemaException("a type object has no 'type'");
        }

        if (typeElement.ValueKind != JsonValueKind.String)
        {
            // {"type": {...}} or {"type": [...]}: a wrapped type.
            return ParseType(typeElement, ns, named);
        }

        var type = typeElement.GetString()!;
        var logical = e.TryGetProperty("logicalType", out var lt) && lt.ValueKind == JsonValueKind.String ? lt.GetString() : null;
        switch (type)
        {
            case "record" or "error":
                return ParseRecord(e, ns, named);
            case "enum":
            {
                var (full, _) = Name(e, ns);
                var symbols = new List<byte[]>();
                if (e.TryGetProperty("symbols", out var s) && s.ValueKind == JsonValueKind.Array)
                {
                    foreach (var symbol in s.EnumerateArray())
                    {
                        symbols.Add(JsonValues.Quoted(symbol.GetString() ?? throw new AvroSchemaException($"enum {full} has a symbol that is not a string")));
                    }
                }

                var t = new AvroType(AvroKind.Enum) { FullName = full, Symbols = [.. symbols] };
                Register(named, full, t);
                return t;
            }

            case "fixed":
            {
                var (full, _) = Name(e, ns);
                var size = e.TryGetProperty("size", out var sz) && sz.TryGetInt32(out var n) && n >= 0 ? n : throw new AvroSchemaException($"fixed {full} has no valid 'size'");
                var t = new AvroType(AvroKind.Fixed) { FullName = full, Size = size };
                if (logical == "decimal")
                {
                    t.Kind = AvroKind.Decimal;
                    t.FixedBacked = true;
                    t.Scale = Scale(e);
                }
                else if (logical == "uuid" && size == 16)
                {
                    t.Kind = AvroKind.FixedUuid;
                }

                Register(named, full, t);
                return t;
            }

            case "array":
                return new AvroType(AvroKind.Array) { Items = ParseType(e.GetProperty("items"), ns, named) };
            case "map":
                return new AvroType(AvroKind.Map) { Items = ParseType(e.GetProperty("values"), ns, named) };
            default:
                var primitive = Primitive(type, ns, named);
                return logical is null || primitive.FullName is not null ? primitive : Logical(primitive, logical, e);
        }
    }

    private static AvroType Logical(AvroType primitive, string logical, JsonElement e)
    {
        var kind = (primitive.Kind, logical) switch
        {
            (AvroKind.Int, "date") => AvroKind.Date,
            (AvroKind.Int, "time-millis") => AvroKind.TimeMillis,
            (AvroKind.Long, "time-micros") => AvroKind.TimeMicros,
            (AvroKind.Long, "timestamp-millis" or "local-timestamp-millis") => AvroKind.TimestampMillis,
            (AvroKind.Long, "timestamp-micros" or "local-timestamp-micros") => AvroKind.TimestampMicros,
            (AvroKind.Long, "timestamp-nanos" or "local-timestamp-nanos") => AvroKind.TimestampNanos,
            (AvroKind.Bytes, "decimal") => AvroKind.Decimal,
            _ => primitive.Kind, // uuid on string is the string; unknown logical types are their base type
        };
        return new AvroType(kind)
        {
            Local = logical.StartsWith("local-", StringComparison.Ordinal),
            Scale = kind == AvroKind.Decimal ? Scale(e) : 0,
        };
    }

    private static int Scale(JsonElement e) =>
        !e.TryGetProperty("scale", out var s) ? 0 : s.TryGetInt32(out var n) && n is >= 0 and <= 76 ? n : throw new AvroSchemaException("a decimal has a 'scale' that is not 0..76");

    private static AvroType ParseRecord(JsonElement e, string? ns, Dictionary<string, AvroType> named)
    {
        var (full, recordNs) = Name(e, ns);
        var t = new AvroType(AvroKind.Record) { FullName = full };
        Register(named, full, t);
        if (!e.TryGetProperty("fields", out var fieldsElement) || fieldsElement.ValueKind != JsonValueKind.Array)
        {
            throw new AvroSchemaException($"record {full} has no 'fields' array");
        }

        var fields = new List<AvroField>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in fieldsElement.EnumerateArray())
        {
            var name = f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new AvroSchemaException($"record {full} has a field without a name");
            if (!seen.Add(name))
            {
                throw new AvroSchemaException($"record {full} has field '{name}' twice");
            }

            if (!f.TryGetProperty("type", out var ft))
            {
                throw new AvroSchemaException($"field {full}.{name} has no type");
            }

            fields.Add(new AvroField(name, JsonValues.MemberName(name), ParseType(ft, recordNs, named)));
        }

        t.Fields = [.. fields];
        return t;
    }

    private static (string FullName, string? Namespace) Name(JsonElement e, string? enclosing)
    {
        var name = e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new AvroSchemaException("a named type has no 'name'");
        var ns = e.TryGetProperty("namespace", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : enclosing;
        var full = FullName(name, ns);
        var dot = full.LastIndexOf('.');
        return (full, dot < 0 ? null : full[..dot]);
    }

    private static string FullName(string name, string? ns) =>
        name.Contains('.', StringComparison.Ordinal) || string.IsNullOrEmpty(ns) ? name : ns + "." + name;

    private static void Register(Dictionary<string, AvroType> named, string fullName, AvroType type)
    {
        if (!named.TryAdd(fullName, type))
        {
            throw new AvroSchemaException($"type '{fullName}' is defined twice");
        }
    }
}
