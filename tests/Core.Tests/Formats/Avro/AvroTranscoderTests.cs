using System.Text;
using Avro;
using Avro.Generic;
using MskClickHouse.Core.Formats;
using MskClickHouse.Core.Formats.Avro;

namespace MskClickHouse.Core.Tests.Formats.Avro;

public sealed class AvroTranscoderTests
{
    private const string Everything = """
        {"type":"record","name":"Order","namespace":"shop","fields":[
          {"name":"id","type":"string"},
          {"name":"n","type":"int"},
          {"name":"big","type":"long"},
          {"name":"ok","type":"boolean"},
          {"name":"f","type":"float"},
          {"name":"d","type":"double"},
          {"name":"raw","type":"bytes"},
          {"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"attrs","type":{"type":"map","values":"long"}},
          {"name":"note","type":["null","string"],"default":null},
          {"name":"missing","type":["null","int"],"default":null},
          {"name":"hash","type":{"type":"fixed","name":"Hash","size":4}},
          {"name":"addr","type":{"type":"record","name":"Address","fields":[{"name":"city","type":"string"},{"name":"zip","type":"int"}]}},
          {"name":"billing","type":["null","Address"]},
          {"name":"again","type":"Color"}
        ]}
        """;

    private static string Transcode(string schemaJson, byte[] bytes)
    {
        var output = new JsonOutput(16);
        AvroTranscoder.Transcode(AvroSchemaParser.Parse(schemaJson), bytes, output);
        return Encoding.UTF8.GetString(output.Written);
    }

    [Fact]
    public void Transcode_EveryComplexType_WritesTheJsonObjectByFieldName()
    {
        var schema = (RecordSchema)Schema.Parse(Everything);
        var bytes = AvroReference.Encode(Everything, r =>
        {
            r.Add("id", "o-1 \"q\"\n");
            r.Add("n", -42);
            r.Add("big", long.MinValue);
            r.Add("ok", true);
            r.Add("f", 1.5f);
            r.Add("d", 0.1);
            r.Add("raw", new byte[] { 0x41, 0x00, 0x42 });
            r.Add("color", new GenericEnum((EnumSchema)schema["color"].Schema, "GREEN"));
            r.Add("tags", new object[] { "a", "b" });
            r.Add("attrs", new Dictionary<string, object> { ["x"] = 1L });
            r.Add("note", "hi");
            r.Add("missing", null);
            r.Add("hash", new GenericFixed((FixedSchema)schema["hash"].Schema, [0x61, 0x62, 0x63, 0x64]));
            var address = new GenericRecord((RecordSchema)schema["addr"].Schema);
            address.Add("city", "Zürich");
            address.Add("zip", 8000);
            r.Add("addr", address);
            r.Add("billing", null);
            r.Add("again", new GenericEnum((EnumSchema)schema["color"].Schema, "BLUE"));
        });

        Assert.Equal(
            """{"id":"o-1 \"q\"\n","n":-42,"big":-9223372036854775808,"ok":true,"f":1.5,"d":0.1,"raw":"A\u0000B","color":"GREEN","tags":["a","b"],"attrs":{"x":1},"note":"hi","missing":null,"hash":"abcd","addr":{"city":"Zürich","zip":8000},"billing":null,"again":"BLUE"}""",
            Transcode(Everything, bytes));
    }

    [Fact]
    public void Transcode_LogicalTypes_WriteWhatClickHouseParsesExactly()
    {
        const string schemaJson = """
            {"type":"record","name":"L","fields":[
              {"name":"ts_ms","type":{"type":"long","logicalType":"timestamp-millis"}},
              {"name":"ts_us","type":{"type":"long","logicalType":"timestamp-micros"}},
              {"name":"before_epoch","type":{"type":"long","logicalType":"timestamp-micros"}},
              {"name":"day","type":{"type":"int","logicalType":"date"}},
              {"name":"t_ms","type":{"type":"int","logicalType":"time-millis"}},
              {"name":"t_us","type":{"type":"long","logicalType":"time-micros"}},
              {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}},
              {"name":"tiny","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":6}},
              {"name":"huge","type":{"type":"fixed","name":"H","size":20,"logicalType":"decimal","precision":45,"scale":2}},
              {"name":"id","type":{"type":"string","logicalType":"uuid"}}
            ]}
            """;
        var bytes = AvroReference.Encode(schemaJson, r =>
        {
            r.Add("ts_ms", new DateTime(2023, 11, 14, 22, 13, 20, 123, DateTimeKind.Utc));
            r.Add("ts_us", new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc).AddTicks(1_234_560));
            r.Add("before_epoch", new DateTime(1969, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(9_999_990));
            r.Add("day", new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            r.Add("t_ms", new TimeSpan(0, 12, 34, 56, 789));
            r.Add("t_us", new TimeSpan(0, 23, 59, 59).Add(TimeSpan.FromTicks(9_999_990)));
            r.Add("price", new AvroDecimal(-12345678901234.5678m));
            r.Add("tiny", new AvroDecimal(0.000042m));
            r.Add("huge", new AvroDecimal(System.Numerics.BigInteger.Parse("-1234567890123456789012345678901234567890123456", System.Globalization.CultureInfo.InvariantCulture), 2));
            r.Add("id", Guid.Parse("123e4567-e89b-12d3-a456-426614174000"));
        });

        Assert.Equal(
            """{"ts_ms":"2023-11-14T22:13:20.123Z","ts_us":"2023-11-14T22:13:20.123456Z","before_epoch":"1969-12-31T23:59:59.999999Z","day":"1900-01-01","t_ms":"12:34:56.789","t_us":"23:59:59.999999","price":"-12345678901234.5678","tiny":"0.000042","huge":"-12345678901234567890123456789012345678901234.56","id":"123e4567-e89b-12d3-a456-426614174000"}""",
            Transcode(schemaJson, bytes));
    }

    [Fact]
    public void Transcode_RecursiveNamedType_ResolvesTheReference()
    {
        const string schemaJson = """{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}""";
        var schema = (RecordSchema)Schema.Parse(schemaJson);
        var tail = new GenericRecord(schema);
        tail.Add("v", 2);
        tail.Add("next", null);
        var head = new GenericRecord(schema);
        head.Add("v", 1);
        head.Add("next", tail);
        Assert.Equal("""{"v":1,"next":{"v":2,"next":null}}""", Transcode(schemaJson, AvroReference.Encode(schema, head)));
    }

    [Fact]
    public void Transcode_NonFiniteFloats_AreQuotedNanAndInf()
    {
        const string schemaJson = """{"type":"record","name":"F","fields":[{"name":"a","type":"double"},{"name":"b","type":"float"},{"name":"c","type":"double"}]}""";
        var bytes = AvroReference.Encode(schemaJson, r =>
        {
            r.Add("a", double.NaN);
            r.Add("b", float.PositiveInfinity);
            r.Add("c", double.NegativeInfinity);
        });
        Assert.Equal("""{"a":"nan","b":"inf","c":"-inf"}""", Transcode(schemaJson, bytes));
    }

    [Theory]
    [InlineData(new byte[] { 0x02, 0x41 }, "ends early")]
    [InlineData(new byte[] { 0x02, 0x41, 0x41, 0x00 }, "left over")]
    [InlineData(new byte[] { 0x01 }, "negative")]
    public void Transcode_BytesThatDoNotFitTheSchema_SayWhy(byte[] data, string expected)
    {
        const string schemaJson = """{"type":"record","name":"S","fields":[{"name":"s","type":"string"},{"name":"n","type":"int"}]}""";
        var e = Assert.Throws<AvroDataException>(() => Transcode(schemaJson, data));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Transcode_UnionIndexOutOfRange_Throws()
    {
        const string schemaJson = """{"type":"record","name":"U","fields":[{"name":"u","type":["null","int"]}]}""";
        Assert.Throws<AvroDataException>(() => Transcode(schemaJson, [0x04, 0x02]));
    }

    [Fact]
    public void Transcode_HugeBlockCountOfNulls_IsRefusedNotWritten()
    {
        const string schemaJson = """{"type":"record","name":"A","fields":[{"name":"a","type":{"type":"array","items":"null"}}]}""";
        // count 2^40 (zigzag) of zero-width items
        Assert.Throws<AvroDataException>(() => Transcode(schemaJson, [0x80, 0x80, 0x80, 0x80, 0x80, 0x40]));
    }

    [Theory]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"x","type":"Nope"}]}""", "Nope")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"x","type":"int"},{"name":"x","type":"int"}]}""", "twice")]
    [InlineData("""{"type":"record","name":"R"}""", "fields")]
    [InlineData("not json", "not valid JSON")]
    public void Parse_BadSchema_SaysWhy(string schemaJson, string expected)
    {
        var e = Assert.Throws<AvroSchemaException>(() => AvroSchemaParser.Parse(schemaJson));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
