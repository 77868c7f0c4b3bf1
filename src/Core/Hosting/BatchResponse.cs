using System.Buffers;
using System.Text.Json;

namespace MskClickHouse.Core.Hosting;

/// <summary>
/// The partial batch response for Kafka event-source mappings:
/// <c>{"batchItemFailures":[{"itemIdentifier":{"topic-partition":"t-0","offset":N}}]}</c>.
/// Each failed partition is reported at its first offset in the batch, so the mapping resumes it there.
/// </summary>
public static class BatchResponse
{
    public static byte[] Write(IEnumerable<(string MapKey, long Offset)> failures)
    {
        ArgumentNullException.ThrowIfNull(failures);
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("batchItemFailures");
            foreach (var (mapKey, offset) in failures)
            {
                w.WriteStartObject();
                w.WriteStartObject("itemIdentifier");
                w.WriteString("topic-partition", mapKey);
                w.WriteNumber("offset", offset);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
