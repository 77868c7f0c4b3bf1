namespace MskClickHouse.Core.Configuration;

/// <summary>How a topic's record values are read.</summary>
public enum ValueFormat
{
    /// <summary>Each value is one JSON object, passed through as one JSONEachRow row.</summary>
    Json,

    /// <summary>The value bytes go into one String column.</summary>
    String,

    /// <summary>Avro binary framed for a schema registry (Confluent or Glue); decoded with the writer schema (src/Core/Formats).</summary>
    Avro,

    /// <summary>Protobuf framed for a schema registry (Confluent or Glue); decoded with the registry's .proto (src/Core/Formats).</summary>
    Protobuf,

    /// <summary>A JSON object framed for a schema registry (Confluent or Glue JSON Schema serializers): framing stripped, then as json.</summary>
    JsonSchema,
}
