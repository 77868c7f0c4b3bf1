namespace MskClickHouse.Core.Formats.Framing;

/// <summary>Which registry a framed value names its schema in.</summary>
public enum RegistryKind : byte
{
    /// <summary>Confluent wire format: magic byte 0x00 and a 4-byte big-endian schema id.</summary>
    Confluent = 1,

    /// <summary>AWS Glue Schema Registry: header version byte 0x03, a compression byte and a 16-byte schema version id.</summary>
    Glue = 2,
}

/// <summary>
/// The schema a framed value was written with: a Confluent schema id or a Glue schema version id. A value type, so a
/// cache can be keyed by it without allocating.
/// </summary>
public readonly record struct SchemaRef(RegistryKind Kind, int ConfluentId, Guid GlueVersionId)
{
    public static SchemaRef Confluent(int id) => new(RegistryKind.Confluent, id, Guid.Empty);

    public static SchemaRef Glue(Guid versionId) => new(RegistryKind.Glue, 0, versionId);

    /// <summary>As people look it up: "Confluent schema id 42" or "Glue schema version 0b3c...".</summary>
    public override string ToString() =>
        Kind == RegistryKind.Confluent ? $"Confluent schema id {ConfluentId}" : $"Glue schema version {GlueVersionId}";
}
