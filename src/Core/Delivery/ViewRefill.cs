using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Gives a table's materialized views a range the table holds but a view failed on. ClickHouse commits the table's
/// block before it pushes the block to the views, so a view that throws leaves the rows in the table and none in the
/// view's table. A re-send under the range's first token is dropped by the table and taken by each view's table that
/// lacks it (the token is passed on, <c>deduplicate_blocks_in_dependent_materialized_views</c>) — but only once per view:
/// a redelivery that carries part of the range would spend the views' token on that part, and the rest would never
/// reach them. So the whole range is re-sent from the rows the table holds, as one <c>INSERT … SELECT</c> under the
/// range's first token: the table drops it (the token is in its window), a view's table takes the whole range or drops it.
/// </summary>
public static class ViewRefill
{
    /// <summary>
    /// The re-send of <paramref name="range"/>'s rows of this partition (and source) from <paramref name="table"/> into
    /// itself. All or nothing: it sends no row when some offset of the range holds two rows (the same offsets of a
    /// recreated topic or a rewind), whose older copy its views may hold already. Run under the range's first token, and
    /// only when that token is known to be spent in the table on the rows it holds for the range (a view rejected it and
    /// the state records it, or the records were found there on the range's first redelivery), otherwise the table would
    /// take the rows as a new block. <c>ORDER BY</c> makes the SELECT stable, which an
    /// INSERT SELECT needs to be deduplicated (<c>deduplicate_insert_select</c>).
    /// </summary>
    public static string Sql(TableName table, MetadataColumns metadata, string source, string topic, int partition, OffsetRange range)
    {
        ArgumentNullException.ThrowIfNull(table);
        var bySource = (metadata & MetadataColumns.Source) != 0 ? $" AND _source = {SqlIdentifier.Literal(source)}" : string.Empty;
        var rows = $"_topic = {SqlIdentifier.Literal(topic)} AND _partition = {Num(partition)}{bySource} AND _offset BETWEEN {Num(range.First)} AND {Num(range.Last)}";
        return $"INSERT INTO {table.Sql} SELECT * FROM {table.Sql} WHERE {rows} " +
            $"AND (SELECT count() = uniqExact(_offset) FROM {table.Sql} WHERE {rows}) ORDER BY _offset";
    }

    /// <summary>Whether a presence answer (<see cref="RecordPresence.TableQuery"/>: offset first on each line) has one line per offset.</summary>
    public static bool OneRowPerOffset(ReadOnlyMemory<byte> tsv) => RecordPresence.Offsets(tsv).Count == tsv.Split().Count();

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
