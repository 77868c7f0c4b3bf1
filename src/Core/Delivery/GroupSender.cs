using System.Buffers;
using System.Diagnostics;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Delivery;

/// <summary>One partition of an insert group: its encoded rows, its outcome, its planned send and its token scope.</summary>
public sealed record GroupMember(EncodedPartition Encoded, PartitionOutcome Outcome, PlannedSend Send, TokenScope Scope);

/// <summary>
/// Sends an insert group (<see cref="InsertGroups"/>): the new ranges of several partitions of one table as one insert
/// under the group's token, one body of slices of each member's encoded rows (no copy), and their dead letters as one
/// insert under the group's dead-letter token. When ClickHouse rejects rows as data, nothing of the insert landed (a
/// data error rejects the whole block) and each member is sent through the fill path in turn
/// (<see cref="PartitionSender.FillAsync"/> with round 0 = the group's token): the first consumes the token with its
/// good rows, the others find theirs missing and land them under round 1 of their own range, each with its own bad-row
/// isolation and dead letters. Round 1 is not recorded, which is safe: a later attempt consumes rounds 0 and 1 in order
/// before it uses round 2 (docs/exactly-once.md, "One insert per table").
/// </summary>
internal sealed class GroupSender
{
    private readonly SenderServices _io;
    private readonly Retrier _retrier;
    private readonly KafkaBatch _batch;
    private readonly SourceIdentity _source;
    private readonly IReadOnlyList<GroupMember> _members;
    private readonly TableShape _shape;
    private readonly string _token;
    private readonly Action<PartitionOutcome, Exception> _fail;

    /// <param name="fail">Fails one member when the group was split after a data error; a failure of the group's own
    /// insert (out of time, refused) is thrown and fails every member.</param>
    public GroupSender(SenderServices io, Retrier retrier, KafkaBatch batch, SourceIdentity source, IReadOnlyList<GroupMember> members, Action<PartitionOutcome, Exception> fail)
    {
        _fail = fail;
        ArgumentNullException.ThrowIfNull(retrier);
        ArgumentNullException.ThrowIfNull(members);
        _io = io;
        _batch = batch;
        _source = source;
        _members = members;
        _shape = members[0].Encoded.Shape;
        _retrier = retrier.About(new LogFields(Table: _shape.Table.ToString(), Numbers: [new("group_partitions", members.Count)]));
        _token = DeduplicationToken.ForGroup(members[0].Scope, _shape.Table.ToString(), members[0].Send.Group);
    }

    public async Task SendAsync()
    {
        var segments = new List<ReadOnlyMemory<byte>>(_members.Count);
        var rows = new int[_members.Count];
        long bytes = 0;
        for (var i = 0; i < _members.Count; i++)
        {
            var (encoded, _, send, _) = _members[i];
            var from = encoded.LowerBound(send.Records.First);
            var to = encoded.LowerBound(send.Records.Last + 1);
            rows[i] = to - from;
            if (rows[i] > 0)
            {
                segments.Add(encoded.Rows(from, to));
                bytes += segments[^1].Length;
            }
        }

        if (segments.Count > 0)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await InsertAsync(segments, bytes);
            }
            catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
            {
                _io.Log.Write(
                    LogLevel.Information,
                    "an insert group met a data error: its partitions are sent one by one to find the rejected rows (the first consumes the group's token)",
                    new LogFields(Table: _shape.Table.ToString(), ErrorCode: e.ServerCode, Numbers: [new("group_partitions", _members.Count)]));
                await SendOneByOneAsync();
                return;
            }

            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            for (var i = 0; i < _members.Count; i++)
            {
                var outcome = _members[i].Outcome;
                lock (outcome)
                {
                    // One request for the group: counted once, on its first member.
                    outcome.Inserts += i == 0 ? 1 : 0;
                    outcome.InsertMilliseconds += ms;
                    outcome.RowsInserted += rows[i];
                }
            }
        }

        await WriteDeadLettersAsync();
    }

    private async Task InsertAsync(List<ReadOnlyMemory<byte>> segments, long bytes)
    {
        var mode = InsertModeChoice.For(_io.Options.InsertMode, _members[0].Outcome.TableDeduplicates, _shape.HasMaterializedViews);
        var settings = InsertSettings.For(_io.Options.ExtraInsertSettings, _token, bytes, mode);
        if (_shape.ChangeEvents != Configuration.ChangeEventFormat.None)
        {
            InsertSettings.KeepEveryVersion(settings);
        }

        var sql = $"INSERT INTO {_shape.Table.Sql} FORMAT JSONEachRow";
        await AsyncInsertFallback.RunAsync(settings, s => _retrier.RunAsync(ct => _io.Gateway.InsertAsync(sql, segments, s, ct)));
    }

    /// <summary>Every member's rejected records (decode errors, tombstones dead-lettered) in one insert under the group's dead-letter token.</summary>
    private async Task WriteDeadLettersAsync()
    {
        var body = new ArrayBufferWriter<byte>();
        var counts = new int[_members.Count];
        var now = _io.Time.GetUtcNow();
        for (var i = 0; i < _members.Count; i++)
        {
            var (encoded, _, send, _) = _members[i];
            var letters = encoded.Rejected
                .Where(r => send.Records.Contains(encoded.Source.Records[r.RecordIndex].Offset))
                .Select(r => new DeadLetter(r.RecordIndex, r.Reason))
                .OrderBy(l => l.RecordIndex)
                .ToList();
            counts[i] = letters.Count;
            DeadLetters.Encode(body, _batch, encoded.Source, letters, _io.Options.SinkId, _source.Name, encoded.Table, now);
        }

        if (body.WrittenCount == 0)
        {
            return;
        }

        var settings = InsertSettings.For(_io.Options.ExtraInsertSettings, DeduplicationToken.ForDeadLetters(_token), body.WrittenCount);
        var sql = $"INSERT INTO {_io.Options.DeadLetterTable.Sql} FORMAT JSONEachRow";
        await _retrier.RunAsync(ct => _io.Gateway.InsertAsync(sql, [body.WrittenMemory], settings, ct));
        for (var i = 0; i < _members.Count; i++)
        {
            lock (_members[i].Outcome)
            {
                _members[i].Outcome.DeadLettered += counts[i];
            }
        }
    }

    /// <summary>
    /// After a data error: each member through the fill path, in order, so that every one of them finds its rejected rows
    /// with its own bad-row isolation. A member that cannot be delivered fails alone; the others go on (the first one
    /// that got through consumed the group's token).
    /// </summary>
    private async Task SendOneByOneAsync()
    {
        foreach (var (encoded, outcome, send, scope) in _members)
        {
            var sender = new PartitionSender(_io, _retrier, _batch, _source, encoded, outcome, scope);
            try
            {
                await sender.SendAsync(send with { Kind = SendKind.FillMissing, Round = 0 });
            }
            catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
            {
                _fail(outcome, e);
            }
        }
    }
}
