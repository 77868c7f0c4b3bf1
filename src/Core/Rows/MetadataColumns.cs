namespace MskClickHouse.Core.Rows;

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

/// <summary>Named sets of <see cref="MetadataColumns"/>.</summary>
public static class MetadataColumnSets
{
    /// <summary>
    /// The seven columns ClickPipes fills (<c>_topic</c> … <c>_headers</c>), without the sink's own <c>_source</c>.
    /// A constant, not an enum member, so that a flags value still prints as its column names.
    /// </summary>
    public const MetadataColumns ClickPipes =
        MetadataColumns.Topic | MetadataColumns.Partition | MetadataColumns.Offset | MetadataColumns.Timestamp
        | MetadataColumns.TimestampType | MetadataColumns.Key | MetadataColumns.Headers;
}
