using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Decoding;

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

/// <summary>What to do with a record whose value is null (a Kafka tombstone).</summary>
public enum TombstonePolicy
{
    /// <summary>Count it and skip it.</summary>
    Skip,

    /// <summary>Write it to the dead-letter table.</summary>
    DeadLetter,
}

/// <summary>ClickPipes-style virtual columns the sink fills when the target table has them.</summary>
[Flags]
public enum MetadataColumns
{
    None = 0,
    Topic = 1,
    Partition = 2,
    Offset = 4,
    Timestamp = 8,
    TimestampType = 16,
    Key = 32,
    Headers = 64,

    /// <summary><c>_source</c>: the source cluster (eventSourceArn or bootstrapServers), so presence probes tell sources apart.</summary>
    Source = 128,
}

/// <summary>Everything the row encoder needs to know about one target table.</summary>
public sealed record TableShape(TableName Table, MetadataColumns Metadata, ValueFormat Format, string StringColumn)
{
    /// <summary>True when the table can answer "which offsets of this partition are present".</summary>
    public bool HasOffsetColumns =>
        (Metadata & (MetadataColumns.Topic | MetadataColumns.Partition | MetadataColumns.Offset))
        == (MetadataColumns.Topic | MetadataColumns.Partition | MetadataColumns.Offset);
}
