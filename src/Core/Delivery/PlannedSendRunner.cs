using System.Globalization;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Carries out one <see cref="PlannedSend"/> of a partition's plan by its kind: nothing for a landed range, the fill
/// path for a recorded range on a table with offset columns, otherwise one insert of the send's rows under its token
/// followed by the send's dead letters.
/// </summary>
internal sealed class PlannedSendRunner
{
    private readonly PartitionAttempt _attempt;
    private readonly OffsetQueries _queries;
    private readonly DeadLetterWriter _deadLetters;
    private readonly RowInserter _inserter;
    private readonly MissingRowsFill _fill;

    public PlannedSendRunner(PartitionAttempt attempt)
    {
        _attempt = attempt;
        _queries = new OffsetQueries(attempt);
        _deadLetters = new DeadLetterWriter(attempt);
        _inserter = new RowInserter(attempt, _queries, _deadLetters);
        _fill = new MissingRowsFill(attempt, _queries, _inserter, _deadLetters);
    }

    public async Task SendAsync(PlannedSend send)
    {
        var enc = _attempt.Encoded;
        var records = _attempt.Records;
        var outcome = _attempt.Outcome;
        var from = enc.LowerBound(send.Records.First);
        var to = enc.LowerBound(send.Records.Last + 1);
        var rejected = enc.Rejected
            .Where(r => send.Records.Contains(records.Records[r.RecordIndex].Offset))
            .Select(r => new DeadLetter(r.RecordIndex, r.Reason))
            .ToList();

        if (send.Kind == SendKind.AlreadyLanded)
        {
            outcome.Replayed += to - from;
            return;
        }

        if (send.Kind == SendKind.FillMissing)
        {
            await _fill.FillAsync(send, from, to, rejected);
            return;
        }

        var token = _attempt.Token(send.TokenRange, send.Generation, 0);
        var rows = Enumerable.Range(from, to - from).ToList();
        var attempted = rows.Count;
        if (send.Kind == SendKind.Tail && attempted > 0)
        {
            // Counted before the insert: an insert that fails without an answer (deadline, lost connection) may
            // still be applied, and its retry goes under the same token as a replay, which is not counted again.
            outcome.PossibleDuplicates += attempted;
            _attempt.Log.Write(
                LogLevel.Warning,
                "PossibleDuplicates: inserting the unresolved tail of a range whose token was spent on a subset; these rows may already have landed with the original insert. Add _topic, _partition and _offset columns to the table to make this exact.",
                new LogFields(records.Topic, records.Partition, send.Records.First, send.Records.Last, enc.Table.ToString(), Numbers: [new("rows", attempted)]));
        }

        var written = await _inserter.InsertRowsAsync(rows, token, rejected);
        switch (send.Kind)
        {
            case SendKind.Replay:
                outcome.Replayed += rows.Count;
                break;
            case SendKind.Tail:
                // Rows the server rejected as data went to the dead letters, not to the table.
                outcome.PossibleDuplicates -= attempted - written;
                break;
            case SendKind.Rewound:
                _attempt.Log.Write(
                    LogLevel.Warning,
                    "offsets lie before the recorded range or start before it (consumer group rewound or topic recreated): inserting the whole batch as new rows under a new nonce",
                    new LogFields(records.Topic, records.Partition, send.Records.First, send.Records.Last, enc.Table.ToString(), Strings: [new("nonce", _attempt.Scope.Nonce.ToString("x16", CultureInfo.InvariantCulture))]));
                break;
            default:
                break;
        }

        if (send.Kind == SendKind.Tail && rejected.Count > 0)
        {
            // The tail's dead letters may have landed with the original range: the table says which.
            rejected = await _queries.NotYetDeadLetteredAsync(rejected, send.Records);
        }

        await _deadLetters.WriteAsync(rejected, DeduplicationToken.ForDeadLetters(token));
    }
}
