using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Rows;
using static MskClickHouse.Core.Delivery.PartitionAttempt;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// The reads a partition's attempt decides with: which of its offsets the target table or the dead-letter table holds
/// already. Each read asks for sequential consistency where it decides what to insert, so every acknowledged insert is seen.
/// </summary>
internal sealed class OffsetQueries(PartitionAttempt attempt)
{
    /// <summary>
    /// The offsets of this partition (of this source, when the table has <c>_source</c>) present in the table,
    /// read with sequential consistency so that every acknowledged insert is seen.
    /// </summary>
    public Task<HashSet<long>> PresentOffsetsAsync(OffsetRange range)
    {
        var t = attempt.Encoded.Table;
        var records = attempt.Records;
        var bySource = (attempt.Encoded.Shape.Metadata & MetadataColumns.Source) != 0 ? $"AND _source = {SqlIdentifier.Literal(attempt.Source.Name)} " : string.Empty;
        return OffsetsAsync(
            $"SELECT _offset FROM {t.Sql} WHERE _topic = {SqlIdentifier.Literal(records.Topic)} AND _partition = {Num(records.Partition)} {bySource}" +
            $"AND _offset BETWEEN {Num(range.First)} AND {Num(range.Last)} SETTINGS {ClickHouseStateStore.SequentialConsistency} FORMAT TSV");
    }

    /// <summary>The dead-letter table has offsets: ask it which of these records it holds already (sequentially consistent).</summary>
    public async Task<List<DeadLetter>> NotYetDeadLetteredAsync(List<DeadLetter> letters, OffsetRange range)
    {
        var dlq = attempt.Options.DeadLetterTable;
        var records = attempt.Records;
        var present = await OffsetsAsync(
            $"SELECT offset FROM {dlq.Sql} WHERE sink_id = {SqlIdentifier.Literal(attempt.Options.SinkId)} AND source = {SqlIdentifier.Literal(attempt.Source.Name)} " +
            $"AND topic = {SqlIdentifier.Literal(records.Topic)} AND partition = {Num(records.Partition)} AND offset BETWEEN {Num(range.First)} AND {Num(range.Last)} " +
            $"SETTINGS {ClickHouseStateStore.SequentialConsistency} FORMAT TSV");
        return letters.Where(r => !present.Contains(records.Records[r.RecordIndex].Offset)).ToList();
    }

    /// <summary>The offsets in [first, last] whose dead letters carry <paramref name="mark"/> in their error (bad-row isolation).</summary>
    public Task<HashSet<long>> MarkedDeadLettersAsync(long first, long last, string mark)
    {
        var records = attempt.Records;
        return OffsetsAsync(
            $"SELECT offset FROM {attempt.Options.DeadLetterTable.Sql} WHERE sink_id = {SqlIdentifier.Literal(attempt.Options.SinkId)} AND topic = {SqlIdentifier.Literal(records.Topic)} " +
            $"AND partition = {Num(records.Partition)} AND offset BETWEEN {Num(first)} AND {Num(last)} AND position(error, {SqlIdentifier.Literal(mark)}) > 0 FORMAT TSV");
    }

    /// <summary>A query's raw answer (retried like every request of the attempt).</summary>
    public Task<byte[]> BytesAsync(string sql) => attempt.RetryAsync(ct => attempt.Gateway.QueryAsync(sql, ct));

    private async Task<HashSet<long>> OffsetsAsync(string sql)
    {
        var bytes = await BytesAsync(sql);
        var set = new HashSet<long>();
        foreach (var line in ((ReadOnlyMemory<byte>)bytes).Split())
        {
            set.Add(long.Parse(line.Span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
        }

        return set;
    }
}
