using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Delivery;

/// <summary>What happened to one partition of an invocation.</summary>
public sealed class PartitionOutcome
{
    public PartitionOutcome(PartitionRecords source, TableName table)
    {
        Source = source;
        Table = table;
    }

    public PartitionRecords Source { get; }

    public TableName Table { get; }

    public long RowsInserted { get; set; }

    public long DeadLettered { get; set; }

    public long Replayed { get; set; }

    public long PossibleDuplicates { get; set; }

    public long TombstonesSkipped { get; set; }

    /// <summary>Whether the target table drops a retried insert; null when the table was not found.</summary>
    public bool? TableDeduplicates { get; set; }

    public int Inserts { get; set; }

    public double InsertMilliseconds { get; set; }

    /// <summary>Set when the partition could not be delivered: it is reported in batchItemFailures and retried.</summary>
    public Exception? Failure { get; set; }
}

/// <summary>Carries out one partition's plan: data inserts under their tokens, then their dead letters.</summary>
public sealed class PartitionDelivery
{
    private readonly IClickHouseGateway _gateway;
    private readonly Retrier _retrier;
    private readonly SinkOptions _options;
    private readonly ISinkLog _log;
    private readonly TimeProvider _time;
    private readonly DryRunTable _dryRun;

    public PartitionDelivery(IClickHouseGateway gateway, Retrier retrier, SinkOptions options, ISinkLog log, TimeProvider time)
    {
        _gateway = gateway;
        _retrier = retrier;
        _options = options;
        _log = log;
        _time = time;
        _dryRun = new DryRunTable(gateway, retrier, options, log);
    }

    public async Task DeliverAsync(KafkaBatch batch, SourceIdentity source, EncodedPartition encoded, PartitionPlan plan, PartitionOutcome outcome, DateTimeOffset giveUpAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(outcome);
        var run = new Run(this, batch, source, plan.NewState.ScopeFor(_options.SinkId, source), encoded, outcome, giveUpAt, cancellationToken);
        foreach (var send in plan.Sends)
        {
            await run.SendAsync(send);
        }
    }

    private sealed class Run
    {
        private readonly PartitionDelivery _d;
        private readonly KafkaBatch _batch;
        private readonly SourceIdentity _source;
        private readonly TokenScope _scope;
        private readonly EncodedPartition _enc;
        private readonly PartitionOutcome _outcome;
        private readonly DateTimeOffset _giveUpAt;
        private readonly CancellationToken _ct;
        private readonly string _insertSql;

        public Run(PartitionDelivery d, KafkaBatch batch, SourceIdentity source, TokenScope scope, EncodedPartition enc, PartitionOutcome outcome, DateTimeOffset giveUpAt, CancellationToken ct)
        {
            _d = d;
            _batch = batch;
            _source = source;
            _scope = scope;
            _enc = enc;
            _outcome = outcome;
            _giveUpAt = giveUpAt;
            _ct = ct;
            _insertSql = $"INSERT INTO {enc.Table.Sql} FORMAT JSONEachRow";
        }

        private PartitionRecords Source => _enc.Source;

        public async Task SendAsync(PlannedSend send)
        {
            var from = _enc.LowerBound(send.Records.First);
            var to = _enc.LowerBound(send.Records.Last + 1);
            var rejected = _enc.Rejected
                .Where(r => send.Records.Contains(Source.Records[r.RecordIndex].Offset))
                .Select(r => new DeadLetter(r.RecordIndex, r.Reason))
                .ToList();

            if (send.Kind == SendKind.AlreadyLanded)
            {
                _outcome.Replayed += to - from;
                return;
            }

            if (send.Kind == SendKind.FillMissing)
            {
                await FillMissingAsync(send, from, to, rejected);
                return;
            }

            var token = Token(send.TokenRange, send.Generation, 0);
            var rows = Enumerable.Range(from, to - from).ToList();
            var attempted = rows.Count;
            if (send.Kind == SendKind.Tail && attempted > 0)
            {
                // Counted before the insert: an insert that fails without an answer (deadline, lost connection) may
                // still be applied, and its retry goes under the same token as a replay, which is not counted again.
                _outcome.PossibleDuplicates += attempted;
                _d._log.Write(
                    LogLevel.Warning,
                    "PossibleDuplicates: inserting the unresolved tail of a range whose token was spent on a subset; these rows may already have landed with the original insert. Add _topic, _partition and _offset columns to the table to make this exact.",
                    new LogFields(Source.Topic, Source.Partition, send.Records.First, send.Records.Last, _enc.Table.ToString(), Numbers: [new("rows", attempted)]));
            }

            var written = await InsertRowsAsync(rows, token, rejected);
            switch (send.Kind)
            {
                case SendKind.Replay:
                    _outcome.Replayed += rows.Count;
                    break;
                case SendKind.Tail:
                    // Rows the server rejected as data went to the dead letters, not to the table.
                    _outcome.PossibleDuplicates -= attempted - written;
                    break;
                case SendKind.Rewound:
                    _d._log.Write(
                        LogLevel.Warning,
                        "offsets lie before the recorded range or start before it (consumer group rewound or topic recreated): inserting the whole batch as new rows under a new nonce",
                        new LogFields(Source.Topic, Source.Partition, send.Records.First, send.Records.Last, _enc.Table.ToString(), Strings: [new("nonce", _scope.Nonce.ToString("x16", CultureInfo.InvariantCulture))]));
                    break;
                default:
                    break;
            }

            if (send.Kind == SendKind.Tail && rejected.Count > 0)
            {
                // The tail's dead letters may have landed with the original range: the table says which.
                rejected = await NotYetDeadLetteredAsync(rejected, send.Records);
            }

            await DeadLetterAsync(rejected, DeduplicationToken.ForDeadLetters(token));
        }

        /// <summary>
        /// Fencing (docs/exactly-once.md): rounds 0..r of the range's token may have been sent before and may still be
        /// applied late, so nothing goes under a later round until an insert under each earlier one was acknowledged.
        /// Ask which offsets are present; for each round in order, send the rows still missing under it (dropped if the
        /// round was spent, applied otherwise; either way spent once answered) and ask again; then send what is still
        /// missing under round r+1, which the state recorded before this insert; ask once more and fail the partition
        /// (retried) if a row is still missing, which only a concurrent invocation spending r+1 on other rows can cause.
        /// </summary>
        private async Task FillMissingAsync(PlannedSend send, int from, int to, List<DeadLetter> rejected)
        {
            var present = await PresentOffsetsAsync(send.Records);
            var missing = RowsNotIn(from, to, present, rejected);
            var presentAtStart = (to - from) - missing.Count;

            // Every round up to r may have been used by an earlier attempt and may still be applied late (an attempt
            // that stopped at round j left j in flight and never reached the rounds after it, which an attempt before
            // it may have used): each is consumed in order, with only the rows still missing, before round r+1.
            for (var round = 0; round <= send.Round && missing.Count > 0; round++)
            {
                await InsertRowsAsync([.. missing], Token(send.TokenRange, send.Generation, round), rejected);
                present = await PresentOffsetsAsync(send.Records);
                missing = RowsNotIn(from, to, present, rejected);
            }

            var filled = 0;
            if (missing.Count > 0)
            {
                filled = missing.Count;
                await InsertRowsAsync([.. missing], Token(send.TokenRange, send.Generation, send.Round + 1), rejected);
                present = await PresentOffsetsAsync(send.Records);
                missing = RowsNotIn(from, to, present, rejected);
                if (missing.Count > 0)
                {
                    throw new FillIncompleteException(Source.Topic, Source.Partition, _enc.RowOffsets[missing[0]], _enc.RowOffsets[missing[^1]], _enc.Table);
                }
            }

            _outcome.Replayed += presentAtStart;
            _d._log.Write(
                LogLevel.Information,
                "batch repeats a recorded range: asked ClickHouse which offsets are present, consumed the range's token with the missing ones, then filled what was still missing",
                new LogFields(Source.Topic, Source.Partition, send.Records.First, send.Records.Last, _enc.Table.ToString(), Numbers: [new("present", presentAtStart), new("filled_next_round", filled), new("round", send.Round)]));

            if (rejected.Count > 0)
            {
                // The same fencing for the dead letters, round by round under dlq: tokens.
                var letters = await NotYetDeadLetteredAsync(rejected, send.Records);
                for (var round = 0; round <= send.Round + 1 && letters.Count > 0; round++)
                {
                    await DeadLetterAsync(letters, DeduplicationToken.ForDeadLetters(Token(send.TokenRange, send.Generation, round)));
                    letters = await NotYetDeadLetteredAsync(letters, send.Records);
                }
            }
        }

        /// <summary>Row indexes in [from, to) whose offset is not present and that are not dead letters.</summary>
        private List<int> RowsNotIn(int from, int to, HashSet<long> present, List<DeadLetter> rejected)
        {
            var lettered = rejected.Select(r => Source.Records[r.RecordIndex].Offset).ToHashSet();
            var rows = new List<int>();
            for (var i = from; i < to; i++)
            {
                var offset = _enc.RowOffsets[i];
                if (!present.Contains(offset) && !lettered.Contains(offset))
                {
                    rows.Add(i);
                }
            }

            return rows;
        }

        /// <summary>
        /// The offsets of this partition (of this source, when the table has <c>_source</c>) present in the table,
        /// read with sequential consistency so that every acknowledged insert is seen.
        /// </summary>
        private Task<HashSet<long>> PresentOffsetsAsync(OffsetRange range)
        {
            var t = _enc.Table;
            var bySource = (_enc.Shape.Metadata & MetadataColumns.Source) != 0 ? $"AND _source = {SqlIdentifier.Literal(_source.Name)} " : string.Empty;
            return QueryOffsetsAsync(
                $"SELECT _offset FROM {t.Sql} WHERE _topic = {SqlIdentifier.Literal(Source.Topic)} AND _partition = {Num(Source.Partition)} {bySource}" +
                $"AND _offset BETWEEN {Num(range.First)} AND {Num(range.Last)} SETTINGS {ClickHouseStateStore.SequentialConsistency} FORMAT TSV");
        }

        private string Token(OffsetRange range, int generation, int round) =>
            DeduplicationToken.ForData(_scope, Source.Topic, Source.Partition, range, generation, round);

        /// <summary>The dead-letter table has offsets: ask it which of these records it holds already (sequentially consistent).</summary>
        private async Task<List<DeadLetter>> NotYetDeadLetteredAsync(List<DeadLetter> letters, OffsetRange range)
        {
            var dlq = _d._options.DeadLetterTable;
            var present = await QueryOffsetsAsync(
                $"SELECT offset FROM {dlq.Sql} WHERE sink_id = {SqlIdentifier.Literal(_d._options.SinkId)} AND source = {SqlIdentifier.Literal(_source.Name)} " +
                $"AND topic = {SqlIdentifier.Literal(Source.Topic)} AND partition = {Num(Source.Partition)} AND offset BETWEEN {Num(range.First)} AND {Num(range.Last)} " +
                $"SETTINGS {ClickHouseStateStore.SequentialConsistency} FORMAT TSV");
            return letters.Where(r => !present.Contains(Source.Records[r.RecordIndex].Offset)).ToList();
        }

        /// <summary>
        /// Inserts the given rows under one token. When ClickHouse rejects rows as data, <see cref="BadRowIsolation"/>
        /// moves them to <paramref name="rejected"/> at a bounded cost and lands the rest as one block under the same token.
        /// </summary>
        private async Task<long> InsertRowsAsync(List<int> rows, string token, List<DeadLetter> rejected)
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
                var isolation = new BadRowIsolation(
                    new IsolationIo(
                        InsertOnceAsync,
                        (r, t) => InsertOnceAsync(r, t, probe: true),
                        (row, error) => { Reject(row, error, rejected); found.Add(rejected[^1]); },
                        row => _enc.RowOffsets[row],
                        (first, last, mark) => QueryOffsetsAsync(
                            $"SELECT offset FROM {_d._options.DeadLetterTable.Sql} WHERE sink_id = {SqlIdentifier.Literal(_d._options.SinkId)} AND topic = {SqlIdentifier.Literal(Source.Topic)} " +
                            $"AND partition = {Num(Source.Partition)} AND offset BETWEEN {Num(first)} AND {Num(last)} AND position(error, {SqlIdentifier.Literal(mark)}) > 0 FORMAT TSV"),
                        async (offsets, suffix, mark) =>
                        {
                            var letters = found.Where(f => offsets.Contains(Source.Records[f.RecordIndex].Offset)).Select(f => f with { Reason = f.Reason + " " + mark }).ToList();
                            await DeadLetterAsync(letters, DeduplicationToken.ForDeadLetters(token) + suffix);
                            return letters.Count;
                        },
                        r => ParseClassification.RunAsync(QueryBytesAsync, _enc.Table, r, i => _enc.Rows(i, i + 1), InsertSettings.For(_d._options.ExtraInsertSettings, token, 0)),
                        r => _d._dryRun.InsertAsync(_enc.Table, Segments(r), token, _giveUpAt, _ct)),
                    _d._time,
                    BadRowIsolation.StopAt(_d._time.GetUtcNow(), _giveUpAt));
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

            var settings = InsertSettings.For(_d._options.ExtraInsertSettings, token, bytes);
            if (probe)
            {
                settings["input_format_parallel_parsing"] = "0";
            }

            var started = Stopwatch.GetTimestamp();
            await _d._retrier.RunAsync(
                ct => _d._gateway.InsertAsync(_insertSql, segments, settings, ct),
                _giveUpAt,
                OnRetry,
                _ct);
            _outcome.Inserts++;
            _outcome.InsertMilliseconds += Stopwatch.GetElapsedTime(started).TotalMilliseconds;

            // What the sink sent and the server accepted, not the server's written_rows: a server may omit the summary
            // header (it would read 0), and a dropped duplicate still reports its rows.
            _outcome.RowsInserted += rows.Count;
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

                segments.Add(_enc.Rows(rows[i], rows[j] + 1));
                i = j + 1;
            }

            return segments;
        }

        private void Reject(int row, ClickHouseException e, List<DeadLetter> rejected)
        {
            var offset = _enc.RowOffsets[row];
            var index = Array.BinarySearch(Source.Records, new KafkaRecord { Offset = offset }, OffsetComparer.Instance);
            rejected.Add(new DeadLetter(index, $"rejected by ClickHouse (code {e.ServerCode}): {e.Message}"));
            _d._log.Write(LogLevel.Warning, "row rejected by ClickHouse: sent to the dead-letter table", new LogFields(Source.Topic, Source.Partition, offset, Table: _enc.Table.ToString(), ErrorCode: e.ServerCode));
        }

        private async Task DeadLetterAsync(List<DeadLetter> letters, string token)
        {
            if (letters.Count == 0)
            {
                return;
            }

            letters.Sort((a, b) => a.RecordIndex.CompareTo(b.RecordIndex));
            var body = new ArrayBufferWriter<byte>(letters.Count * 512);
            DeadLetters.Encode(body, _batch, Source, letters, _d._options.SinkId, _source.Name, _enc.Table, _d._time.GetUtcNow());
            var settings = InsertSettings.For(_d._options.ExtraInsertSettings, token, body.WrittenCount);
            var dlqSql = $"INSERT INTO {_d._options.DeadLetterTable.Sql} FORMAT JSONEachRow";
            await _d._retrier.RunAsync(ct => _d._gateway.InsertAsync(dlqSql, [body.WrittenMemory], settings, ct), _giveUpAt, OnRetry, _ct);
            _outcome.DeadLettered += letters.Count;
        }

        private Task<byte[]> QueryBytesAsync(string sql) => _d._retrier.RunAsync(ct => _d._gateway.QueryAsync(sql, ct), _giveUpAt, OnRetry, _ct);

        private async Task<HashSet<long>> QueryOffsetsAsync(string sql)
        {
            var bytes = await _d._retrier.RunAsync(ct => _d._gateway.QueryAsync(sql, ct), _giveUpAt, OnRetry, _ct);
            var set = new HashSet<long>();
            foreach (var line in ((ReadOnlyMemory<byte>)bytes).Split())
            {
                set.Add(long.Parse(line.Span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
            }

            return set;
        }

        private void OnRetry(ClickHouseException e, int attempt, TimeSpan delay) =>
            _d._log.Write(
                LogLevel.Warning,
                $"transient ClickHouse failure, retrying: {e.Message}",
                new LogFields(Source.Topic, Source.Partition, Table: _enc.Table.ToString(), ErrorCode: e.ServerCode, Numbers: [new("attempt", attempt), new("delay_ms", (long)delay.TotalMilliseconds)]));

        private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Rows still missing after a fill: a concurrent invocation spent the fill round on other rows. Retried.</summary>
    private sealed class FillIncompleteException(string topic, int partition, long first, long last, TableName table)
        : Errors.SinkException($"{topic}/{partition}: offsets {first}-{last} are still missing from {table} after filling (another invocation used the same fill round for other rows); the partition is retried")
    {
        public override bool IsRetryable => true;
    }

    private sealed class OffsetComparer : IComparer<KafkaRecord>
    {
        public static readonly OffsetComparer Instance = new();

        public int Compare(KafkaRecord x, KafkaRecord y) => x.Offset.CompareTo(y.Offset);
    }
}
