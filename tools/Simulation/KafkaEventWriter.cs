using System.Buffers;
using System.Text.Json;

namespace MskClickHouse.Simulation;

/// <summary>One Kafka record as the event-source mapping would deliver it.</summary>
public sealed record SimRecord(string Topic, int Partition, long Offset, long TimestampMs, byte[]? Key, byte[]? Value, IReadOnlyList<KeyValuePair<string, byte[]>> Headers);

/// <summary>Writes the Lambda Kafka event JSON (the shape MSK's event-source mapping sends) for a set of records.</summary>
public static class KafkaEventWriter
{
    public const string DefaultSourceArn = "arn:aws:kafka:us-east-1:123456789012:cluster/local-sim/00000000-0000-0000-0000-000000000000-1";

    public static byte[] Write(IEnumerable<SimRecord> records, string eventSource = "aws:kafka", string eventSourceArn = DefaultSourceArn)
    {
        ArgumentNullException.ThrowIfNull(records);
        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("eventSource", eventSource);
            w.WriteString("eventSourceArn", eventSourceArn);
            w.WriteString("bootstrapServers", "b-1.local-sim.kafka.us-east-1.amazonaws.com:9098");
            w.WriteStartObject("records");
            foreach (var group in records.GroupBy(r => (r.Topic, r.Partition)))
            {
                w.WriteStartArray($"{group.Key.Topic}-{group.Key.Partition}");
                foreach (var r in group)
                {
                    w.WriteStartObject();
                    w.WriteString("topic", r.Topic);
                    w.WriteNumber("partition", r.Partition);
                    w.WriteNumber("offset", r.Offset);
                    w.WriteNumber("timestamp", r.TimestampMs);
                    w.WriteString("timestampType", "CREATE_TIME");
                    if (r.Key is null)
                    {
                        w.WriteNull("key");
                    }
                    else
                    {
                        w.WriteBase64String("key", r.Key);
                    }

                    if (r.Value is null)
                    {
                        w.WriteNull("value");
                    }
                    else
                    {
                        w.WriteBase64String("value", r.Value);
                    }

                    w.WriteStartArray("headers");
                    foreach (var (name, value) in r.Headers)
                    {
                        w.WriteStartObject();
                        w.WriteStartArray(name);
                        foreach (var b in value)
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
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
