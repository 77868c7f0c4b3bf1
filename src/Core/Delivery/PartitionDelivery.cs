using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Decoding;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Routing;

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

    public PartitionDelivery(IClickHouseGateway gateway, Retrier retrier, SinkOptions options, ISinkLog log, TimeProvider time)
    {
        _gateway = gateway;
        _retrier = retrier;
        _options = options;
        _log = log;
        _time = time;
    }

    public async Task DeliverAsync(KafkaBatch batch, EncodedPartition encoded, PartitionPlan plan, PartitionOutcome outcome, DateTimeOffset giveUpAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(outcome);
        var run = new Run(this, batch, encoded, outcome, giveUpAt, cancellationToken);
        foreach (var send in plan.Sends)
        {
            await run.SendAsync(send);
        }
    }

    private sealed class Run
    {
        private readonly PartitionDelivery _d;
        private readonly KafkaBatch _batch;
        private readonly EncodedPartition _enc;
        private readonly PartitionOutcome _outcome;
        private readonly DateTimeOffset _giveUpAt;
        private readonly CancellationToken _ct;
        private readonly string _insertSql;

        public Run(PartitionDelivery d, KafkaBatch batch, EncodedPartition enc, PartitionOutcome outcome, DateTimeOffset giveUpAt, CancellationToken ct)
        {
            _d = d;
            _batch = batch;
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

            var token = DeduplicationToken.ForData(_d._options.SinkId, Source.Topic, Source.Partition, send.TokenRange, send.Generation);
            var rows = Enumerable.Range(from, to - from).ToList();
            var written = await InsertRowsAsync(rows, token, rejected);
            switch (send.Kind)
            {
                case SendKind.Replay:
                    _outcome.Replayed += rows.Count;
                    break;
                case SendKind.Tail when written > 0:
                    _outcome.PossibleDuplicates += written;
                    _d._log.Write(
                        LogLevel.Warning,
                        "PossibleDuplicates: inserted the unresolved tail of a range whose token was spent on a subset; these rows may already have landed with the original insert. Add _topic, _partition and _offset columns to the table to make this exact.",
                        new LogFields(Source.Topic, Source.Partition, send.Records.First, send.Records.Last, _enc.Table.ToString(), Numbers: [new("rows", written)]));
                    break;
                case SendKind.Rewound:
                    _d._log.Write(
                        LogLevel.Warning,
                        "offsets lie before the recorded range (consumer group rewound or topic recreated): inserting them as new rows under a new token generation",
                        new LogFields(Source.Topic, Source.Partition, send.Records.First, send.Records.Last, _enc.Table.ToString(), Numbers: [new("generation", send.Generation)]));
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

        private async Task FillMissingAsync(PlannedSend send, int from, int to, List<DeadLetter> rejected)
        {
            var t = _enc.Table;
            var present = await QueryOffsetsAsync(
                $"SELECT _offset FROM {t.Sql} WHERE _topic = {SqlIdentifier.Literal(Source.Topic)} AND _partition = {Num(Source.Partition)} " +
                $"AND _offset BETWEEN {Num(send.Records.First)} AND {Num(send.Records.Last)} FORMAT TSV");
            var missing = 0;
            var runStart = -1;
            for (var i = from; i <= to; i++)
            {
                var isMissing = i < to && !present.Contains(_enc.RowOffsets[i]);
                if (isMissing && runStart < 0)
                {
                    runStart = i;
                }
                else if (!isMissing && runStart >= 0)
                {
                    var range = new OffsetRange(_enc.RowOffsets[runStart], _enc.RowOffsets[i - 1]);
                    var token = DeduplicationToken.ForData(_d._options.SinkId, Source.Topic, Source.Partition, range, send.Generation);
                    await InsertRowsAsync(Enumerable.Range(runStart, i - runStart).ToList(), token, rejected);
                    missing += i - runStart;
                    runStart = -1;
                }
            }

            _outcome.Replayed += (to - from) - missing;
            _d._log.Write(
                LogLevel.Information,
                "retried batch starts inside the recorded range: asked ClickHouse which offsets are present and inserted only the missing ones",
                new LogFields(Source.Topic, Source.Partition, send.Records.First, send.Records.Last, t.ToString(), Numbers: [new("present", present.Count), new("inserted", missing)]));

            if (rejected.Count > 0)
            {
                var toLetter = await NotYetDeadLetteredAsync(rejected, send.Records);
                if (toLetter.Count > 0)
                {
                    // Rows isolated in the inserts above were appended after the decoder's rejections: order by offset.
                    toLetter.Sort((a, b) => a.RecordIndex.CompareTo(b.RecordIndex));
                    var range = new OffsetRange(Source.Records[toLetter[0].RecordIndex].Offset, Source.Records[toLetter[^1].RecordIndex].Offset);
                    var token = "fill:" + DeduplicationToken.ForData(_d._options.SinkId, Source.Topic, Source.Partition, range, send.Generation);
                    await DeadLetterAsync(toLetter, DeduplicationToken.ForDeadLetters(token));
                }
            }
        }

        /// <summary>The dead-letter table has offsets: ask it which of these records it holds already.</summary>
        private async Task<List<DeadLetter>> NotYetDeadLetteredAsync(List<DeadLetter> letters, OffsetRange range)
        {
            var dlq = _d._options.DeadLetterTable;
            var present = await QueryOffsetsAsync(
                $"SELECT offset FROM {dlq.Sql} WHERE sink_id = {SqlIdentifier.Literal(_d._options.SinkId)} AND topic = {SqlIdentifier.Literal(Source.Topic)} " +
                $"AND partition = {Num(Source.Partition)} AND offset BETWEEN {Num(range.First)} AND {Num(range.Last)} FORMAT TSV");
            return letters.Where(r => !present.Contains(Source.Records[r.RecordIndex].Offset)).ToList();
        }

        /// <summary>
        /// Inserts the given rows under one token. When ClickHouse rejects rows as data, <see cref="BadRowIsolation"/>
        /// moves them to <paramref name="rejected"/> at a bounded cost and lands the rest as one block under the same token.
        /// </summary>
        private async Task<long> InsertRowsAsync(List<int> rows, string token, List<DeadLetter> rejected)
        {
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
                        }),
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
            var result = await _d._retrier.RunAsync(
                ct => _d._gateway.InsertAsync(_insertSql, segments, settings, ct),
                _giveUpAt,
                OnRetry,
                _ct);
            _outcome.Inserts++;
            _outcome.InsertMilliseconds += Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            _outcome.RowsInserted += result.WrittenRows;
            return result.WrittenRows;
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
            DeadLetters.Encode(body, _batch, Source, letters, _d._options.SinkId, _enc.Table, _d._time.GetUtcNow());
            var settings = InsertSettings.For(_d._options.ExtraInsertSettings, token, body.WrittenCount);
            var dlqSql = $"INSERT INTO {_d._options.DeadLetterTable.Sql} FORMAT JSONEachRow";
            await _d._retrier.RunAsync(ct => _d._gateway.InsertAsync(dlqSql, [body.WrittenMemory], settings, ct), _giveUpAt, OnRetry, _ct);
            _outcome.DeadLettered += letters.Count;
        }

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

    private sealed class OffsetComparer : IComparer<KafkaRecord>
    {
        public static readonly OffsetComparer Instance = new();

        public int Compare(KafkaRecord x, KafkaRecord y) => x.Offset.CompareTo(y.Offset);
    }
}
