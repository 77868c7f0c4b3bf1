using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>
/// For every column type family users put in Kafka sink tables, an invalid value among good rows, through the real
/// sink into the embedded engine (chDB, ClickHouse 26.7). Each case records what the engine answered: the error code,
/// or that it accepted the value (and what it stored). The code lists of ClickHouseErrors follow from these answers.
/// </summary>
public class RejectedValueCorpusTests(ClickHouseFixture fixture)
{
    /// <summary>Type, a good value, the invalid value (valid JSON: the decoder passes it on), the engine's answer.</summary>
    /// <param name="Code">The engine's error code; null when the engine accepts the value.</param>
    /// <param name="Stored">For accepted values: what the engine stored (toString(v)).</param>
    public sealed record Case(string Name, string Type, string Good, string Bad, int? Code, string? Stored = null, string Extra = "");

    public static readonly Case[] Corpus =
    [
        new("int32_text", "Int32", "1", "\"abc\"", 27),
        new("int32_fraction", "Int32", "1", "1.5", 27),
        new("uint8_negative", "UInt8", "1", "-1", 72),
        new("int128_text", "Int128", "1", "\"abc\"", 27),
        new("int8_overflow", "Int8", "1", "300", null, "44"), // accepted: wraps modulo 256
        new("uint64_overflow", "UInt64", "1", "99999999999999999999999", null, "200376420520689663"), // accepted: wraps
        new("float64_text", "Float64", "1.5", "\"x\"", 72),
        new("float32_array", "Float32", "1.5", "[1]", 72),
        new("decimal_too_big", "Decimal(9,2)", "1.5", "\"1e50\"", 69),
        new("decimal_text", "Decimal(9,2)", "1.5", "\"abc\"", 27),
        new("bool", "Bool", "true", "\"maybe\"", 467),
        new("uuid", "UUID", "\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\"", "\"not-a-uuid\"", 376),
        new("enum8", "Enum8('a' = 1, 'b' = 2)", "\"a\"", "\"z\"", 691),
        new("enum16", "Enum16('a' = 1, 'b' = 2)", "\"a\"", "\"z\"", 691),
        new("ipv4", "IPv4", "\"1.2.3.4\"", "\"1.2.3.999\"", 675),
        new("ipv6", "IPv6", "\"::1\"", "\"zz::1\"", 676),
        new("date", "Date", "\"2024-01-01\"", "\"abc\"", 38),
        new("date_impossible", "Date", "\"2024-01-01\"", "\"2024-13-45\"", null, "1970-01-01"), // accepted as the epoch
        new("date32", "Date32", "\"2024-01-01\"", "\"notadate\"", 38),
        new("datetime", "DateTime('UTC')", "\"2024-01-01 00:00:00\"", "\"notatime\"", 41),
        new("datetime64", "DateTime64(3, 'UTC')", "\"2024-01-01 00:00:00.123\"", "\"notatime\"", 41),
        new("datetime64_digits", "DateTime64(3, 'UTC')", "\"2024-01-01 00:00:00\"", "\"99999-99-99\"", 41),
        new("time", "Time", "\"10:00:00\"", "\"abc\"", 41),
        new("fixedstring_long", "FixedString(2)", "\"ab\"", "\"abcdef\"", 131),
        new("fixedstring_number", "FixedString(16)", "\"ab\"", "1", 26),
        new("string_lone_surrogate", "String", "\"x\"", "\"\\ud800\"", 25),
        new("string_object", "String", "\"x\"", "{\"a\":1}", null, "{\"a\":1}"), // accepted: objects are read as their text
        new("lowcardinality", "LowCardinality(String)", "\"x\"", "\"\\ud800\"", 25),
        new("nullable", "Nullable(Int32)", "1", "\"abc\"", 27),
        new("array_element", "Array(Int32)", "[1]", "[\"a\"]", 27),
        new("array_scalar", "Array(Int32)", "[1]", "5", 130),
        new("array_of_tuples", "Array(Tuple(a Int32))", "[{\"a\":1}]", "[{\"a\":\"z\"}]", 27),
        new("map_value", "Map(String, Int32)", "{\"a\":1}", "{\"a\":\"x\"}", 27),
        new("map_key", "Map(Int32, Int32)", "{\"1\":1}", "{\"x\":1}", 27),
        new("tuple", "Tuple(a Int32, b String)", "{\"a\":1,\"b\":\"x\"}", "{\"a\":\"q\",\"b\":\"x\"}", 27),
        new("json_scalar", "JSON", "{\"a\":1}", "\"scalar\"", 117),
        new("json_typed_path", "JSON(a Int32)", "{\"a\":1}", "{\"a\":\"abc\"}", 117),
        new("variant", "Variant(Int32, Array(Int32))", "1", "{\"a\":1}", 117),
        new("check_constraint", "Int32", "1", "-1", 469, Extra: ", CONSTRAINT positive CHECK v > 0"),
        new("default_throws", "Int32", "1", "7", 395, Extra: ", w String DEFAULT throwIf(v = 7, 'seven')"),
    ];

    public static TheoryData<string> CaseNames() => new(Corpus.Select(c => c.Name));

    private static string Ddl(Case c) =>
        $"CREATE TABLE {{0}} (id UInt32, v {c.Type}{c.Extra}) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000";

    private static string Row(int id, string value) => $"{{\"id\":{id},\"v\":{value}}}";

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Insert_InvalidValueAmongGoodRows_DeadLettersItWithTheEnginesReasonAndLandsTheRestOnce(string name)
    {
        var c = Corpus.Single(x => x.Name == name);
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { [c.Name] = Ddl(c) });
        var values = Enumerable.Range(1, 7).Select(i => Row(i, i == 4 ? c.Bad : c.Good)).ToList();
        var records = EngineSink.Records(c.Name, values);

        // Twice: the redelivery lands nothing new and dead-letters nothing new.
        Assert.Empty(await sink.InvokeAsync(records));
        Assert.Empty(await sink.InvokeAsync(records));

        var db = sink.Database;
        if (c.Code is { } code)
        {
            Assert.Equal("1,2,3,5,6,7", await sink.TextAsync($"SELECT arrayStringConcat(groupArray(toString(id)), ',') FROM (SELECT id FROM {db}.{c.Name} ORDER BY id)"));
            Assert.Equal("3", await sink.TextAsync($"SELECT offset FROM {db}.kafka_dead_letters"));
            var error = await sink.TextAsync($"SELECT error FROM {db}.kafka_dead_letters");
            Assert.Contains($"Code: {code}.", error, StringComparison.Ordinal);
            Assert.Contains($"(code {code})", error, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(7, await sink.ScalarAsync($"SELECT count() FROM {db}.{c.Name}"));
            Assert.Equal(c.Stored, await sink.TextAsync($"SELECT toString(v) FROM {db}.{c.Name} WHERE id = 4"));
            Assert.Equal(0, await sink.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters"));
        }
    }

    [Fact]
    public async Task Insert_EveryRejectedCodeIsClassifiedAsData()
    {
        foreach (var c in Corpus.Where(c => c.Code is not null))
        {
            Assert.Equal(MskClickHouse.Core.ClickHouse.ClickHouseErrorKind.Data, MskClickHouse.Core.ClickHouse.ClickHouseErrors.Classify(c.Code!.Value));
        }
    }

    [Fact]
    public async Task Insert_OneWideTableWithOneBadValuePerTypeAmongGoodRows_DeadLettersEachAndLandsTheRestAsOneBlock()
    {
        // The issue's scenario: one partition, 42 good records interleaved with 18 that each carry one rejected value.
        var cases = Corpus.Where(c => c.Code is not null && c.Extra.Length == 0).Take(18).ToList();
        var columns = string.Join(", ", cases.Select(c => $"`{c.Name}` {c.Type}"));
        var ddl = $"CREATE TABLE {{0}} (id UInt32, {columns}) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000";
        using var sink = await EngineSink.CreateAsync(fixture, new Dictionary<string, string> { ["wide"] = ddl });
        string Good(int id) => "{\"id\":" + id + "," + string.Join(",", cases.Select(c => $"\"{c.Name}\":{c.Good}")) + "}";
        string Bad(int id, Case bad) => "{\"id\":" + id + "," + string.Join(",", cases.Select(c => $"\"{c.Name}\":{(c == bad ? c.Bad : c.Good)}")) + "}";
        var values = new List<string>();
        var badOffsets = new List<int>();
        var next = 0;
        for (var i = 0; i < 60; i++)
        {
            if (i % 10 is 1 or 4 or 8 && next < cases.Count)
            {
                badOffsets.Add(i);
                values.Add(Bad(i, cases[next++]));
            }
            else
            {
                values.Add(Good(i));
            }
        }

        Assert.Equal(18, badOffsets.Count);
        Assert.Empty(await sink.InvokeAsync(EngineSink.Records("wide", values)));

        var db = sink.Database;
        Assert.Equal(42, await sink.ScalarAsync($"SELECT count() FROM {db}.wide"));
        Assert.Equal(42, await sink.ScalarAsync($"SELECT uniqExact(id) FROM {db}.wide"));
        Assert.Equal(string.Join(",", badOffsets), await sink.TextAsync($"SELECT arrayStringConcat(groupArray(toString(offset)), ',') FROM (SELECT offset FROM {db}.kafka_dead_letters ORDER BY offset)"));
        for (var k = 0; k < cases.Count; k++)
        {
            var error = await sink.TextAsync($"SELECT error FROM {db}.kafka_dead_letters WHERE offset = {badOffsets[k]}");
            Assert.Contains($"(code {cases[k].Code})", error, StringComparison.Ordinal);
        }

        // The good rows are one block (one part), found with about one probe per bad row.
        Assert.Equal(1, await sink.ScalarAsync($"SELECT count() FROM system.parts WHERE database = '{db}' AND table = 'wide' AND active"));
        Assert.InRange(sink.Counter.InsertsInto("wide"), 19, 18 + 2 + 8);
    }
}
