using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;
using MskClickHouse.EventGenerator;

namespace MskClickHouse.Bench.EndToEnd;

/// <summary>The end-to-end batch: generated MSK events with fresh offsets per repetition, and the exact rows the sink writes.</summary>
internal sealed partial class Workload
{
    /// <summary>Lambda's synchronous invocation payload limit (6 MB), with room for the envelope.</summary>
    public const int MaxEventBytes = (6 * 1024 * 1024) - (64 * 1024);

    public const int Topics = 2;
    public const int Partitions = 3;

    /// <summary>Columns of the generated values (user is skipped by JSONEachRow) plus all seven metadata columns.</summary>
    public static string CreateTable(string database, string table) =>
        $"CREATE TABLE {database}.{table} (id UInt64, event LowCardinality(String), ts Int64, amount Float64, tags Array(String), note String, " +
        "_topic LowCardinality(String), _partition Int32, _offset Int64, _timestamp DateTime64(3, 'UTC'), _timestamp_type LowCardinality(String), " +
        "_key Nullable(String), _headers Map(String, String)) " +
        "ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 1000";

    public static string TopicTables(string table) => $"topic-a={table},topic-b={table}";

    private readonly byte[] _template;

    public Workload(int? records, int valueBytes)
    {
        ValueBytes = valueBytes;
        if (records is { } n)
        {
            _template = Generate(n);
        }
        else
        {
            // As many records as fit the payload limit: estimate from a sample, then step down until it fits.
            var sample = Generate(1000);
            n = (int)(MaxEventBytes / (sample.Length / 1000.0) * 0.995);
            _template = Generate(n);
            while (_template.Length > MaxEventBytes)
            {
                n -= Math.Max(1, n / 200);
                _template = Generate(n);
            }
        }

        Records = n;
    }

    public int Records { get; }

    public int ValueBytes { get; }

    public int EventBytes => _template.Length;

    /// <summary>The event with every offset moved by <paramref name="batch"/> × 10^7, so that no batch repeats another's offsets.</summary>
    public byte[] Event(int batch)
    {
        if (batch == 0)
        {
            return _template;
        }

        var shift = batch * 10_000_000L;
        var text = Encoding.UTF8.GetString(_template);
        return Encoding.UTF8.GetBytes(OffsetPattern().Replace(text, m =>
            "\"offset\":" + (long.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture) + shift).ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>JSONEachRow exactly as the sink sends it for a table with all seven metadata columns (RowEncoder, same code).</summary>
    public static byte[] Rows(byte[] mskEvent, out int rows)
    {
        var shape = new TableShape(new TableName("default", "events"), MetadataColumnSets.ClickPipes, ValueFormat.Json, "value");
        using var batch = KafkaEventDecoder.Decode(mskEvent);
        using var output = new MemoryStream();
        rows = 0;
        foreach (var partition in batch.Partitions)
        {
            using var encoded = RowEncoder.Encode(batch, partition, shape, TombstonePolicy.Skip);
            output.Write(encoded.Buffer.Span);
            rows += encoded.RowCount;
        }

        return output.ToArray();
    }

    /// <summary>
    /// The same records laid out as a topic per event type (what routing by topic needs): each record moves to the topic
    /// named after its value's <c>event</c>, partition = the index of its original partition (0–5), keeping its offset,
    /// timestamp, key, value and headers; each new partition holds the records of one original partition, in order.
    /// </summary>
    public static byte[] TopicPerType(byte[] mskEvent)
    {
        var root = JsonNode.Parse(mskEvent)!.AsObject();
        var records = root["records"]!.AsObject();
        var regrouped = new SortedDictionary<string, JsonArray>(StringComparer.Ordinal);
        var index = 0;
        foreach (var (_, list) in records.ToList())
        {
            foreach (var node in list!.AsArray().ToList())
            {
                var record = node!.AsObject();
                var value = JsonNode.Parse(Convert.FromBase64String(record["value"]!.GetValue<string>()))!;
                var topic = value["event"]!.GetValue<string>();
                record["topic"] = topic;
                record["partition"] = index;
                var key = $"{topic}-{index}";
                if (!regrouped.TryGetValue(key, out var target))
                {
                    regrouped[key] = target = [];
                }

                list.AsArray().Remove(record);
                target.Add(record);
            }

            index++;
        }

        root["records"] = new JsonObject(regrouped.Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Value)));
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    public static byte[] Small(int seed) => MskEventGenerator.Generate(seed, 12, 450, Topics, Partitions, 0);

    private byte[] Generate(int records) => MskEventGenerator.Generate(42, records, ValueBytes, Topics, Partitions, badRecordRatio: 0);

    [GeneratedRegex("\"offset\":([0-9]+)")]
    private static partial Regex OffsetPattern();
}
