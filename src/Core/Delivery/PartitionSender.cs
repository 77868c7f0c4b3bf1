using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Sends one partition's encoded rows: the plan's sends (<see cref="SendAsync"/>), one insert of rows under a token
/// with bad-row isolation (<see cref="InsertRowsAsync"/>), the fill path (<see cref="FillAsync"/>), the reads that
/// decide what to insert (<see cref="PresentOffsetsAsync"/>) and the dead letters. Every request goes through the
/// partition's <see cref="Retrier"/>. Replay sends through the same operations.
/// </summary>
internal sealed class PartitionSender
{
    private static readonly IComparer<KafkaRecord> ByOffset = Comparer<KafkaRecord>.Create((x, y) => x.Offset.CompareTo(y.Offset));

    private readonly SenderServices _io;
    private readonly Retrier _retrier;
    private readonly KafkaBatch _batch;
    private readonly SourceIdentity _source;
    private readonly EncodedPartition _encoded;
    private readonly PartitionOutcome _outcome;
    private readonly TokenScope? _scope;
    private readonly string _insertSql;

    /// <param name="retrier">The invocation's retrier; its retries are logged with this partition.</param>
    /// <param name="scope">The data tokens' scope (from the plan); null for a sender that only inserts under given tokens.</param>
    public PartitionSender(SenderServices io, Retrier retrier, KafkaBatch batch, SourceIdentity source, EncodedPartition encoded, PartitionOutcome outcome, TokenScope? scope = null)
    {
        ArgumentNullException.ThrowIfNull(retrier);
        ArgumentNullException.ThrowIfNull(encoded);
        _io = io;
        _batch = batch;
        _source = source;
        _encoded = encoded;
        _outcome = outcome;
        _scope = scope;
        _retrier = retrier.About(new LogFields(encoded.Source.Topic, encoded.Source.Partition, Table: encoded.Table.ToString()));
        _insertSql = $"INSERT INTO {encoded.Table.Sql} FORMAT JSONEachRow";
    }

    /// <summary>The partition's records, as decoded.</summary>
    private PartitionRecords Records => _encoded.Source;

    /// <summary>Carries out a partition's plan, send by send.</summary>
    public async Task SendPlanAsync(PartitionPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        foreach (var send in plan.Sends)
        {
            await SendAsync(send);
        }
    }

    /// <summary>
    /// Carries out one <see cref="PlannedSend"/> by its kind: nothing for a landed range, the fill path for a recorded
    /// range on a table with offset columns, otherwise one insert of the send's rows under its token followed by the
    /// send's dead letters.
    /// </summary>
    public async Task SendAsync(PlannedSend send)
    {
        ArgumentNullException.ThrowIfNull(send);
        var from = _encoded.LowerBound(send.Records.First);
        var to = _encoded.LowerBound(send.Records.Last + 1);
        var rejected = _encoded.Rejected
            .Where(r => send.Records.Contains(Records.Records[r.RecordIndex].Offset))
            .Select(r => new DeadLetter(r.RecordIndex, r.Reason))
            .ToList();

        if (send.Kind == SendKind.AlreadyLanded)
        {
            _outcome.Replayed += to - from;
            return;
        }

        if (send.Kind == SendKind.FillMissing)
        {
            await FillAsync(send, from, to, rejected);
            return;
        }

        var token = Token(send, 0);
        var rows = Enumerable.Range(from, to - from).ToList();
        var skipped = 0;
        if (send.ProbeFirst && _encoded.Shape.CanProbe && (rows.Count > 0 || rejected.Count > 0))
        {
            // Nothing recorded vouches that these records are new (no state, or a batch before the recorded range):
            // those the table holds already, recognised by their content, are not sent again.
            var present = await PresentOffsetsAsync(send.Records);
            var found = rows.RemoveAll(i => present.Contains(_encoded.RowOffsets[i]));
            skipped = found;
            if (rejected.Count > 0)
            {
                rejected = await NotYetDeadLetteredAsync(rejected, send.Records);
            }

            if (found > 0)
            {
                _outcome.Replayed += found;
                _io.Log.Write(
                    LogLevel.Warning,
                    "records of a new unit are present already (state lost or replaced, a stale poller, or a rewind over records that landed): not sent again",
                    new LogFields(Records.Topic, Records.Partition, send.Records.First, send.Records.Last, _encoded.Table.ToString(), Numbers: [new("present", found)]));
            }
        }

        var attempted = rows.Count;
        if (send.Kind == SendKind.Tail && attempted > 0)
        {
            // Counted before the insert: an insert that fails without an answer (deadline, lost connection) may
            // still be applied, and its retry goes under the same token as a replay, which is not counted again.
            _outcome.PossibleDuplicates += attempted;
            _io.Log.Write(
                LogLevel.Warning,
                "PossibleDuplicates: inserting the unresolved tail of a range whose token was spent on a subset; these rows may already have landed with the original insert. Add _topic, _partition and _offset columns to the table to make this exact.",
                new LogFields(Records.Topic, Records.Partition, send.Records.First, send.Records.Last, _encoded.Table.ToString(), Numbers: [new("rows", attempted)]));
        }

        var forgotten = send.Kind is SendKind.Replay or SendKind.Subset && attempted > 0 && await MayHaveForgottenAsync(send);
        if (forgotten)
        {
            // The window guard: the table may no longer remember the token, so the re-send may land a second time.
            _outcome.PossibleDuplicates += attempted;
            _io.Log.Write(
                LogLevel.Warning,
                "PossibleDuplicates: re-sending a recorded range whose token may have left the table's deduplication window (more inserts into the table, or more time, since it was first sent than the window holds); these rows may land a second time. Add _topic, _partition and _offset columns to the table to make this exact, or raise the window.",
                new LogFields(Records.Topic, Records.Partition, send.Records.First, send.Records.Last, _encoded.Table.ToString(), Numbers: [new("rows", attempted)]));
        }

        long written;
        try
        {
            written = await InsertRowsAsync(rows, token, rejected);
        }
        catch (ClickHouseException e) when (skipped == 0 && send.Records == send.TokenRange && ClickHouseErrors.ViewOf(e.Message) is not null)
        {
            // The whole range went under its first token and landed in the table; a view rejected it.
            _outcome.ViewRejected = send.TokenRange;
            throw;
        }

        if (forgotten)
        {
            _outcome.PossibleDuplicates -= attempted - written;
        }

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
                _io.Log.Write(
                    LogLevel.Warning,
                    "offsets lie before the recorded range or start before it (consumer group rewound or topic recreated): inserting the whole batch as new rows under a new nonce",
                    new LogFields(Records.Topic, Records.Partition, send.Records.First, send.Records.Last, _encoded.Table.ToString(), Strings: [new("nonce", Scope.Nonce.ToString("x16", CultureInfo.InvariantCulture))]));
                break;
            default:
                break;
        }

        if (send.Kind == SendKind.Tail && rejected.Count > 0)
        {
            // The tail's dead letters may have landed with the original range: the table says which.
            rejected = await NotYetDeadLetteredAsync(rejected, send.Records);
        }

        await WriteDeadLettersAsync(rejected, DeduplicationToken.ForDeadLetters(token));
    }

    /// <summary>
    /// The fill path (<see cref="SendKind.FillMissing"/>, tables with offset columns): a batch that repeats a recorded
    /// range sends only the rows ClickHouse does not hold yet. Fencing (docs/exactly-once.md): rounds 0..r of the
    /// range's token may have been sent before and may still be applied late, so nothing goes under a later round until
    /// an insert under each earlier one was acknowledged. Ask which offsets are present; for each round in order, send
    /// the rows still missing under it (dropped if the round was spent, applied otherwise; either way spent once
    /// answered) and ask again; then send what is still missing under round r+1, which the state recorded before this
    /// insert; ask once more and fail the partition (retried) if a row is still missing, which only a concurrent
    /// invocation spending r+1 on other rows can cause.
    /// </summary>
    public async Task FillAsync(PlannedSend send, int from, int to, List<DeadLetter> rejected)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(rejected);
        if (_encoded.Shape.HasMaterializedViews && await MayHaveForgottenAsync(send))
        {
            // Past the window the table would take the range again: it is asked first, like any other table. A view
            // that failed on the first insert does not get the records the table holds (logged for the operator).
            _io.Log.Write(
                LogLevel.Warning,
                "a range of a table with materialized views is retried after its token may have left the table's deduplication window: not re-sent whole (the table would store it twice); the views' tables get only the records the table lacks",
                new LogFields(Records.Topic, Records.Partition, send.Records.First, send.Records.Last, _encoded.Table.ToString()));
        }
        else if (_encoded.Shape.HasMaterializedViews)
        {
            // An insert into a table with views may have landed in the table and failed in a view (the engine commits
            // the table's block, then answers the view's error): a presence read of the table cannot tell. So the range
            // goes again under round 0 first, the token of the range's first insert: the table drops it if that insert
            // landed, each view's table drops its own copy if it landed there (the token is passed on,
            // deduplicate_blocks_in_dependent_materialized_views), and takes it if its view had failed.
            await ResendThroughViewsAsync(send, from, to, rejected);
        }

        var present = await PresentForFillAsync(send);
        var missing = RowsNotIn(from, to, present, rejected);
        var presentAtStart = (to - from) - missing.Count;

        // Every round up to r may have been used by an earlier attempt and may still be applied late (an attempt
        // that stopped at round j left j in flight and never reached the rounds after it, which an attempt before
        // it may have used): each is consumed in order, with only the rows still missing, before round r+1.
        // Rows the table dropped under an earlier round (its token spent by other content) go again under a later one.
        // A materialized view's table whose view failed on that token's first content took them the first time: with
        // views, each such row is a possible duplicate there (counted once the table holds it).
        var droppedOnce = new HashSet<int>();
        for (var round = 0; round <= send.Round && missing.Count > 0; round++)
        {
            await (round == 0 ? InsertRoundZeroAsync(send, [.. missing], rejected) : InsertRowsAsync([.. missing], Token(send, round), rejected));
            present = await PresentForFillAsync(send);
            missing = RowsNotIn(from, to, present, rejected);
            droppedOnce.UnionWith(missing);
        }

        var filled = 0;
        if (missing.Count > 0)
        {
            filled = missing.Count;
            await InsertRowsAsync([.. missing], Token(send, send.Round + 1), rejected);
            present = await PresentForFillAsync(send);
            missing = RowsNotIn(from, to, present, rejected);
            if (missing.Count > 0)
            {
                throw new FillIncompleteException(Records.Topic, Records.Partition, _encoded.RowOffsets[missing[0]], _encoded.RowOffsets[missing[^1]], _encoded.Table);
            }
        }

        if (_encoded.Shape.HasMaterializedViews && droppedOnce.Count > 0)
        {
            _outcome.PossibleDuplicates += droppedOnce.Count;
            _io.Log.Write(
                LogLevel.Warning,
                "PossibleDuplicates: rows the table dropped under an earlier round of their range's token were inserted under a later one; a materialized view's table may hold them twice if its view failed on that token's first insert when the sink could not see it (an answer lost, an invocation ended)",
                new LogFields(Records.Topic, Records.Partition, send.Records.First, send.Records.Last, _encoded.Table.ToString(), Numbers: [new("rows", droppedOnce.Count)]));
        }

        _outcome.Replayed += presentAtStart;
        _io.Log.Write(
            LogLevel.Information,
            "batch repeats a recorded range: asked ClickHouse which offsets are present, consumed the range's token with the missing ones, then filled what was still missing",
            new LogFields(Records.Topic, Records.Partition, send.Records.First, send.Records.Last, _encoded.Table.ToString(), Numbers: [new("present", presentAtStart), new("filled_next_round", filled), new("round", send.Round)]));

        if (rejected.Count > 0)
        {
            // The same fencing for the dead letters, round by round under dlq: tokens.
            var letters = await NotYetDeadLetteredAsync(rejected, send.Records);
            for (var round = 0; round <= send.Round + 1 && letters.Count > 0; round++)
            {
                await WriteDeadLettersAsync(letters, DeduplicationToken.ForDeadLetters(Token(send, round)));
                letters = await NotYetDeadLetteredAsync(letters, send.Records);
            }
        }
    }

    /// <summary>
    /// Round 0 of a recorded range again, for the views of the table. A redelivery that carries only part of the range
    /// must not spend the views' token on that part when round 0 landed in the table with all of it: the rest would never
    /// reach the views' tables. So the whole range is re-sent from the table's own rows (<see cref="ViewRefill"/>) when
    /// they are known to be round 0's: a view rejected round 0 (recorded in the state), or the table is found holding
    /// the batch's records where only round 0 can have put them (<see cref="MayHoldRoundZero"/>). Otherwise the batch's
    /// records of the range go again under round 0.
    /// </summary>
    private async Task ResendThroughViewsAsync(PlannedSend send, int from, int to, List<DeadLetter> rejected)
    {
        var shape = _encoded.Shape;
        if ((send.ViewFailed || MayHoldRoundZero(send)) && shape.CanProbe && shape.PresenceTable == _encoded.Table)
        {
            var held = await BytesAsync(RecordPresence.TableQuery(_encoded.Table, shape.Metadata, _source.Name, Records.Topic, Records.Partition, send.TokenRange));
            if (ViewRefill.OneRowPerOffset(held) && (send.ViewFailed || HoldsTheBatch(held, send)))
            {
                var settings = InsertSettings.For(_io.Options.ExtraInsertSettings, Token(send, 0), 0);
                settings["select_sequential_consistency"] = "1";
                if (shape.ChangeEvents != Configuration.ChangeEventFormat.None)
                {
                    InsertSettings.KeepEveryVersion(settings);
                }

                var sql = ViewRefill.Sql(_encoded.Table, shape.Metadata, _source.Name, Records.Topic, Records.Partition, send.TokenRange);
                try
                {
                    await _retrier.RunAsync(ct => _io.Gateway.ExecuteAsync(sql, settings, ct));
                }
                catch (ClickHouseException e) when (ClickHouseErrors.ViewOf(e.Message) is not null)
                {
                    _outcome.ViewRejected = send.TokenRange;
                    throw;
                }

                _outcome.Inserts++;
                return;
            }

            if (send.ViewFailed)
            {
                _io.Log.Write(
                    LogLevel.Warning,
                    "the table holds two rows at some offsets of a range a materialized view rejected (a recreated topic or a rewind): the range is not re-sent from the table, its views get only this batch's records again; check the views' tables for the range",
                    new LogFields(Records.Topic, Records.Partition, send.TokenRange.First, send.TokenRange.Last, _encoded.Table.ToString()));
            }
        }

        await InsertRoundZeroAsync(send, RowsNotIn(from, to, [], rejected), rejected);
    }

    /// <summary>
    /// Whether only round 0 can have put this range's records in the table, so that finding them there means round 0
    /// landed (one insert lands whole or not at all) although nothing recorded says so (an answer lost while a view
    /// failed leaves no trace): a smaller batch on the range's first redelivery (no later round used), round 0 planned
    /// with every record of the range (not <see cref="PlannedSend.ProbedFirst"/>), outside insert groups, on a table
    /// that keeps <c>_timestamp</c> (records are found by content).
    /// </summary>
    private bool MayHoldRoundZero(PlannedSend send) =>
        send.Records != send.TokenRange && send.Round == 0 && !send.ProbedFirst && send.Group == 0
        && (_encoded.Shape.Metadata & MetadataColumns.Timestamp) != 0;

    /// <summary>Whether the table's rows of the range (a presence answer) hold the batch's records by content, and no other row at their offsets.</summary>
    private bool HoldsTheBatch(ReadOnlyMemory<byte> held, PlannedSend send)
    {
        var matched = RecordPresence.Present(held, RecordsIn(send.Records));
        return matched.Count > 0 && matched.Count == RecordPresence.Offsets(held).Count(send.Records.Contains);
    }

    /// <summary>
    /// An insert of a fill under round 0. On a table with views, on the range's first redelivery (no later round used
    /// yet), outside insert groups and when round 0 was planned with every record: a view's error means that round 0
    /// is spent in the table and that the table's rows of the range are round 0's, whichever attempt landed them (this
    /// one, or an earlier one whose answer was lost). Recorded like a rejected first insert, so the redelivery re-sends
    /// those rows from the table under round 0 (<see cref="ViewRefill"/>) instead of a part of them.
    /// </summary>
    private async Task InsertRoundZeroAsync(PlannedSend send, List<int> rows, List<DeadLetter> rejected)
    {
        try
        {
            await InsertRowsAsync(rows, Token(send, 0), rejected);
        }
        catch (ClickHouseException e) when (_encoded.Shape.HasMaterializedViews && send.Round == 0 && !send.ProbedFirst && send.Group == 0
            && ClickHouseErrors.ViewOf(e.Message) is not null)
        {
            _outcome.ViewRejected = send.TokenRange;
            throw;
        }
    }

    /// <summary>
    /// Inserts the given rows under one token: one JSONEachRow insert whose body is the encoded rows (slices of the
    /// encoder's buffer, no copy). When ClickHouse rejects rows as data, <see cref="BadRowIsolation"/> moves them to
    /// <paramref name="rejected"/> at a bounded cost and lands the rest as one block under the same token.
    /// </summary>
    public async Task<long> InsertRowsAsync(List<int> rows, string token, List<DeadLetter> rejected)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(rejected);
        if (rows.Count == 0)
        {
            // Every record of the range was rejected by the encoder (they go to the dead letters): ClickHouse
            // answers an empty INSERT with code 108 NO_DATA_TO_INSERT, which failed the partition on every retry.
            // The token stays unused, so there is nothing to fence.
            return 0;
        }

        try
        {
            return await InsertUnderTokenAsync(rows, token);
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
        {
            var isolation = new BadRowIsolation(IsolationIoFor(token, rejected), _io.Time, _retrier.Budget.IsolationStopAt);
            return await isolation.InsertAsync(rows, token, e);
        }
    }

    /// <summary>
    /// One insert of the rows under the token, retried while transient; a data error (ClickHouse rejects a row) is
    /// the caller's. Returns the rows sent.
    /// </summary>
    public Task<long> InsertUnderTokenAsync(List<int> rows, string token) => InsertOnceAsync(rows, token, probe: false);

    /// <summary>
    /// The offsets of this partition (of this source, when the table has <c>_source</c>) in <paramref name="range"/>
    /// (and among <paramref name="only"/> when given) present in the table, read with sequential consistency so that
    /// every acknowledged insert is seen.
    /// </summary>
    public async Task<HashSet<long>> PresentOffsetsAsync(OffsetRange range, IReadOnlyCollection<long>? only = null)
    {
        var shape = _encoded.Shape;
        var table = shape.PresenceTable ?? throw new InvalidOperationException($"table {shape.Table} keeps no rows a read would see: it cannot be asked which records are present");
        var answer = await BytesAsync(RecordPresence.TableQuery(table, shape.PresenceMetadata, _source.Name, Records.Topic, Records.Partition, range, only));
        return RecordPresence.Present(answer, RecordsIn(range));
    }

    /// <summary>
    /// The offsets of the send's range the fill path counts as present. For change events on a ReplacingMergeTree, also
    /// those a merge may have folded into a later version of their key (<see cref="SupersededVersions"/>): a redelivery
    /// must not insert an old version again. Later versions may lie after the send's range, so presence is asked up
    /// to the batch's last offset.
    /// </summary>
    private async Task<HashSet<long>> PresentForFillAsync(PlannedSend send)
    {
        if (_encoded.Shape.ChangeEvents == Configuration.ChangeEventFormat.None)
        {
            return await PresentOffsetsAsync(send.Records);
        }

        var present = await PresentOffsetsAsync(new OffsetRange(send.Records.First, Math.Max(send.Records.Last, Records.LastOffset)));
        present.UnionWith(SupersededVersions.Of(_batch, Records, present));
        return present;
    }

    /// <summary>
    /// The window guard (<see cref="WindowGuard"/>): whether the send's recorded token may have left its table's
    /// deduplication window, from the table's block number now (one small read) and the range's mark.
    /// </summary>
    private async Task<bool> MayHaveForgottenAsync(PlannedSend send)
    {
        if (send.Mark is null || _outcome.DeduplicatingTable is not { } table)
        {
            return false;
        }

        var answer = await BytesAsync(WindowGuard.BlockNumberSql(table.Table));
        var now = long.Parse(System.Text.Encoding.ASCII.GetString(answer).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return WindowGuard.MayHaveForgotten(send.Mark, now, _io.Time.GetUtcNow(), table.DeduplicationWindow, table.DeduplicationWindowSeconds);
    }

    /// <summary>The offsets of a TSV answer of one offset per line.</summary>
    public static HashSet<long> ParseOffsets(ReadOnlyMemory<byte> tsv)
    {
        var set = new HashSet<long>();
        foreach (var line in tsv.Split())
        {
            set.Add(long.Parse(line.Span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
        }

        return set;
    }

    /// <summary>The partition's records within <paramref name="range"/>.</summary>
    private IEnumerable<KafkaRecord> RecordsIn(OffsetRange range) => Records.Records.Where(r => range.Contains(r.Offset));

    private TokenScope Scope => _scope ?? throw new InvalidOperationException("this sender inserts under given tokens only: it has no plan's token scope");

    /// <summary>The data token of a send at a fencing round: round 0 of a range sent in an insert group is the group's.</summary>
    private string Token(PlannedSend send, int round) => round == 0 && send.Group != 0
        ? DeduplicationToken.ForGroup(Scope, _encoded.Table.ToString(), send.Group)
        : DeduplicationToken.ForData(Scope, _outcome.StateTopic, Records.Partition, send.TokenRange, send.Generation, round);

    /// <summary>What bad-row isolation may do with this partition's rows: insert, probe, reject, read and flush dead letters.</summary>
    private IsolationIo IsolationIoFor(string token, List<DeadLetter> rejected)
    {
        var found = new List<DeadLetter>();
        return new IsolationIo(
            InsertUnderTokenAsync,
            (r, t) => InsertOnceAsync(r, t, probe: true),
            (row, error) => { Reject(row, error, rejected); found.Add(rejected[^1]); },
            row => _encoded.RowOffsets[row],
            MarkedDeadLettersAsync,
            async (offsets, suffix, mark) =>
            {
                var letters = found.Where(f => offsets.Contains(Records.Records[f.RecordIndex].Offset)).Select(f => f with { Reason = f.Reason + " " + mark }).ToList();
                await WriteDeadLettersAsync(letters, DeduplicationToken.ForDeadLetters(token) + suffix);
                return letters.Count;
            },
            r => ParseClassification.RunAsync(BytesAsync, _encoded.Table, r, i => _encoded.Rows(i, i + 1), InsertSettings.For(_io.Options.ExtraInsertSettings, token, 0)),
            r => _io.DryRun.InsertAsync(_encoded.Table, Segments(r), token, _retrier));
    }

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

        var mode = probe ? Configuration.InsertMode.Sync : InsertModeChoice.For(_io.Options.InsertMode, _outcome.TableDeduplicates, _encoded.Shape.HasMaterializedViews);
        var settings = InsertSettings.For(_io.Options.ExtraInsertSettings, token, bytes, mode);
        if (_encoded.Shape.ChangeEvents != Configuration.ChangeEventFormat.None)
        {
            InsertSettings.KeepEveryVersion(settings);
        }

        if (probe)
        {
            settings["input_format_parallel_parsing"] = "0";
        }

        var started = Stopwatch.GetTimestamp();
        if (!probe && _outcome.TableDeduplicates == false && _encoded.Shape.CanProbe)
        {
            // No deduplication window: the retry of an insert whose answer was lost would land it again. Ask which of
            // the rows are present before each retry and send only the others.
            var tries = 0;
            var sent = rows;
            await _retrier.RunAsync(async ct =>
            {
                if (tries++ > 0)
                {
                    var range = new OffsetRange(_encoded.RowOffsets[sent[0]], _encoded.RowOffsets[sent[^1]]);
                    var present = RecordPresence.Present(
                        await _io.Gateway.QueryAsync(RecordPresence.TableQuery(_encoded.Shape.PresenceTable!, _encoded.Shape.PresenceMetadata, _source.Name, Records.Topic, Records.Partition, range), ct),
                        RecordsIn(range));
                    sent = sent.Where(i => !present.Contains(_encoded.RowOffsets[i])).ToList();
                    if (sent.Count == 0)
                    {
                        return default;
                    }
                }

                return await _io.Gateway.InsertAsync(_insertSql, tries == 1 ? segments : Segments(sent), settings, ct);
            });
        }
        else
        {
            await AsyncInsertFallback.RunAsync(settings, s => _retrier.RunAsync(ct => _io.Gateway.InsertAsync(_insertSql, segments, s, ct)));
        }

        lock (_outcome)
        {
            _outcome.Inserts++;
            _outcome.InsertMilliseconds += Stopwatch.GetElapsedTime(started).TotalMilliseconds;

            // What the sink sent and the server accepted, not the server's written_rows: a server may omit the summary
            // header (it would read 0), and a dropped duplicate still reports its rows.
            _outcome.RowsInserted += rows.Count;
        }

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

            segments.Add(_encoded.Rows(rows[i], rows[j] + 1));
            i = j + 1;
        }

        return segments;
    }

    private void Reject(int row, ClickHouseException e, List<DeadLetter> rejected)
    {
        var offset = _encoded.RowOffsets[row];
        var index = Array.BinarySearch(Records.Records, new KafkaRecord { Offset = offset }, ByOffset);
        rejected.Add(new DeadLetter(index, RejectedReason(e)));
        _io.Log.Write(LogLevel.Warning, "row rejected by ClickHouse: sent to the dead-letter table", new LogFields(Records.Topic, Records.Partition, offset, Table: _encoded.Table.ToString(), ErrorCode: e.ServerCode));
    }

    /// <summary>The reason of a row ClickHouse rejected: the same text for the sink's and the replay's dead letters, so a filter on it finds both.</summary>
    public static string RejectedReason(ClickHouseException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return $"rejected by ClickHouse (code {e.ServerCode}): {e.Message}";
    }

    /// <summary>Row indexes in [from, to) whose offset is not present and that are not dead letters.</summary>
    private List<int> RowsNotIn(int from, int to, HashSet<long> present, List<DeadLetter> rejected)
    {
        var lettered = rejected.Select(r => Records.Records[r.RecordIndex].Offset).ToHashSet();
        var rows = new List<int>();
        for (var i = from; i < to; i++)
        {
            var offset = _encoded.RowOffsets[i];
            if (!present.Contains(offset) && !lettered.Contains(offset))
            {
                rows.Add(i);
            }
        }

        return rows;
    }

    /// <summary>Inserts dead letters of this partition into the dead-letter table under a <c>dlq:</c> token.</summary>
    private async Task WriteDeadLettersAsync(List<DeadLetter> letters, string token)
    {
        if (letters.Count == 0)
        {
            return;
        }

        letters.Sort((a, b) => a.RecordIndex.CompareTo(b.RecordIndex));
        var body = new ArrayBufferWriter<byte>(letters.Count * 512);
        var options = _io.Options;
        DeadLetters.Encode(body, _batch, Records, letters, options.SinkId, _source.Name, _encoded.Table, _io.Time.GetUtcNow());
        var settings = InsertSettings.For(options.ExtraInsertSettings, token, body.WrittenCount);
        var dlqSql = $"INSERT INTO {options.DeadLetterTable.Sql} FORMAT JSONEachRow";
        await _retrier.RunAsync(ct => _io.Gateway.InsertAsync(dlqSql, [body.WrittenMemory], settings, ct));
        _outcome.DeadLettered += letters.Count;
    }

    /// <summary>The dead-letter table has offsets: ask it which of these records it holds already (sequentially consistent).</summary>
    private async Task<List<DeadLetter>> NotYetDeadLetteredAsync(List<DeadLetter> letters, OffsetRange range)
    {
        var options = _io.Options;
        var answer = await BytesAsync(RecordPresence.DeadLetterQuery(options.DeadLetterTable, options.SinkId, _source.Name, Records.Topic, Records.Partition, range, _encoded.Table));
        var present = RecordPresence.Present(answer, RecordsIn(range));
        return letters.Where(r => !present.Contains(Records.Records[r.RecordIndex].Offset)).ToList();
    }

    /// <summary>The offsets in [first, last] whose dead letters carry <paramref name="mark"/> in their error (bad-row isolation).</summary>
    private Task<HashSet<long>> MarkedDeadLettersAsync(long first, long last, string mark) =>
        OffsetsAsync(
            $"SELECT offset FROM {_io.Options.DeadLetterTable.Sql} WHERE sink_id = {SqlIdentifier.Literal(_io.Options.SinkId)} AND topic = {SqlIdentifier.Literal(Records.Topic)} " +
            $"AND partition = {Num(Records.Partition)} AND offset BETWEEN {Num(first)} AND {Num(last)} AND target_table = {SqlIdentifier.Literal(_encoded.Table.ToString())} " +
            $"AND position(error, {SqlIdentifier.Literal(mark)}) > 0 FORMAT TSV");

    /// <summary>A query's raw answer (retried like every request of the partition).</summary>
    private Task<byte[]> BytesAsync(string sql) => _retrier.RunAsync(ct => _io.Gateway.QueryAsync(sql, ct));

    private async Task<HashSet<long>> OffsetsAsync(string sql) => ParseOffsets(await BytesAsync(sql));

    /// <summary>A number in SQL text.</summary>
    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
