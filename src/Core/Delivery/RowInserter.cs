using System.Diagnostics;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Inserts rows of a partition attempt under one token: one JSONEachRow insert whose body is the encoded rows (slices of
/// the encoder's buffer, no copy). Rows ClickHouse rejects as data are located by <see cref="BadRowIsolation"/> and
/// dead-lettered; the rest lands as one block under the same token.
/// </summary>
internal sealed class RowInserter(PartitionAttempt attempt, OffsetQueries queries, DeadLetterWriter deadLetters)
{
    private static readonly IComparer<KafkaRecord> ByOffset = Comparer<KafkaRecord>.Create((x, y) => x.Offset.CompareTo(y.Offset));

    private readonly string _insertSql = $"INSERT INTO {attempt.Encoded.Table.Sql} FORMAT JSONEachRow";

    /// <summary>
    /// Inserts the given rows under one token. When ClickHouse rejects rows as data, <see cref="BadRowIsolation"/>
    /// moves them to <paramref name="rejected"/> at a bounded cost and lands the rest as one block under the same token.
    /// </summary>
    public async Task<long> InsertRowsAsync(List<int> rows, string token, List<DeadLetter> rejected)
    {
        if (rows.Count == 0)
        {
            // Every record of the range was rejected by the encoder (they go to the dead letters): ClickHouse
            // answers an empty INSERT with code 108 NO_DATA_TO_INSERT, which failed the partition on every retry.
            // The token stays unused, so there is nothing to fence.
            return 0;
        }

        try
        {
            return await InsertOnceAsync(rows, token);
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
        {
            var found = new List<DeadLetter>();
            var records = attempt.Records;
            var enc = attempt.Encoded;
            var isolation = new BadRowIsolation(
                new IsolationIo(
                    InsertOnceAsync,
                    (r, t) => InsertOnceAsync(r, t, probe: true),
                    (row, error) => { Reject(row, error, rejected); found.Add(rejected[^1]); },
                    row => enc.RowOffsets[row],
                    queries.MarkedDeadLettersAsync,
                    async (offsets, suffix, mark) =>
                    {
                        var letters = found.Where(f => offsets.Contains(records.Records[f.RecordIndex].Offset)).Select(f => f with { Reason = f.Reason + " " + mark }).ToList();
                        await deadLetters.WriteAsync(letters, DeduplicationToken.ForDeadLetters(token) + suffix);
                        return letters.Count;
                    },
                    r => ParseClassification.RunAsync(queries.BytesAsync, enc.Table, r, i => enc.Rows(i, i + 1), InsertSettings.For(attempt.Options.ExtraInsertSettings, token, 0)),
                    r => attempt.DryRun.InsertAsync(enc.Table, Segments(r), token, attempt.GiveUpAt, attempt.CancellationToken)),
                attempt.Time,
                BadRowIsolation.StopAt(attempt.Time.GetUtcNow(), attempt.GiveUpAt));
            return await isolation.InsertAsync(rows, token, e);
        }
    }

    private async Task<long> InsertOnceAsync(List<int> rows, string token) => await InsertOnceAsync(rows, token, probe: false);

    /// <param name="probe">Append a line that never parses: the rows are checked by the parser and nothing lands.</param>
    private async Task<long> InsertOnceAsync(List<int> rows, string token, bool probe)
    {
        var segments = Segments(rows);
        if (probe)
        {
            segments.Add(BadRowIsolation.Sentinel);
            token = "probe:" + token;
        }

        long bytes = 0;
        foreach (var s in segments)
        {
            bytes += s.Length;
        }

        var settings = InsertSettings.For(attempt.Options.ExtraInsertSettings, token, bytes);
        if (attempt.Encoded.Shape.ChangeEvents != Configuration.ChangeEventFormat.None)
        {
            InsertSettings.KeepEveryVersion(settings);
        }

        if (probe)
        {
            settings["input_format_parallel_parsing"] = "0";
        }

        var started = Stopwatch.GetTimestamp();
        await attempt.RetryAsync(ct => attempt.Gateway.InsertAsync(_insertSql, segments, settings, ct));
        var outcome = attempt.Outcome;
        outcome.Inserts++;
        outcome.InsertMilliseconds += Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        // What the sink sent and the server accepted, not the server's written_rows: a server may omit the summary
        // header (it would read 0), and a dropped duplicate still reports its rows.
        outcome.RowsInserted += rows.Count;
        return rows.Count;
    }

    /// <summary>Consecutive rows become one slice: a body without rejected rows is a single segment.</summary>
    private List<ReadOnlyMemory<byte>> Segments(List<int> rows)
    {
        var segments = new List<ReadOnlyMemory<byte>>();
        var i = 0;
        while (i < rows.Count)
        {
            var j = i;
            while (j + 1 < rows.Count && rows[j + 1] == rows[j] + 1)
            {
                j++;
            }

            segments.Add(attempt.Encoded.Rows(rows[i], rows[j] + 1));
            i = j + 1;
        }

        return segments;
    }

    private void Reject(int row, ClickHouseException e, List<DeadLetter> rejected)
    {
        var records = attempt.Records;
        var offset = attempt.Encoded.RowOffsets[row];
        var index = Array.BinarySearch(records.Records, new KafkaRecord { Offset = offset }, ByOffset);
        rejected.Add(new DeadLetter(index, $"rejected by ClickHouse (code {e.ServerCode}): {e.Message}"));
        attempt.Log.Write(LogLevel.Warning, "row rejected by ClickHouse: sent to the dead-letter table", new LogFields(records.Topic, records.Partition, offset, Table: attempt.Encoded.Table.ToString(), ErrorCode: e.ServerCode));
    }
}
