using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Rows;

/// <summary>Everything the row encoder and delivery need to know about one target table.</summary>
public sealed record TableShape(TableName Table, MetadataColumns Metadata, ValueFormat Format, string StringColumn)
{
    /// <summary>CDC_FORMAT for this topic: its values are change events mapped onto rows (src/Core/Cdc), or rows.</summary>
    public ChangeEventFormat ChangeEvents { get; init; } = ChangeEventFormat.None;

    private const MetadataColumns OffsetColumns = MetadataColumns.Topic | MetadataColumns.Partition | MetadataColumns.Offset;

    /// <summary>True when the rows carry <c>_topic</c>, <c>_partition</c> and <c>_offset</c>.</summary>
    public bool HasOffsetColumns => (Metadata & OffsetColumns) == OffsetColumns;

    /// <summary>
    /// Where "which of these records are present" is asked: the table itself (the default), the stored table behind a
    /// Null landing table (<see cref="WithTopology"/>), or nowhere (null: the table keeps no rows a read would see).
    /// </summary>
    public TableName? PresenceTable { get; init; } = Table;

    /// <summary>The metadata columns of <see cref="PresenceTable"/> that carry each record's own values.</summary>
    public MetadataColumns PresenceMetadata { get; init; } = Metadata;

    /// <summary>An insert into the table also writes through materialized views.</summary>
    public bool HasMaterializedViews { get; init; }

    /// <summary>
    /// True when a table can answer which records of a partition are present: the rows carry the offset columns and
    /// <see cref="PresenceTable"/> keeps them. Such a table takes the fill path and the presence probes; any other
    /// relies on its tokens alone (docs/exactly-once.md, per topology).
    /// </summary>
    public bool CanProbe => HasOffsetColumns && PresenceTable is not null && (PresenceMetadata & OffsetColumns) == OffsetColumns;

    /// <summary>
    /// The shape for a table as the catalog found it: a table that keeps rows answers for itself; a table that keeps none
    /// (Null, Buffer, Distributed, …) answers through the one stored table its one view passes the offset columns to
    /// (<paramref name="storedBehind"/>, when it exists and keeps rows), else not at all.
    /// </summary>
    public TableShape WithTopology(TableInfo table, TableInfo? storedBehind)
    {
        ArgumentNullException.ThrowIfNull(table);
        var shape = this with { HasMaterializedViews = table.HasMaterializedViews };
        if (table.StoresRows)
        {
            return shape with { PresenceTable = Table, PresenceMetadata = Metadata };
        }

        if (table.StoredBehind is { } behind && storedBehind is { Exists: true, StoresRows: true } stored && stored.Table == behind)
        {
            var view = table.Views[0];
            var passed = ColumnSet.MetadataOf(stored.Columns.Where(view.PassesThrough));
            return shape with { PresenceTable = behind, PresenceMetadata = Metadata & passed };
        }

        return shape with { PresenceTable = null, PresenceMetadata = MetadataColumns.None };
    }
}
