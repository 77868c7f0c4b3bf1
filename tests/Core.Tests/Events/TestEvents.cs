using System.Text;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Tests.Events;

/// <summary>Builds small Kafka events for tests.</summary>
internal static class TestEvents
{
    public static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes);

    /// <summary>A record object; <paramref name="value"/>/<paramref name="key"/> are raw JSON (e.g. "null" or a quoted base64 string), omitted when null.</summary>
    public static string Record(string topic, int partition, long offset, string? value, string? key = null, string extra = "") =>
        $$"""{"topic":"{{topic}}","partition":{{partition}},"offset":{{offset}},"timestamp":1545084650987,"timestampType":"CREATE_TIME"{{(key is null ? "" : ",\"key\":" + key)}}{{(value is null ? "" : ",\"value\":" + value)}},"headers":[]{{extra}}}""";

    public static string JsonValue(string json) => "\"" + B64(json) + "\"";

    public static string Event(params (string MapKey, string[] Records)[] entries)
    {
        var sb = new StringBuilder("""{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/c/1","bootstrapServers":"b-1:9092","records":{""");
        for (var i = 0; i < entries.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append('"').Append(entries[i].MapKey).Append("\":[").AppendJoin(',', entries[i].Records).Append(']');
        }

        return sb.Append("}}").ToString();
    }

    public static KafkaBatch Decode(string json) => KafkaEventDecoder.Decode(Encoding.UTF8.GetBytes(json));

    public static string Text(this KafkaBatch batch, ByteRange range) => Encoding.UTF8.GetString(batch.Bytes(range));

    public static string Fixture(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "events", name));
}
