using MskClickHouse.Core.Decoding;
using MskClickHouse.Core.Formats.Avro;
using MskClickHouse.Core.Formats.Registry;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Formats;

/// <summary>
/// What the encoder needs to decode the values of one schema id: the compiled Avro schema, or "the payload is JSON",
/// or why values of this id cannot be decoded (unknown id, a schema that does not parse, a type not supported);
/// such values are dead-lettered with that reason. Immutable, shared by all threads.
/// </summary>
public sealed class CompiledSchema
{
    private CompiledSchema(SchemaType type, AvroType? avro, string? failure, MetadataColumns ownMetadata)
    {
        Type = type;
        Avro = avro;
        Failure = failure;
        OwnMetadataFields = ownMetadata;
    }

    public SchemaType Type { get; }

    public AvroType? Avro { get; }

    /// <summary>Why values of this schema are dead-lettered; null when they can be decoded.</summary>
    public string? Failure { get; }

    /// <summary>Top-level fields of the schema named like a metadata column (_topic, _offset...): they would collide.</summary>
    public MetadataColumns OwnMetadataFields { get; }

    public static CompiledSchema Failed(string reason) => new(SchemaType.Avro, null, reason, MetadataColumns.None);

    /// <summary>Compiles what a registry returned for <paramref name="id"/>. Never throws: a bad schema becomes <see cref="Failure"/>.</summary>
    public static CompiledSchema Compile(Framing.SchemaRef id, RegistrySchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        switch (schema.Type)
        {
            case SchemaType.Json:
                return new CompiledSchema(SchemaType.Json, null, null, MetadataColumns.None);
            case SchemaType.Avro:
                try
                {
                    var root = AvroSchemaParser.Parse(schema.Text);
                    if (root.Kind != AvroKind.Record)
                    {
                        return Failed($"{id} is an Avro {root}, not a record: only records map to table columns");
                    }

                    var own = MetadataColumns.None;
                    foreach (var f in root.Fields)
                    {
                        own |= ColumnSet.FlagOf(f.Name);
                    }

                    return new CompiledSchema(SchemaType.Avro, root, null, own);
                }
                catch (AvroSchemaException e)
                {
                    return Failed($"{id}: the registry's Avro schema cannot be used: {e.Message}");
                }

            default:
                return Failed($"{id} is a Protobuf schema: this version of the function does not decode Protobuf; decode it in the event source mapping (EventRecordFormat JSON, docs/schema-registry.md)");
        }
    }
}
