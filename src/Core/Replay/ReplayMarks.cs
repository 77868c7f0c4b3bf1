using System.Buffers;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Json;

namespace MskClickHouse.Core.Replay;

/// <summary>
/// The rows a replay appends to the dead-letter table (JSONEachRow). Pure. Nothing is ever updated or deleted:
/// <list type="bullet">
/// <item>one <b>outcome row</b> per dead letter handled: its identity and generation, <c>replayed_at</c> set,
/// <c>replay_error</c> empty when it landed (or was present), else the new reason; key and value null (the dead letter
/// itself still holds the record), <c>error</c> the dead letter's reason, so filters on it find the outcome too;</item>
/// <item>for a dead letter that failed again, a <b>new dead letter</b> of generation + 1 with the record as it arrived
/// and the new reason: the next replay takes that one.</item>
/// </list>
/// Both go in one insert, one block: a dead letter is never marked without its successor, or the reverse. Plain
/// appends are safe on every MergeTree engine (MergeTree, Replicated, Shared); a mutation (ALTER UPDATE) would be
/// asynchronous, heavy, and unordered against a concurrent replay.
/// </summary>
public static class ReplayMarks
{
    public static void Encode(IBufferWriter<byte> output, IEnumerable<ReplayOutcome> outcomes, string sinkId, TableName target, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(target);
        var at = now.ToUnixTimeMilliseconds();
        foreach (var o in outcomes)
        {
            var d = o.Letter;
            Identity(output, d, sinkId, target);
            output.Write(",\"key\":null,\"value\":null,\"headers\":{},\"error\":"u8);
            JsonText.WriteString(output, d.Error);
            output.Write(",\"failed_at\":"u8);
            JsonText.WriteTimestamp(output, at);
            output.Write(",\"generation\":"u8);
            JsonText.WriteNumber(output, d.Generation);
            output.Write(",\"replayed_at\":"u8);
            JsonText.WriteTimestamp(output, at);
            output.Write(",\"replay_error\":"u8);
            JsonText.WriteString(output, o.Kind == ReplayOutcomeKind.Failed ? o.Reason ?? "failed" : string.Empty);
            output.Write("}\n"u8);

            if (o.Kind != ReplayOutcomeKind.Failed)
            {
                continue;
            }

            Identity(output, d, sinkId, target);
            output.Write(",\"key\":"u8);
            WriteBytes(output, d.KeyBase64);
            output.Write(",\"value\":"u8);
            WriteBytes(output, d.ValueBase64);
            output.Write(",\"headers\":{"u8);
            for (var i = 0; i < d.Headers.Count; i++)
            {
                if (i > 0)
                {
                    output.Write(","u8);
                }

                JsonText.WriteString(output, Convert.FromBase64String(d.Headers[i].NameBase64));
                output.Write(":"u8);
                JsonText.WriteString(output, Convert.FromBase64String(d.Headers[i].ValueBase64));
            }

            output.Write("},\"error\":"u8);
            JsonText.WriteString(output, o.Reason ?? "failed");
            output.Write(",\"failed_at\":"u8);
            JsonText.WriteTimestamp(output, at);
            output.Write(",\"generation\":"u8);
            JsonText.WriteNumber(output, d.Generation + 1L);
            output.Write(",\"replayed_at\":null,\"replay_error\":\"\"}\n"u8);
        }
    }

    private static void Identity(IBufferWriter<byte> output, DeadLetterRecord d, string sinkId, TableName target)
    {
        DeadLetters.WriteIdentity(output, sinkId, d.Source, d.Topic, d.Partition, d.Offset, d.TimestampMs, d.TimestampType);
        output.Write(",\"target_table\":"u8);
        JsonText.WriteString(output, target.ToString());
    }

    /// <summary>The stored bytes again, written as the sink writes them (raw bytes in a JSON string; ClickHouse's String is bytes).</summary>
    private static void WriteBytes(IBufferWriter<byte> output, string? base64)
    {
        if (base64 is null)
        {
            output.Write("null"u8);
        }
        else
        {
            JsonText.WriteString(output, Convert.FromBase64String(base64));
        }
    }
}
