using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;





namespace MskClickHouse.Core.Rows;

/// <summary>Everything the row encoder needs to know about one target table.</summary>
public sealed record TableShape(TableName Table, MetadataColumns Metadata, ValueFormat Format, string StringColumn)
{
    /// <summary>CDC_FORMAT for this topic: its values are change events mapped onto rows (src/Core/Cdc), or rows.</summary>
    public ChangeEventFormat ChangeEvents { get; init; } = ChangeEventFormat.None;

    /// <summary>True when the table can answer "which offsets of this partition are present".</summary>
    public bool HasOffsetColumns =>
        (Metadata & (MetadataColumns.Topic | MetadataColumns.Partition | MetadataColumns.Offset))
        == (MetadataColumns.Topic | MetadataColumns.Partition | MetadataColumns.Offset);
}
