using System.Buffers;
using System.Security.Cryptography;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Dead letters written outside any partition's exactly-once protocol (no state, no offset range): the records the
/// event could not identify (<see cref="KafkaBatch.Unidentified"/>) and the records of partitions routing sends nowhere
/// (DEFAULT_ROUTE=none). All of an invocation's go in one insert whose token is a hash of the rows without their
/// <c>failed_at</c>: a retried identical batch is dropped by the dead-letter table's deduplication window.
/// </summary>
public sealed class DetachedDeadLetters(IClickHouseGateway gateway, SinkOptions options, TimeProvider time)
{
    /// <summary>A record of a partition that has no route, with the reason and the table default naming gave it.</summary>
    public sealed record Unrouted(PartitionRecords Partition, TableName NamedTable, string Reason);

    /// <summary>Inserts the rows through the invocation's <paramref name="retrier"/>; returns how many were written.</summary>
    public async Task<int> WriteAsync(KafkaBatch batch, SourceIdentity source, IReadOnlyList<Unrouted> unrouted, Retrier retrier)
    {
        ArgumentNullException.ThrowIfNull(retrier);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(unrouted);
        var count = batch.Unidentified.Count + unrouted.Sum(u => u.Partition.Records.Length);
        if (count == 0)
        {
            return 0;
        }

        var body = new ArrayBufferWriter<byte>(count * 512);
        var token = "dlq:detached:" + options.SinkId + ":" + source.Hash + ":" + Convert.ToHexStringLower(SHA256.HashData(Encode(body, batch, source, unrouted, DateTimeOffset.UnixEpoch).WrittenSpan));
        body.ResetWrittenCount();
        Encode(body, batch, source, unrouted, time.GetUtcNow());
        var settings = InsertSettings.For(options.ExtraInsertSettings, token, body.WrittenCount);
        var sql = $"INSERT INTO {options.DeadLetterTable.Sql} FORMAT JSONEachRow";
        await retrier.RunAsync(ct => gateway.InsertAsync(sql, [body.WrittenMemory], settings, ct));
        return count;
    }

    /// <summary>The rows: unidentified records under their place in the event, then the unrouted partitions' records.</summary>
    internal ArrayBufferWriter<byte> Encode(ArrayBufferWriter<byte> output, KafkaBatch batch, SourceIdentity source, IReadOnlyList<Unrouted> unrouted, DateTimeOffset failedAt)
    {
        foreach (var u in batch.Unidentified)
        {
            var identity = new DeadLetterIdentity(options.SinkId, source.Name, u.Topic, u.Partition, u.DeadLetterOffset);
            DeadLetters.WriteRow(output, batch, u.Record, identity, string.Empty, u.Record.Error ?? "unidentified record", failedAt);
        }

        foreach (var u in unrouted)
        {
            foreach (ref readonly var r in u.Partition.Records.AsSpan())
            {
                var identity = new DeadLetterIdentity(options.SinkId, source.Name, u.Partition.Topic, u.Partition.Partition, r.Offset);
                DeadLetters.WriteRow(output, batch, in r, identity, u.NamedTable.ToString(), r.Error is null ? u.Reason : u.Reason + "; " + r.Error, failedAt);
            }
        }

        return output;
    }
}
