using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// The fill path (<see cref="SendKind.FillMissing"/>, tables with offset columns): a batch that repeats a recorded range
/// sends only the rows ClickHouse does not hold yet, fenced round by round against late applies.
/// </summary>
internal sealed class MissingRowsFill(PartitionAttempt attempt, OffsetQueries queries, RowInserter inserter, DeadLetterWriter deadLetters)
{
    /// <summary>
    /// Fencing (docs/exactly-once.md): rounds 0..r of the range's token may have been sent before and may still be
    /// applied late, so nothing goes under a later round until an insert under each earlier one was acknowledged.
    /// Ask which offsets are present; for each round in order, send the rows still missing under it (dropped if the
    /// round was spent, applied otherwise; either way spent once answered) and ask again; then send what is still
    /// missing under round r+1, which the state recorded before this insert; ask once more and fail the partition
    /// (retried) if a row is still missing, which only a concurrent invocation spending r+1 on other rows can cause.
    /// </summary>
    public async Task FillAsync(PlannedSend send, int from, int to, List<DeadLetter> rejected)
    {
        var present = await PresentAsync(send);
        var missing = RowsNotIn(from, to, present, rejected);
        var presentAtStart = (to - from) - missing.Count;

        // Every round up to r may have been used by an earlier attempt and may still be applied late (an attempt
        // that stopped at round j left j in flight and never reached the rounds after it, which an attempt before
        // it may have used): each is consumed in order, with only the rows still missing, before round r+1.
        for (var round = 0; round <= send.Round && missing.Count > 0; round++)
        {
            await inserter.InsertRowsAsync([.. missing], attempt.Token(send.TokenRange, send.Generation, round), rejected);
            present = await PresentAsync(send);
            missing = RowsNotIn(from, to, present, rejected);
        }

        var records = attempt.Records;
        var enc = attempt.Encoded;
        var filled = 0;
        if (missing.Count > 0)
        {
            filled = missing.Count;
            await inserter.InsertRowsAsync([.. missing], attempt.Token(send.TokenRange, send.Generation, send.Round + 1), rejected);
            present = await PresentAsync(send);
            missing = RowsNotIn(from, to, present, rejected);
            if (missing.Count > 0)
            {
                throw new FillIncompleteException(records.Topic, records.Partition, enc.RowOffsets[missing[0]], enc.RowOffsets[missing[^1]], enc.Table);
            }
        }

        attempt.Outcome.Replayed += presentAtStart;
        attempt.Log.Write(
            LogLevel.Information,
            "batch repeats a recorded range: asked ClickHouse which offsets are present, consumed the range's token with the missing ones, then filled what was still missing",
            new LogFields(records.Topic, records.Partition, send.Records.First, send.Records.Last, enc.Table.ToString(), Numbers: [new("present", presentAtStart), new("filled_next_round", filled), new("round", send.Round)]));

        if (rejected.Count > 0)
        {
            // The same fencing for the dead letters, round by round under dlq: tokens.
            var letters = await queries.NotYetDeadLetteredAsync(rejected, send.Records);
            for (var round = 0; round <= send.Round + 1 && letters.Count > 0; round++)
            {
                await deadLetters.WriteAsync(letters, DeduplicationToken.ForDeadLetters(attempt.Token(send.TokenRange, send.Generation, round)));
                letters = await queries.NotYetDeadLetteredAsync(letters, send.Records);
            }
        }
    }

    /// <summary>
    /// The offsets of the send's range the table holds. For change events on a ReplacingMergeTree, also those a merge
    /// may have folded into a later version of their key (<see cref="SupersededVersions"/>): a redelivery must not insert
    /// an old version again (a duplicate row until the next merge). Later versions may lie after the send's range, so
    /// presence is asked up to the batch's last offset.
    /// </summary>
    private async Task<HashSet<long>> PresentAsync(PlannedSend send)
    {
        if (attempt.Encoded.Shape.ChangeEvents == Configuration.ChangeEventFormat.None)
        {
            return await queries.PresentOffsetsAsync(send.Records);
        }

        var present = await queries.PresentOffsetsAsync(new OffsetRange(send.Records.First, Math.Max(send.Records.Last, attempt.Records.LastOffset)));
        present.UnionWith(SupersededVersions.Of(attempt.Batch, attempt.Records, present));
        return present;
    }

    /// <summary>Row indexes in [from, to) whose offset is not present and that are not dead letters.</summary>
    private List<int> RowsNotIn(int from, int to, HashSet<long> present, List<DeadLetter> rejected)
    {
        var records = attempt.Records;
        var lettered = rejected.Select(r => records.Records[r.RecordIndex].Offset).ToHashSet();
        var rows = new List<int>();
        for (var i = from; i < to; i++)
        {
            var offset = attempt.Encoded.RowOffsets[i];
            if (!present.Contains(offset) && !lettered.Contains(offset))
            {
                rows.Add(i);
            }
        }

        return rows;
    }
}
