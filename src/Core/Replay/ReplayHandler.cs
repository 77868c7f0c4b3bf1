using System.Buffers;
using System.Globalization;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Rows;
using MskClickHouse.Core.Runtime;

namespace MskClickHouse.Core.Replay;

/// <summary>
/// <c>SINK_MODE=replay</c>: one invocation re-inserts the pending dead letters of one table through the sink's own
/// decoder and row encoder, each under the token of its original identity (<see cref="ReplayToken"/>), and appends an
/// outcome row for each (plus a new dead letter for each that fails again) to the dead-letter table
/// (<see cref="ReplayMarks"/>). Dead letters are taken per (source, topic, partition), in offset order; a group's
/// outcomes are written after all its inserts were answered. docs/operations.md, "Replay", has the argument that a
/// retried or concurrent replay lands each record once.
/// </summary>
public sealed class ReplayHandler : IInvocationHandler
{
    private readonly SinkOptions _options;
    private readonly IClickHouseGateway _gateway;
    private readonly TableCatalog _catalog;
    private readonly ISinkLog _log;
    private readonly TimeProvider _time;
    private readonly Func<double> _random;
    private readonly SenderServices _senders;
    private readonly Formats.Registry.SchemaCache? _schemas;

    public ReplayHandler(SinkOptions options, IClickHouseGateway gateway, TableCatalog catalog, ISinkLog log, TimeProvider time, Func<double> random, Formats.Registry.SchemaCache? schemas = null)
    {
        _options = options;
        _gateway = gateway;
        _catalog = catalog;
        _log = log;
        _time = time;
        _random = random;
        _senders = new SenderServices(gateway, options, log, time);
        _schemas = schemas;
    }

    public async Task<byte[]> HandleAsync(InvocationContext context, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = ReplayRequest.Parse(payload.Span, _options.Database);
        // The outcome rows of a group whose inserts were answered may use the budget's marking phase.
        using var budget = InvocationBudget.FromDeadline(context.Deadline, _options.DeadlineSafetyMargin, _time, cancellationToken);
        var retrier = new Retrier(budget, _log, _random);
        var dlq = _options.DeadLetterTable;

        var info = await retrier.RunAsync(c => _catalog.GetAsync(request.Table, c));
        if (!info.Exists)
        {
            _catalog.Forget(request.Table);
            throw new ClickHouseException($"replay: table {request.Table} does not exist in ClickHouse: nothing can be replayed into it", ClickHouseErrorKind.MissingTable, serverCode: 60);
        }

        var counts = Encoding.UTF8.GetString(await retrier.RunAsync(c => _gateway.QueryAsync(DeadLetterQueries.CountDone(dlq, _options.SinkId, request), c))).Trim().Split('\t');
        var letters = DeadLetterRecordParser.Parse(await retrier.RunAsync(c => _gateway.QueryAsync(DeadLetterQueries.SelectPending(dlq, _options.SinkId, request), c)));
        var metadata = ColumnSet.MetadataOf(info.Columns);
        var stored = info.StoredBehind is { } behind ? await retrier.RunAsync(c => _catalog.GetAsync(behind, c)) : null;
        var outcomes = new List<ReplayOutcome>();
        var complete = letters.Count < request.Limit;
        foreach (var group in letters.GroupBy(d => (d.Source, d.Topic, d.Partition)))
        {
            if (budget.IsSpent)
            {
                complete = false;
                break;
            }

            var shape = new TableShape(request.Table, metadata, _options.FormatOf(group.Key.Topic), _options.StringColumn) { ChangeEvents = _options.ChangeEventsOf(group.Key.Topic) }.WithTopology(info, stored);
            List<ReplayOutcome> done;
            try
            {
                done = await ReplayGroupAsync([.. group], shape, retrier);
            }
            catch (Exception e) when (e is OperationCanceledException || (e is Errors.SinkException s && s.IsRetryable))
            {
                // Out of time, or ClickHouse / the registry unavailable past the deadline: what landed of this group is
                // not marked; the next replay takes the same dead letters again under the same tokens.
                _log.Write(LogLevel.Warning, $"replay stopped before the end: {e.Message}; invoke it again for the rest", new LogFields(group.Key.Topic, group.Key.Partition, Table: request.Table.ToString()));
                complete = false;
                break;
            }

            await WriteMarksAsync(done, request.Table, retrier.Marking);
            outcomes.AddRange(done);
        }

        var others = counts.Length > 2 ? counts[2].Split(',', StringSplitOptions.RemoveEmptyEntries) : [];
        if (letters.Count == 0 && others.Length > 0)
        {
            _log.Write(LogLevel.Warning, $"no pending dead letters of table {request.Table} under SINK_ID '{_options.SinkId}', but some under {string.Join(", ", others)}: set SINK_ID to the sink function's", new LogFields(Table: request.Table.ToString()));
        }

        var summary = new ReplaySummary(request.Table, letters.Count, outcomes, ParseCount(counts, 0), ParseCount(counts, 1), complete, others);
        _log.Write(
            summary.StillFailing == 0 ? LogLevel.Information : LogLevel.Warning,
            "replay summary",
            new LogFields(
                Table: request.Table.ToString(),
                Numbers: [new("selected", summary.Selected), new("replayed", summary.Replayed), new("already_present", summary.AlreadyPresent), new("still_failing", summary.StillFailing), new("already_replayed", summary.AlreadyReplayed), new("unreplayable", summary.Unreplayable)],
                Strings: [new("request_id", context.RequestId), new("complete", complete ? "true" : "false")]));
        return summary.ToJson();
    }

    /// <summary>
    /// Replays the dead letters of one (source, topic, partition) through the sink's decoder and encoder, and sends
    /// them through the sink's <see cref="PartitionSender"/>: its presence read, then one insert under token per row.
    /// </summary>
    private async Task<List<ReplayOutcome>> ReplayGroupAsync(List<DeadLetterRecord> group, TableShape shape, Retrier retrier)
    {
        using var batch = KafkaEventDecoder.Decode(ReplayEvent.Build(group));
        var partition = batch.Partitions[0];
        Exception? registryFailure = null;
        var resolved = await SchemaResolution.ResolveAllAsync(_schemas, batch, [partition], p => p, _ => shape.Format, (_, e) => registryFailure = e, retrier.Budget.GiveUpAt, _time, retrier.Token);
        if (registryFailure is not null)
        {
            throw registryFailure;
        }

        using var encoded = RowEncoder.Encode(batch, partition, shape, _options.Tombstones, resolved.GetValueOrDefault(partition));
        var sender = new PartitionSender(_senders, retrier, batch, new SourceIdentity(group[0].Source), encoded, new PartitionOutcome(partition, shape.Table));
        var byOffset = group.ToDictionary(d => d.Offset);
        var outcomes = new List<ReplayOutcome>(group.Count);
        var handled = new HashSet<long>();
        foreach (var r in encoded.Rejected)
        {
            var offset = partition.Records[r.RecordIndex].Offset;
            handled.Add(offset);
            outcomes.Add(Failed(byOffset[offset], r.Reason, shape.Table, null));
        }

        var rows = Enumerable.Range(0, encoded.RowCount).ToList();
        handled.UnionWith(encoded.RowOffsets);
        if (shape.CanProbe && rows.Count > 0)
        {
            // Presence, not the token, decides for tables with offset columns: exact beyond the deduplication window.
            var present = await sender.PresentOffsetsAsync(new OffsetRange(encoded.RowOffsets.Min(), encoded.RowOffsets.Max()), encoded.RowOffsets);
            outcomes.AddRange(rows.Where(i => present.Contains(encoded.RowOffsets[i])).Select(i => new ReplayOutcome(byOffset[encoded.RowOffsets[i]], ReplayOutcomeKind.AlreadyPresent)));
            rows.RemoveAll(i => present.Contains(encoded.RowOffsets[i]));
        }

        var inserted = new ReplayOutcome[rows.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, rows.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.InsertParallelism), CancellationToken = retrier.Token },
            async (i, _) => inserted[i] = await InsertAsync(sender, encoded, rows[i], byOffset[encoded.RowOffsets[rows[i]]]));
        outcomes.AddRange(inserted);

        // Neither a row nor rejected: a tombstone the sink now skips.
        outcomes.AddRange(group.Where(d => !handled.Contains(d.Offset)).Select(d => new ReplayOutcome(d, ReplayOutcomeKind.TombstoneSkipped)));
        return outcomes;
    }

    /// <summary>One dead letter, one insert, one token: the row lands once however often it is replayed.</summary>
    private async Task<ReplayOutcome> InsertAsync(PartitionSender sender, EncodedPartition encoded, int row, DeadLetterRecord letter)
    {
        try
        {
            await sender.InsertUnderTokenAsync([row], ReplayToken.ForRecord(_options.SinkId, letter));
            return new ReplayOutcome(letter, ReplayOutcomeKind.Landed);
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
        {
            return Failed(letter, PartitionSender.RejectedReason(e), encoded.Table, e.ServerCode);
        }
    }

    private ReplayOutcome Failed(DeadLetterRecord letter, string reason, TableName table, int? code)
    {
        _log.Write(LogLevel.Warning, "replayed dead letter rejected again: it stays a dead letter with the new reason", new LogFields(letter.Topic, letter.Partition, letter.Offset, Table: table.ToString(), ErrorCode: code));
        return new ReplayOutcome(letter, ReplayOutcomeKind.Failed, reason);
    }

    private async Task WriteMarksAsync(List<ReplayOutcome> outcomes, TableName table, Retrier marking)
    {
        if (outcomes.Count == 0)
        {
            return;
        }

        var body = new ArrayBufferWriter<byte>(outcomes.Count * 256);
        ReplayMarks.Encode(body, outcomes, _options.SinkId, table, _time.GetUtcNow());
        var settings = InsertSettings.For(_options.ExtraInsertSettings, ReplayToken.ForMarks(_options.SinkId, outcomes), body.WrittenCount);
        var sql = $"INSERT INTO {_options.DeadLetterTable.Sql} FORMAT JSONEachRow";
        await marking.RunAsync(c => _gateway.InsertAsync(sql, [body.WrittenMemory], settings, c));
    }

    private static long ParseCount(string[] fields, int i) =>
        fields.Length > i && long.TryParse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
