using System.Globalization;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Audit;

/// <summary>
/// The SQL text of the audit's three reads, pure. Their cost (docs/operations.md, "Audit"): the plan records of the
/// window (state table, one row per partition per state write); per target table one aggregation per partition over
/// the window's rows (<c>_topic, _partition, _offset</c> and <c>_timestamp</c>, plus <c>_source</c>), the offsets of
/// partitions it flagged only, and range reads on the sort key
/// <c>(_topic, _partition, _offset)</c> for the acknowledged ranges, joined to them with an ASOF JOIN.
/// </summary>
public static class AuditQueries
{
    /// <summary>Ranges per missing-records query: bounds the SQL text (about 60 bytes per range).</summary>
    public const int RangesPerQuery = 2000;

    /// <summary>Whether the state table records range counts (a sink of this version created or migrated it).</summary>
    public static string HasRangeCountsSql(TableName state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return $"SELECT count() FROM system.columns WHERE database = {SqlIdentifier.Literal(state.Database)} AND table = {SqlIdentifier.Literal(state.Table)} AND name = {SqlIdentifier.Literal(ClickHouseStateStore.RangeCountsColumn)} FORMAT TSV";
    }

    /// <summary>The sink's plan records written since <paramref name="since"/>, parsed by <see cref="ClickHouseStateStore.PlanOf"/>.</summary>
    public static string PlanRecordsSql(TableName state, string sinkId, DateTimeOffset since)
    {
        ArgumentNullException.ThrowIfNull(state);
        return $"SELECT source, topic, partition, {ClickHouseStateStore.PlanColumns} FROM {state.Sql} " +
            $"WHERE sink_id = {SqlIdentifier.Literal(sinkId)} AND position(source, '{ClickHouseStateStore.IntentMark}') > 0 AND updated_at >= {Time(since)} FORMAT JSONEachRow";
    }

    /// <summary>
    /// Step 1 of the duplicate check, over the rows whose <c>_timestamp</c> is in the window (a table without
    /// <c>_timestamp</c> is checked whole): the (source, topic, partition)s whose row count exceeds their distinct
    /// offsets (TSV). One aggregation keyed by partition: measured 8x cheaper than grouping by every offset, so a
    /// healthy table costs one scan of four columns.
    /// </summary>
    public static string DuplicatePartitionsSql(TableName table, bool hasSource, bool hasTimestamp, DateTimeOffset since)
    {
        ArgumentNullException.ThrowIfNull(table);
        return $"SELECT {(hasSource ? "_source" : "''")} AS s, _topic AS t, _partition AS p FROM {table.Sql} {Window(hasTimestamp, since)}" +
            "GROUP BY s, t, p HAVING count() > uniqExact(_offset) ORDER BY s, t, p FORMAT TSV";
    }

    /// <summary>
    /// Step 2, only for the partitions step 1 named (range reads on the sort key): their offsets present more than
    /// once, as runs of consecutive offsets: <c>source, topic, partition, first, last, offsets, extra rows</c> (TSV).
    /// </summary>
    public static string DuplicateRangesSql(TableName table, bool hasSource, bool hasTimestamp, DateTimeOffset since, IReadOnlyList<AuditPartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(partitions);
        var source = hasSource ? "_source" : "''";
        var which = string.Join(" OR ", partitions.Select(p =>
            $"(_topic = {SqlIdentifier.Literal(p.Topic)} AND _partition = {Num(p.Partition)}{(hasSource ? $" AND _source = {SqlIdentifier.Literal(p.Source)}" : string.Empty)})"));
        var window = hasTimestamp ? $"WHERE _timestamp >= {Time(since)} AND ({which}) " : $"WHERE ({which}) ";
        return "SELECT s, t, p, min(o) AS lo, max(o) AS hi, count() AS offsets, sum(c - 1) AS extra FROM (" +
            "SELECT s, t, p, o, c, o - row_number() OVER (PARTITION BY s, t, p ORDER BY o) AS island FROM (" +
            $"SELECT {source} AS s, _topic AS t, _partition AS p, _offset AS o, count() AS c FROM {table.Sql} {window}" +
            "GROUP BY s, t, p, o HAVING c > 1)) GROUP BY s, t, p, island ORDER BY s, t, p, lo FORMAT TSV";
    }

    private static string Window(bool hasTimestamp, DateTimeOffset since) => hasTimestamp ? $"WHERE _timestamp >= {Time(since)} " : string.Empty;

    /// <summary>
    /// Per acknowledged range, the distinct offsets of it found in the target table or in the dead-letter table (rows
    /// the sink dead-lettered for this table): <c>source, topic, partition, first, found</c> (TSV; a range that found
    /// nothing has no row). Each range is a read of the sort key's range; the ASOF JOIN puts each offset in the range
    /// that starts at or before it (ranges of a partition are disjoint).
    /// </summary>
    /// <param name="ranges">At most <see cref="RangesPerQuery"/>; the source is '' for a table without <c>_source</c>
    /// (then <paramref name="dlqSources"/> names the one source whose dead letters count).</param>
    public static string FoundSql(TableName table, bool hasSource, TableName deadLetters, string sinkId, IReadOnlyList<(AuditPartition Partition, OffsetRange Range)> ranges, IReadOnlyDictionary<(string Topic, int Partition), string> dlqSources)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(deadLetters);
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(dlqSources);
        var target = new StringBuilder();
        var letters = new StringBuilder();
        var values = new StringBuilder();
        foreach (var group in ranges.GroupBy(r => r.Partition))
        {
            var p = group.Key;
            var lo = group.Min(r => r.Range.First);
            var hi = group.Max(r => r.Range.Last);
            var where = $"(_topic = {SqlIdentifier.Literal(p.Topic)} AND _partition = {Num(p.Partition)}{(hasSource ? $" AND _source = {SqlIdentifier.Literal(p.Source)}" : string.Empty)} AND _offset BETWEEN {Num(lo)} AND {Num(hi)})";
            target.Append(target.Length == 0 ? string.Empty : " OR ").Append(where);
            var dlqSource = hasSource ? p.Source : dlqSources.GetValueOrDefault((p.Topic, p.Partition), string.Empty);
            letters.Append(letters.Length == 0 ? string.Empty : " OR ")
                .Append(CultureInfo.InvariantCulture, $"(topic = {SqlIdentifier.Literal(p.Topic)} AND partition = {Num(p.Partition)} AND source = {SqlIdentifier.Literal(dlqSource)} AND offset BETWEEN {Num(lo)} AND {Num(hi)})");
            foreach (var (_, range) in group)
            {
                values.Append(values.Length == 0 ? string.Empty : ", ")
                    .Append(CultureInfo.InvariantCulture, $"({SqlIdentifier.Literal(p.Source)}, {SqlIdentifier.Literal(p.Topic)}, {Num(p.Partition)}, {Num(range.First)}, {Num(range.Last)})");
            }
        }

        var source = hasSource ? "_source" : "''";
        var dlqSourceColumn = hasSource ? "source" : "''";
        return "SELECT r.s, r.t, r.p, r.lo, uniqExact(o.off) FROM (" +
            $"SELECT {source} AS s, _topic AS t, _partition AS p, _offset AS off FROM {table.Sql} WHERE {target} " +
            $"UNION ALL SELECT {dlqSourceColumn} AS s, topic AS t, partition AS p, offset AS off FROM {deadLetters.Sql} " +
            $"WHERE sink_id = {SqlIdentifier.Literal(sinkId)} AND target_table = {SqlIdentifier.Literal(table.ToString())} AND ({letters})" +
            $") AS o ASOF JOIN (SELECT * FROM values('s String, t String, p Int32, lo Int64, hi Int64', {values})) AS r " +
            "ON o.s = r.s AND o.t = r.t AND o.p = r.p AND o.off >= r.lo WHERE o.off <= r.hi GROUP BY r.s, r.t, r.p, r.lo FORMAT TSV";
    }

    private static string Time(DateTimeOffset t) => $"fromUnixTimestamp64Milli({Num(t.ToUnixTimeMilliseconds())}, 'UTC')";

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
