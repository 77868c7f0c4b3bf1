using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Evolution;

/// <summary>
/// The DDL statements of schema evolution and table creation. Pure. Both are idempotent (<c>IF NOT EXISTS</c>), so two
/// invocations issuing them at once, or a retry after a lost answer, both succeed and change the table once.
/// </summary>
public static class EvolutionDdl
{
    /// <summary>
    /// The deduplication window of a created table, in blocks: ReplicatedMergeTree's default (10000), which covers the
    /// ~40 blocks per partition a retry may reach back across (<see cref="DeduplicationWindowCheck"/>) for 250 partitions.
    /// </summary>
    public const int DeduplicationWindow = 10000;

    /// <summary>The metadata columns of a created table: all the sink fills (ClickPipes' seven and <c>_source</c>).</summary>
    public static readonly IReadOnlyList<(string Name, string Type)> MetadataColumns =
    [
        (ColumnSet.Topic, "LowCardinality(String)"),
        (ColumnSet.Partition, "Int32"),
        (ColumnSet.Offset, "Int64"),
        (ColumnSet.Timestamp, "DateTime64(3, 'UTC')"),
        (ColumnSet.TimestampType, "LowCardinality(String)"),
        (ColumnSet.Key, "Nullable(String)"),
        (ColumnSet.Headers, "Map(String, String)"),
        (ColumnSet.Source, "LowCardinality(String)"),
    ];

    /// <summary>One <c>ALTER TABLE</c> adding every field as a Nullable column (a field without a type: Nullable(String)).</summary>
    public static string AddColumns(TableName table, IReadOnlyList<NewField> fields)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0)
        {
            throw new ArgumentException("no column to add", nameof(fields));
        }

        return $"ALTER TABLE {table.Sql} " + string.Join(", ", fields.Select(f => $"ADD COLUMN IF NOT EXISTS {Column(f)}"));
    }

    /// <summary>
    /// <c>CREATE TABLE IF NOT EXISTS</c>: the metadata columns, then the fields; MergeTree ordered by the offset columns
    /// (the presence probe of a retried batch reads by them) with the deduplication window exactly-once needs.
    /// </summary>
    public static string CreateTable(TableName table, IReadOnlyList<NewField> fields)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(fields);
        var columns = MetadataColumns.Select(c => $"{SqlIdentifier.Quote(c.Name)} {c.Type}").Concat(fields.Select(Column));
        return $"CREATE TABLE IF NOT EXISTS {table.Sql} ({string.Join(", ", columns)}) " +
            $"ENGINE = MergeTree ORDER BY ({ColumnSet.Topic}, {ColumnSet.Partition}, {ColumnSet.Offset}) " +
            $"SETTINGS non_replicated_deduplication_window = {DeduplicationWindow}";
    }

    private static string Column(NewField f) => $"{SqlIdentifier.Quote(f.Name)} {ColumnTypes.Nullable(f.Type ?? ColumnTypes.String)}";

}
