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
