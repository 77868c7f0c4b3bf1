using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats.Avro;
using MskClickHouse.Core.Formats.Registry;





namespace MskClickHouse.Core.Formats;

/// <summary>
/// What the encoder needs to decode the values of one schema id: the compiled Avro schema, or "the payload is JSON",
/// or why values of this id cannot be decoded (unknown id, a schema that does not parse, a type not supported);
/// such values are dead-lettered with that reason. Immutable, shared by all threads.
/// </summary>
public sealed class CompiledSchema
{
    private CompiledSchema(SchemaType type, AvroType? avro, string? failure, MetadataColumns ownMetadata, Protobuf.ProtoSchemaParser.ProtoFile? proto = null)
    {
        Proto = proto;
        Type = type;
        Avro = avro;
        Failure = failure;
        OwnMetadataFields = ownMetadata;
    }

    public SchemaType Type { get; }

    public AvroType? Avro { get; }

    /// <summary>The parsed .proto of a Protobuf schema; the message is chosen per value (Confluent message indexes).</summary>
    public Protobuf.ProtoSchemaParser.ProtoFile? Proto { get; }

    /// <summary>
    /// The message a Confluent message-index path names (the first message for Glue, whose framing has no index);
    /// null with <paramref name="reason"/> when the path does not exist in the schema.
    /// </summary>
    public Protobuf.ProtoMessage? MessageAt(ReadOnlySpan<int> path, out string? reason)
    {
        reason = null;
        var list = Proto!.Messages;
        Protobuf.ProtoMessage? m = null;
        foreach (var index in path)
        {
            if (index >= list.Count)
            {
                reason = $"message index {index} is out of the {list.Count} messages at that level of the schema";
                return null;
            }

            m = list[index];
            list = m.Nested;
        }

        return m;
    }

    /// <summary>Why values of this schema are dead-lettered; null when they can be decoded.</summary>
    public string? Failure { get; }

    /// <summary>For a Debezium envelope in Avro: the Connect logical types of its row fields (<c>connect.name</c>); else empty.</summary>
    public Cdc.ChangeEventSchema ChangeEventTypes { get; private init; } = Cdc.ChangeEventSchema.Empty;

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

                    return new CompiledSchema(SchemaType.Avro, root, null, own) { ChangeEventTypes = Cdc.ChangeEventSchema.FromAvro(schema.Text) };
                }
                catch (AvroSchemaException e)
                {
                    return Failed($"{id}: the registry's Avro schema cannot be used: {e.Message}");
                }

            default:
                try
                {
                    var file = Protobuf.ProtoSchemaParser.Parse(schema.Text);
                    if (file.Messages.Count == 0)
                    {
                        return Failed($"{id}: the registry's .proto defines no message");
                    }

                    var own = MetadataColumns.None;
                    foreach (var m in file.Messages)
                    {
                        foreach (var f in m.Fields)
                        {
                            own |= ColumnSet.FlagOf(f.Name);
                        }
                    }

                    return new CompiledSchema(SchemaType.Protobuf, null, null, own, file);
                }
                catch (Protobuf.ProtoSchemaException e)
                {
                    return Failed($"{id}: the registry's .proto cannot be used: {e.Message}");
                }
        }
    }
}
