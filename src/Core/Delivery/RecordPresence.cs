using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// How a record is recognised among the rows a table already holds: by topic, partition (and source) and offset, and
/// also by its timestamp, to the second, where the table keeps one (<c>_timestamp</c>; the dead-letter table's
/// <c>timestamp</c>). An offset alone cannot tell a recreated topic's new record, or a rewind's, from the old one at
/// that offset; the timestamp can. Pure: the queries and the matching of their answers.
/// </summary>
public static class RecordPresence
{
    /// <summary>
    /// The rows of a target table at these offsets: <c>offset</c>, or <c>offset \t unix seconds</c> when the table has
    /// <c>_timestamp</c> (any DateTime type: compared to the second, so its precision does not matter).
    /// </summary>
    public static string TableQuery(TableName table, MetadataColumns metadata, string source, string topic, int partition, OffsetRange range, IReadOnlyCollection<long>? only = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        var bySource = (metadata & MetadataColumns.Source) != 0 ? $"AND _source = {SqlIdentifier.Literal(source)} " : string.Empty;
        var among = only is null ? string.Empty : $"AND _offset IN ({string.Join(", ", only.Select(Num))}) ";
        var timestamp = (metadata & MetadataColumns.Timestamp) != 0 ? ", toUnixTimestamp(_timestamp)" : string.Empty;
        return $"SELECT _offset{timestamp} FROM {table.Sql} WHERE _topic = {SqlIdentifier.Literal(topic)} AND _partition = {Num(partition)} {bySource}" +
            $"AND _offset BETWEEN {Num(range.First)} AND {Num(range.Last)} {among}SETTINGS {ClickHouseStateStore.SequentialConsistency} FORMAT TSV";
    }

    /// <summary>The dead letters of this sink and source at these offsets: <c>offset \t unix seconds</c>.</summary>
    public static string DeadLetterQuery(TableName deadLetters, string sinkId, string source, string topic, int partition, OffsetRange range, TableName? target = null)
    {
        ArgumentNullException.ThrowIfNull(deadLetters);
        // A record fanned out to several tables may be rejected by one and land in another: its dead letter is per table.
        var forTable = target is null ? string.Empty : $"AND target_table = {SqlIdentifier.Literal(target.ToString())} ";
        return $"SELECT offset, toUnixTimestamp(timestamp) FROM {deadLetters.Sql} WHERE sink_id = {SqlIdentifier.Literal(sinkId)} AND source = {SqlIdentifier.Literal(source)} " +
            $"AND topic = {SqlIdentifier.Literal(topic)} AND partition = {Num(partition)} AND offset BETWEEN {Num(range.First)} AND {Num(range.Last)} " +
            forTable +
            $"SETTINGS {ClickHouseStateStore.SequentialConsistency} FORMAT TSV";
    }

    /// <summary>
    /// The offsets of <paramref name="records"/> the answer holds: a line with a timestamp matches a record with that
    /// offset and timestamp second only; a line with an offset alone, or with timestamp 0 (a row inserted without one,
    /// which the column's default fills), matches the offset.
    /// </summary>
    public static HashSet<long> Present(ReadOnlyMemory<byte> tsv, IEnumerable<KafkaRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var offsets = new HashSet<long>();
        var pairs = new HashSet<(long Offset, long Seconds)>();
        foreach (var line in tsv.Split())
        {
            var span = line.Span;
            var tab = span.IndexOf((byte)'\t');
            if (tab < 0)
            {
                offsets.Add(long.Parse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
            }
            else
            {
                var offset = long.Parse(span[..tab], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                var seconds = long.Parse(span[(tab + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                if (seconds == 0)
                {
                    offsets.Add(offset);
                }
                else
                {
                    pairs.Add((offset, seconds));
                }
            }
        }

        var present = new HashSet<long>();
        foreach (var r in records)
        {
            if (offsets.Contains(r.Offset) || pairs.Contains((r.Offset, Seconds(r.TimestampMs))))
            {
                present.Add(r.Offset);
            }
        }

        return present;
    }

    /// <summary>The offsets a presence answer holds rows at, whatever their content.</summary>
    public static HashSet<long> Offsets(ReadOnlyMemory<byte> tsv)
    {
        var offsets = new HashSet<long>();
        foreach (var line in tsv.Split())
        {
            var span = line.Span;
            var tab = span.IndexOf((byte)'\t');
            offsets.Add(long.Parse(tab < 0 ? span : span[..tab], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
        }

        return offsets;
    }

    /// <summary>The unix second of a millisecond timestamp, as ClickHouse's toUnixTimestamp truncates it (floor).</summary>
    public static long Seconds(long timestampMs) => Math.DivRem(timestampMs, 1000L) is var (q, r) && r < 0 ? q - 1 : q;

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
