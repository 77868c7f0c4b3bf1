namespace MskClickHouse.Core.Formats.Registry;

/// <summary>The kind of schema a registry holds (Confluent <c>schemaType</c>, Glue <c>DataFormat</c>).</summary>
public enum SchemaType
{
    Avro,
    Protobuf,
    Json,
}

/// <summary>A schema as a registry returns it: its type and its text (Avro JSON, .proto text, or JSON Schema).</summary>
public sealed record RegistrySchema(SchemaType Type, string Text);
