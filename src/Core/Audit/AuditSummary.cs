using System.Buffers;
using System.Text.Json;

namespace MskClickHouse.Core.Audit;

/// <summary>
/// The audit invocation's answer: <c>{"windowHours":24,"duplicateOffsets":N,"missingRecords":M,"tables":[{"table":..,
/// "duplicateOffsets":..,"duplicateRanges":[..],"missingRecords":..,"missingRanges":[..],"auditedRanges":..,"skipped":[..]}]}</c>;
/// at most <see cref="FindingText.MaxRanges"/> ranges of each kind per table.
/// </summary>
public static class AuditSummary
{
    public static byte[] Write(int windowHours, IReadOnlyList<TableAudit> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("windowHours", windowHours);
            w.WriteNumber("duplicateOffsets", tables.Sum(t => t.DuplicateOffsets));
            w.WriteNumber("missingRecords", tables.Sum(t => t.MissingRecords));
            w.WriteStartArray("tables");
            foreach (var t in tables)
            {
                w.WriteStartObject();
                w.WriteString("table", t.Table.ToString());
                w.WriteNumber("duplicateOffsets", t.DuplicateOffsets);
                w.WriteStartArray("duplicateRanges");
                foreach (var d in t.Duplicates.Take(FindingText.MaxRanges))
                {
                    w.WriteStartObject();
                    Partition(w, d.Partition);
                    w.WriteNumber("first", d.Range.First);
                    w.WriteNumber("last", d.Range.Last);
                    w.WriteNumber("offsets", d.Offsets);
                    w.WriteNumber("extraRows", d.ExtraRows);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteNumber("missingRecords", t.MissingRecords);
                w.WriteStartArray("missingRanges");
                foreach (var m in t.Missing.Take(FindingText.MaxRanges))
                {
                    w.WriteStartObject();
                    Partition(w, m.Partition);
                    w.WriteNumber("first", m.Range.First);
                    w.WriteNumber("last", m.Range.Last);
                    w.WriteNumber("expected", m.Expected);
                    w.WriteNumber("found", m.Found);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteNumber("auditedRanges", t.AuditedRanges);
                w.WriteStartArray("skipped");
                foreach (var s in t.Skipped)
                {
                    w.WriteStringValue(s);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Partition(Utf8JsonWriter w, AuditPartition p)
    {
        w.WriteString("source", p.Source);
        w.WriteString("topic", p.Topic);
        w.WriteNumber("partition", p.Partition);
    }
}
