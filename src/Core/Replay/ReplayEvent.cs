using System.Buffers;
using System.Text.Json;

namespace MskClickHouse.Core.Replay;

/// <summary>
/// Rebuilds, from the dead letters of one (source, topic, partition), the Kafka event the event-source mapping sent:
/// the same topic, partition, offsets, timestamps, key, value and header bytes, with the source as
/// <c>eventSourceArn</c> (so <c>KafkaBatch.SourceName</c>, <c>_source</c> and the source hash come out as before).
/// The replay then runs it through the sink's own decoder and row encoder: the rows are the bytes the sink would have
/// sent. Pure.
/// </summary>
public static class ReplayEvent
{
    public static byte[] Build(IReadOnlyList<DeadLetterRecord> letters)
    {
        ArgumentNullException.ThrowIfNull(letters);
        if (letters.Count == 0)
        {
            throw new ArgumentException("no dead letters", nameof(letters));
        }

        var first = letters[0];
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("eventSource", "aws:kafka");

            // Rows of earlier versions have no source ('') : the decoder then names it as it did then.
            if (first.Source.Length > 0)
            {
                w.WriteString("eventSourceArn", first.Source);
            }

            w.WriteStartObject("records");
            w.WriteStartArray(first.Topic + "-" + first.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var d in letters)
            {
                if (d.Source != first.Source || d.Topic != first.Topic || d.Partition != first.Partition)
                {
                    throw new ArgumentException("dead letters of one source, topic and partition expected", nameof(letters));
                }

                w.WriteStartObject();
                w.WriteString("topic", d.Topic);
                w.WriteNumber("partition", d.Partition);
                w.WriteNumber("offset", d.Offset);
                w.WriteNumber("timestamp", d.TimestampMs);
                if (d.TimestampType.Length > 0)
                {
                    w.WriteString("timestampType", d.TimestampType);
                }

                WriteNullable(w, "key", d.KeyBase64);
                WriteNullable(w, "value", d.ValueBase64);
                w.WriteStartArray("headers");
                foreach (var h in d.Headers)
                {
                    // The event's shape: [{"name": [signed bytes]}], one object per header.
                    w.WriteStartObject();
                    w.WriteStartArray(Convert.FromBase64String(h.NameBase64));
                    foreach (var b in Convert.FromBase64String(h.ValueBase64))
                    {
                        w.WriteNumberValue((sbyte)b);
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? base64)
    {
        if (base64 is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, base64);
        }
    }
}
