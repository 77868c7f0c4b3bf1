using System.Buffers;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Replay;

/// <summary>
/// The answer of a replay invocation. Pure.
/// <code>
/// {"table":"db.t","selected":3,"replayed":2,"alreadyPresent":0,"tombstonesSkipped":0,"stillFailing":1,
///  "failures":[{"topic":"orders","partition":0,"offset":102,"generation":1,"reason":"rejected by ClickHouse ..."}],
///  "alreadyReplayed":5,"unreplayable":0,"complete":true,"otherSinkIds":[]}
/// </code>
/// <c>replayed</c>: inserted under their replay tokens in this run (a concurrent or earlier run of the same dead letter
/// may be the one whose copy the table kept). <c>alreadyPresent</c>: the table, having offset columns, already held
/// them. <c>alreadyReplayed</c>: dead letters of the table (matching the filter) an earlier replay landed, skipped.
/// <c>unreplayable</c>: pending dead letters that did not decode as they arrived (nothing to insert; they stay).
/// <c>complete</c>: false when the limit was reached or time ran out; invoke again for the rest. <c>otherSinkIds</c>:
/// sink ids (up to 10) other than this function's with dead letters for the table: SINK_ID must be the sink's.
/// </summary>
public sealed record ReplaySummary(TableName Table, int Selected, IReadOnlyList<ReplayOutcome> Outcomes, long AlreadyReplayed, long Unreplayable, bool Complete, IReadOnlyList<string>? OtherSinkIds = null)
{
    /// <summary>Failures listed one by one in the answer; the count covers all of them.</summary>
    public const int ListedFailures = 100;

    public int Replayed => Count(ReplayOutcomeKind.Landed);

    public int AlreadyPresent => Count(ReplayOutcomeKind.AlreadyPresent);

    public int TombstonesSkipped => Count(ReplayOutcomeKind.TombstoneSkipped);

    public int StillFailing => Count(ReplayOutcomeKind.Failed);

    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("table", Table.ToString());
            w.WriteNumber("selected", Selected);
            w.WriteNumber("replayed", Replayed);
            w.WriteNumber("alreadyPresent", AlreadyPresent);
            w.WriteNumber("tombstonesSkipped", TombstonesSkipped);
            w.WriteNumber("stillFailing", StillFailing);
            w.WriteStartArray("failures");
            foreach (var o in Outcomes.Where(o => o.Kind == ReplayOutcomeKind.Failed).Take(ListedFailures))
            {
                w.WriteStartObject();
                w.WriteString("topic", o.Letter.Topic);
                w.WriteNumber("partition", o.Letter.Partition);
                w.WriteNumber("offset", o.Letter.Offset);
                w.WriteNumber("generation", o.Letter.Generation + 1L);
                w.WriteString("reason", o.Reason);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("alreadyReplayed", AlreadyReplayed);
            w.WriteNumber("unreplayable", Unreplayable);
            w.WriteBoolean("complete", Complete);
            w.WriteStartArray("otherSinkIds");
            foreach (var id in OtherSinkIds ?? [])
            {
                w.WriteStringValue(id);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private int Count(ReplayOutcomeKind kind) => Outcomes.Count(o => o.Kind == kind);
}
