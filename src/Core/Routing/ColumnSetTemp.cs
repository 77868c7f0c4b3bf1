// TEMPORARY until the decoder branch merges.
using MskClickHouse.Core.Decoding;

namespace MskClickHouse.Core.Routing;

public static class ColumnSet
{
    public static MetadataColumns MetadataOf(IEnumerable<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var m = MetadataColumns.None;
        foreach (var c in columns)
        {
            m |= c switch
            {
                "_topic" => MetadataColumns.Topic,
                "_partition" => MetadataColumns.Partition,
                "_offset" => MetadataColumns.Offset,
                "_timestamp" => MetadataColumns.Timestamp,
                "_timestamp_type" => MetadataColumns.TimestampType,
                "_key" => MetadataColumns.Key,
                "_headers" => MetadataColumns.Headers,
                _ => MetadataColumns.None,
            };
        }

        return m;
    }
}
