using MskClickHouse.Core.Formats;

namespace MskClickHouse.Core.Evolution;

/// <summary>
/// The column types a partition's registry schemas give their top-level fields. Avro schemas only: Protobuf and JSON
/// Schema fields take the type of their (transcoded) JSON values. Pure.
/// </summary>
public static class SchemaColumnTypes
{
    public static readonly IReadOnlyDictionary<string, string?> None = new Dictionary<string, string?>();

    public static IReadOnlyDictionary<string, string?> Of(ResolvedSchemas? schemas)
    {
        if (schemas is null || schemas.Count == 0)
        {
            return None;
        }

        var types = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var schema in schemas.All)
        {
            foreach (var field in schema.Avro?.Fields ?? [])
            {
                types.TryAdd(field.Name, AvroColumnTypes.Of(field.Type));
            }
        }

        return types;
    }
}
