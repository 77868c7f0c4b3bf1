using System.Text;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Routing;
using MskClickHouse.Simulation;

namespace MskClickHouse.Core.Tests.Routing;

/// <summary>
/// The compiled lookup (<see cref="RouteMatcher"/>: one lookup per field, header name and key test) sends every record
/// to exactly the tables that evaluating each rule on its own sends it to, over many record shapes.
/// </summary>
public sealed class RouteMatcherTests
{
    /// <summary>One field only, plus a table taking all: the path where a text's tables already include that table.</summary>
    private const string FieldOnly = """
        [{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}},
         {"topic":"events","table":"clicks","where":{"field":"type","equals":"CLICK"}},
         {"topic":"events","table":"views","where":{"field":"type","equals":"view"}},
         {"topic":"events","table":"fives","where":{"field":"type","equals":"5"}},
         {"topic":"events","table":"nulls","where":{"field":"type","equals":"null"}},
         {"topic":"events","table":"truths","where":{"field":"type","equals":"true"}},
         {"topic":"events","table":"unicode","where":{"field":"type","equals":"naïve"}},
         {"topic":"events","table":"japan","where":{"field":"type","equals":"日本"}},
         {"topic":"events","table":"quoted","where":{"field":"type","equals":"cl\"ick"}},
         {"topic":"events","table":"long","where":{"field":"type","equals":"a value longer than sixteen bytes"}},
         {"topic":"events","table":"all_events"}]
        """;

    /// <summary>One field of few texts (each in a slot of its own, <see cref="ShortTexts"/>), one holding a quote, and a table taking all.</summary>
    private const string FewTexts = """
        [{"topic":"few","table":"clicks","where":{"field":"type","equals":"click"}},
         {"topic":"few","table":"views","where":{"field":"type","equals":"view"}},
         {"topic":"few","table":"fives","where":{"field":"type","equals":"5"}},
         {"topic":"few","table":"quoted","where":{"field":"type","equals":"cl\"ick"}},
         {"topic":"few","table":"all_events"}]
        """;

    /// <summary>Few texts, one holding a backslash: a raw string of the same bytes is an escape, not that text.</summary>
    private const string FewTextsWithBackslash = """
        [{"topic":"slash","table":"clicks","where":{"field":"type","equals":"click"}},
         {"topic":"slash","table":"slashed","where":{"field":"type","equals":"cl\\ick"}},
         {"topic":"slash","table":"unicode","where":{"field":"type","equals":"naïve"}},
         {"topic":"slash","table":"views","where":{"field":"type","equals":"view"}},
         {"topic":"slash","table":"fives","where":{"field":"type","equals":"5"}},
         {"topic":"slash","table":"truths","where":{"field":"type","equals":"true"}}]
        """;

    /// <summary>Few texts of one length, first and last byte, and the empty text: texts alike in all but one byte.</summary>
    private const string FewTextsSharingASlot = """
        [{"topic":"slot","table":"t1","where":{"field":"type","equals":"cab"}},
         {"topic":"slot","table":"t2","where":{"field":"type","equals":"cbb"}},
         {"topic":"slot","table":"t3","where":{"field":"type","equals":"ccb"}},
         {"topic":"slot","table":"t4","where":{"field":"type","equals":""}},
         {"topic":"slot","table":"t5","where":{"field":"type","equals":"click"}}]
        """;

    /// <summary>Two fields, headers and keys, tables reached by several conditions: the general path.</summary>
    private const string Mixed = """
        [{"topic":"mixed","table":"t1","where":{"field":"type","equals":"click"}},
         {"topic":"mixed","table":"t2","where":{"field":"n","equals":"5"}},
         {"topic":"mixed","table":"t3","where":{"header":"region","equals":"eu"}},
         {"topic":"mixed","table":"t1","where":{"header":"region","equals":"us"}},
         {"topic":"mixed","table":"t4","where":{"key":"equals","value":"k1"}},
         {"topic":"mixed","table":"t5","where":{"key":"prefix","value":"tenant-"}},
         {"topic":"mixed","table":"t5","where":{"key":"prefix","value":"ten"}},
         {"topic":"mixed","table":"t6","where":{"field":"n","equals":"1.0"}},
         {"topic":"mixed","table":"t2","where":{"field":"type","equals":"view"}},
         {"topic":"mixed","table":"t7","where":{"header":"tier","equals":"gold"}}]
        """;

    private static readonly string?[] Values =
    [
        """{"type":"click"}""", """{"type":"view","n":5}""", """{"n":"5","type":"CLICK"}""", """{"type":5}""", """{"type":5.0}""",
        """{"type":"5"}""", """{"type":null}""", """{"type":"null"}""", """{"type":true}""", """{"type":"true"}""", """{"type":{"a":"click"}}""",
        """{"type":["click"]}""", """{"type":"cl\u0069ck"}""", """{"type":"cl\"ick"}""", """{"type":"cl\\ick"}""", """{"type":"cl\ick"}""", """{"type":"naïve"}""",
        """{"type":"na\u00efve"}""", """{"type":"日本"}""", """{"type":"\u65e5\u672c"}""", """{"type":"view","type":"click"}""",
        """{"x":{"type":"click"},"n":1.0}""", """{"\u0074ype":"click","n":1}""", """{ "type" : "view" , "n" : 5 }""", "{}",
        "type click", "[1,2]", null, """{"type":"clicks"}""", """{"type":"cli"}""", """{"note":"\"type\":\"click\"","type":"view"}""",
        """{"type":"a value longer than sixteen bytes"}""", """{"type":"a value longer than sixteen bytes!"}""", """{"type":"click""",
        """{"type":"\ud800"}""", """{"n":"1.0"}""", """{"n":1e0}""", """{"n":-5,"type":"CLICK"}""",
        """{"type":"cab"}""", """{"type":"cbb"}""", """{"type":"ccb"}""", """{"type":"cdb"}""", """{"type":""}""", """{"type":"c"}""",
    ];

    private static readonly (string Name, string Value)[][] Headers =
    [
        [], [("region", "eu")], [("region", "us")], [("region", "eu"), ("region", "us")], [("Region", "eu")], [("region", "EU")],
        [("tier", "gold"), ("region", "x")], [("region", "")],
    ];

    private static readonly string?[] Keys = [null, "k1", "tenant-9", "te", "k1x", "ten", ""];

    [Theory]
    [InlineData(FieldOnly, "events")]
    [InlineData(FewTexts, "few")]
    [InlineData(FewTextsWithBackslash, "slash")]
    [InlineData(FewTextsSharingASlot, "slot")]
    [InlineData(Mixed, "mixed")]
    public void Route_SendsEachRecordToTheTablesOfTheRulesItMatches_OneByOne(string routes, string topic)
    {
        var options = SinkOptionsParser.Parse(new Dictionary<string, string?> { ["CLICKHOUSE_URL"] = "https://ch.example.com:8443", ["SINK_ID"] = "s", ["CLICKHOUSE_DATABASE"] = "db", ["ROUTES"] = routes, ["UNROUTED"] = "skip" });
        var records = new List<SimRecord>();
        var offset = 0L;
        foreach (var value in Values)
        {
            foreach (var headers in Headers)
            {
                // Keys in turn, so that every value meets every header set and, across values, every key.
                var key = Keys[(int)(offset % Keys.Length)];
                records.Add(new SimRecord(
                    topic, 0, offset++, 1_700_000_000_000, key is null ? null : Encoding.UTF8.GetBytes(key), value is null ? null : Encoding.UTF8.GetBytes(value),
                    headers.Select(h => new KeyValuePair<string, byte[]>(h.Name, Encoding.UTF8.GetBytes(h.Value))).ToList()));
            }
        }

        using var batch = KafkaEventDecoder.Decode(KafkaEventWriter.Write(records));
        var partition = batch.Partitions.Single();

        var routing = new TopicRouter(options).Route(batch, partition);

        var actual = partition.Records.ToDictionary(r => r.Offset, _ => new SortedSet<string>(StringComparer.Ordinal));
        foreach (var routed in routing.Routed)
        {
            foreach (var r in routed.Records.Records)
            {
                Assert.True(actual[r.Offset].Add(routed.Table.Table), $"offset {r.Offset} twice in {routed.Table}");
            }
        }

        var rules = options.Routes.Where(r => r.Topic == topic).ToList();
        var matched = 0;
        for (var i = 0; i < partition.Records.Length; i++)
        {
            var record = partition.Records[i];
            var expected = new SortedSet<string>(rules.Where(r => Holds(batch, record, r.Where)).Select(r => r.Table.Table), StringComparer.Ordinal);
            var shown = $"offset {record.Offset}: value {Values[record.Offset / Headers.Length] ?? "(null)"}, key {Keys[record.Offset % Keys.Length] ?? "(null)"}, headers {string.Join(";", Headers[record.Offset % Headers.Length])}";
            Assert.True(expected.SetEquals(actual[record.Offset]), $"{shown}: expected [{string.Join(",", expected)}], routed to [{string.Join(",", actual[record.Offset])}]");
            Assert.True(expected.SetEquals(routing.Targets.Of(i).ToArray().Select(t => routing.Routed[t].Table.Table)), $"{shown}: the targets handed to the encoder differ");
            matched += rules.Any(r => r.Where is not null && Holds(batch, record, r.Where)) ? 1 : 0;
        }

        Assert.InRange(matched, partition.Records.Length / 8, partition.Records.Length - 1); // some records meet a condition, some none
    }

    /// <summary>One rule on its own, as the docs state it (configuration.md "Routing").</summary>
    private static bool Holds(KafkaBatch batch, KafkaRecord record, RouteCondition? where) => where switch
    {
        null => true,
        FieldEquals f => !record.IsTombstone && TopLevelField.HoldsText(batch.Bytes(record.Value), f.NameUtf8, f.ValueUtf8),
        HeaderEquals h => batch.HeadersOf(in record).ToArray().Any(x => !x.Value.IsNull && batch.Bytes(x.Name).SequenceEqual(h.NameUtf8) && batch.Bytes(x.Value).SequenceEqual(h.ValueUtf8)),
        KeyMatches k => !record.Key.IsNull && (k.Prefix ? batch.Bytes(record.Key).StartsWith(k.ValueUtf8) : batch.Bytes(record.Key).SequenceEqual(k.ValueUtf8)),
        _ => throw new ArgumentException("unknown condition", nameof(where)),
    };
}
