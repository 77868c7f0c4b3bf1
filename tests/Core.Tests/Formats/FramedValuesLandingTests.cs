using System.Collections.Frozen;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Avro;
using Avro.Generic;
using Google.Protobuf;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Formats.Registry;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Runtime;
using MskClickHouse.Core.Secrets;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.Core.Tests.Events;
using MskClickHouse.Core.Tests.Formats.Avro;
using MskClickHouse.SchemaRegistryEmulator;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Formats;

/// <summary>
/// The real handler against the embedded engine with a registry emulator: framed Avro values land with exact typed
/// values in both framings, schema versions land by field name, bad framing and unknown ids are dead-lettered while
/// their neighbours land, and a registry outage fails the partition without dead letters.
/// </summary>
public sealed class FramedValuesLandingTests(ClickHouseFixture fixture)
{
    private static readonly AwsCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token");

    private const string V1 = """
        {"type":"record","name":"Order","namespace":"shop","fields":[
          {"name":"id","type":"string"},
          {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}},
          {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
          {"name":"day","type":{"type":"int","logicalType":"date"}},
          {"name":"uid","type":{"type":"string","logicalType":"uuid"}},
          {"name":"note","type":["null","string"],"default":null},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"attrs","type":{"type":"map","values":"long"}},
          {"name":"addr","type":{"type":"record","name":"Address","fields":[{"name":"city","type":"string"},{"name":"zip","type":"int"}]}},
          {"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}}
        ]}
        """;

    // Version 2: fields reordered, enum symbols reordered.
    private const string V2 = """
        {"type":"record","name":"Order","namespace":"shop","fields":[
          {"name":"color","type":{"type":"enum","name":"Color","symbols":["BLUE","GREEN","RED"]}},
          {"name":"addr","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"int"},{"name":"city","type":"string"}]}},
          {"name":"attrs","type":{"type":"map","values":"long"}},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"note","type":["null","string"],"default":null},
          {"name":"uid","type":{"type":"string","logicalType":"uuid"}},
          {"name":"day","type":{"type":"int","logicalType":"date"}},
          {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
          {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}},
          {"name":"id","type":"string"}
        ]}
        """;

    private static readonly Guid GlueV2 = Guid.Parse("6f1c2d3e-4a5b-4c6d-8e7f-001122334455");

    private static byte[] Order(string schemaJson, int i)
    {
        var schema = (RecordSchema)Schema.Parse(schemaJson);
        var r = new GenericRecord(schema);
        r.Add("id", $"o-{i}");
        r.Add("price", new AvroDecimal(-1234567890.1234m + i));
        r.Add("ts", new DateTime(2024, 2, 29, 23, 59, 59, DateTimeKind.Utc).AddTicks(1_234_560 + (i * 10)));
        r.Add("day", new DateTime(1969, 7, 20, 0, 0, 0, DateTimeKind.Utc));
        r.Add("uid", Guid.Parse($"00000000-0000-4000-8000-{i:D12}"));
        r.Add("note", i % 2 == 0 ? null : "odd");
        r.Add("tags", new object[] { "a", $"t{i}" });
        r.Add("attrs", new Dictionary<string, object> { ["k"] = (long)i });
        var address = new GenericRecord((RecordSchema)schema["addr"].Schema);
        address.Add("city", "Zürich");
        address.Add("zip", 8000 + i);
        r.Add("addr", address);
        r.Add("color", new GenericEnum((EnumSchema)schema["color"].Schema, "GREEN"));
        return AvroReference.Encode(schema, r);
    }

    private static byte[] Confluent(int id, byte[] payload)
    {
        var value = new byte[5 + payload.Length];
        SchemaFraming.WriteConfluent(value, id);
        payload.CopyTo(value, 5);
        return value;
    }

    private static byte[] Glue(Guid version, byte[] payload, bool zlib)
    {
        if (zlib)
        {
            using var compressed = new MemoryStream();
            using (var z = new ZLibStream(compressed, CompressionLevel.Fastest))
            {
                z.Write(payload);
            }

            payload = compressed.ToArray();
        }

        var value = new byte[18 + payload.Length];
        SchemaFraming.WriteGlue(value, version, zlib ? GlueCompression.Zlib : GlueCompression.None);
        payload.CopyTo(value, 18);
        return value;
    }

    private static string Rec(long offset, byte[] value) => TestEvents.Record("orders", 0, offset, "\"" + Convert.ToBase64String(value) + "\"");

    private async Task<(IInvocationHandler Handler, string Db)> CreateAsync(RegistryEmulator registry)
    {
        var db = await fixture.CreateDatabaseAsync("fmt", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync(
            $"CREATE TABLE {db}.orders (id String, price Decimal(20, 4), ts DateTime64(6, 'UTC'), day Date32, uid UUID, note Nullable(String), " +
            "tags Array(String), attrs Map(String, Int64), addr Tuple(city String, zip Int32), color Enum8('RED' = 1, 'GREEN' = 2, 'BLUE' = 3), " +
            "_topic String, _partition Int32, _offset Int64) ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 1000");
        await fixture.Server.QueryAsync(
            $"CREATE TABLE {db}.clicks (id String, i32 Int32, i64 Int64, u32 UInt32, u64 UInt64, s32 Int32, s64 Int64, f32 UInt32, f64 UInt64, sf32 Int32, sf64 Int64, " +
            "d Float64, f Float32, ok Bool, raw String, status Enum8('NEW' = 0, 'PAID' = 1), nums Array(Int32), tags Array(String), attrs Map(String, Int64), " +
            "addr Tuple(city String, zip Int32), created DateTime64(9, 'UTC'), card Nullable(String), account Nullable(Int64), note Nullable(String), _offset Int64) " +
            "ENGINE = MergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 1000", TestContext.Current.CancellationToken);
        var options = new SinkOptions
        {
            ClickHouseUrl = fixture.Server.BaseUri,
            User = fixture.Server.User,
            Password = fixture.Server.Password,
            Database = db,
            DefaultValueFormat = ValueFormat.Avro,
            TopicValueFormats = new Dictionary<string, ValueFormat> { ["clicks"] = ValueFormat.Protobuf }.ToFrozenDictionary(),
            SchemaRegistry = new SchemaRegistryOptions { ConfluentUrl = registry.Url, GlueEndpoint = registry.Url },
            DeadLetterTable = new TableName(db, "kafka_dead_letters"),
            StateTable = new TableName(db, "kafka_sink_state"),
            SinkId = "fmt-test",
            DeadlineSafetyMargin = TimeSpan.FromMilliseconds(200),
        };
        var env = new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = Credentials.AccessKeyId, ["AWS_SECRET_ACCESS_KEY"] = Credentials.SecretAccessKey, ["AWS_SESSION_TOKEN"] = Credentials.SessionToken, ["AWS_REGION"] = "us-east-1" };
        var cache = await SchemaRegistryFactory.CreateAsync(options.SchemaRegistry, env, TestContext.Current.CancellationToken);
        var gateway = new DriverClickHouseGateway(options.Connection);
        var handler = await SinkHandlerFactory.CreateAsync(options, gateway, new RecordingLog(), new RecordingMetrics(), TimeProvider.System, TestContext.Current.CancellationToken, cache);
        return (handler, db);
    }

    private static async Task<List<(string, long)>> InvokeAsync(IInvocationHandler handler, string payload, TimeSpan timeout)
    {
        var context = new InvocationContext(Guid.NewGuid().ToString(), DateTimeOffset.UtcNow + timeout, "arn:aws:lambda:us-east-1:123456789012:function:test", null);
        var response = await handler.HandleAsync(context, Encoding.UTF8.GetBytes(payload), TestContext.Current.CancellationToken);
        using var doc = JsonDocument.Parse(response);
        return doc.RootElement.GetProperty("batchItemFailures").EnumerateArray()
            .Select(f => (f.GetProperty("itemIdentifier").GetProperty("topic-partition").GetString()!, f.GetProperty("itemIdentifier").GetProperty("offset").GetInt64()))
            .ToList();
    }

    [Fact]
    public async Task Avro_BothFramingsAndTwoSchemaVersions_LandTypedByName_BadOnesAreDeadLettered()
    {
        using var registry = new RegistryEmulator(glueCredentials: Credentials);
        registry.AddConfluent(1, "AVRO", V1);
        registry.AddGlue(GlueV2, "AVRO", V2);
        var (handler, db) = await CreateAsync(registry);

        var payload = TestEvents.Event(("orders-0", [
            Rec(0, Confluent(1, Order(V1, 0))),
            Rec(1, Glue(GlueV2, Order(V2, 1), zlib: false)),
            Rec(2, "{\"id\":\"plain json\"}"u8.ToArray()),
            Rec(3, Glue(GlueV2, Order(V2, 3), zlib: true)),
            Rec(4, Confluent(99, Order(V1, 4))),
            Rec(5, Confluent(1, Order(V1, 5)[..7])),
            Rec(6, Confluent(1, Order(V1, 6))),
        ]));
        var failures = await InvokeAsync(handler, payload, TimeSpan.FromSeconds(30));

        Assert.Empty(failures);
        Assert.Empty(registry.Problems);
        var rows = await fixture.Server.QueryAsync(
            $"SELECT _offset, id, price, ts, day, uid, note, tags, attrs, addr, color FROM {db}.orders ORDER BY _offset FORMAT TSV", TestContext.Current.CancellationToken);
        Assert.Equal(
            """
            0	o-0	-1234567890.1234	2024-02-29 23:59:59.123456	1969-07-20	00000000-0000-4000-8000-000000000000	\N	['a','t0']	{'k':0}	('Zürich',8000)	GREEN
            1	o-1	-1234567889.1234	2024-02-29 23:59:59.123457	1969-07-20	00000000-0000-4000-8000-000000000001	odd	['a','t1']	{'k':1}	('Zürich',8001)	GREEN
            3	o-3	-1234567887.1234	2024-02-29 23:59:59.123459	1969-07-20	00000000-0000-4000-8000-000000000003	odd	['a','t3']	{'k':3}	('Zürich',8003)	GREEN
            6	o-6	-1234567884.1234	2024-02-29 23:59:59.123462	1969-07-20	00000000-0000-4000-8000-000000000006	\N	['a','t6']	{'k':6}	('Zürich',8006)	GREEN

            """.ReplaceLineEndings("\n"),
            rows);

        var letters = await fixture.Server.QueryAsync($"SELECT offset, error, base64Encode(value) FROM {db}.kafka_dead_letters ORDER BY offset FORMAT TSV", TestContext.Current.CancellationToken);
        var lines = letters.TrimEnd('\n').Split('\n').Select(l => l.Split('\t')).ToList();
        Assert.Equal(["2", "4", "5"], lines.Select(l => l[0]));
        Assert.Contains("0x7b", lines[0][1], StringComparison.Ordinal);
        Assert.Contains("unknown schema: the registry has no Confluent schema id 99", lines[1][1], StringComparison.Ordinal);
        Assert.Contains("does not decode", lines[2][1], StringComparison.Ordinal);
        Assert.Equal(Convert.ToBase64String(Confluent(99, Order(V1, 4))), lines[1][2]);
        Assert.Equal(2, registry.ConfluentRequests); // ids 1 and 99, once each
        Assert.Equal(1, registry.GlueRequests);
    }

    [Fact]
    public async Task Avro_RegistryDown_FailsThePartition_NoDeadLetters()
    {
        using var registry = new RegistryEmulator(glueCredentials: Credentials) { Down = true };
        registry.AddConfluent(1, "AVRO", V1);
        var (handler, db) = await CreateAsync(registry);

        var payload = TestEvents.Event(("orders-0", [Rec(10, Confluent(1, Order(V1, 0))), Rec(11, Confluent(1, Order(V1, 1)))]));
        var failures = await InvokeAsync(handler, payload, TimeSpan.FromSeconds(3));

        Assert.Equal([("orders-0", 10L)], failures);
        Assert.Equal("0", (await fixture.Server.QueryAsync($"SELECT count() FROM {db}.kafka_dead_letters", TestContext.Current.CancellationToken)).Trim());
        Assert.Equal("0", (await fixture.Server.QueryAsync($"SELECT count() FROM {db}.orders", TestContext.Current.CancellationToken)).Trim());
        Assert.True(registry.ConfluentRequests > 1, "the lookup is retried before the partition is given up");

        // The registry comes back: the redelivered batch lands.
        registry.Down = false;
        Assert.Empty(await InvokeAsync(handler, payload, TimeSpan.FromSeconds(30)));
        Assert.Equal("2", (await fixture.Server.QueryAsync($"SELECT count() FROM {db}.orders", TestContext.Current.CancellationToken)).Trim());
    }

    private static byte[] Click(int i) => Proto(o =>
    {
        o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString($"c-{i}");
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(-7 - i);
        o.WriteTag(5, WireFormat.WireType.Varint); o.WriteUInt64(ulong.MaxValue);
        o.WriteTag(7, WireFormat.WireType.Varint); o.WriteSInt64(long.MinValue);
        o.WriteTag(8, WireFormat.WireType.Fixed32); o.WriteFixed32(4_000_000_000);
        o.WriteTag(16, WireFormat.WireType.Varint); o.WriteEnum(1);
        o.WriteTag(17, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(Proto(p => { p.WriteInt32(1); p.WriteInt32(-1); })));
        o.WriteTag(19, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(Proto(p => { p.WriteTag(1, WireFormat.WireType.LengthDelimited); p.WriteString("k"); p.WriteTag(2, WireFormat.WireType.Varint); p.WriteInt64(i); })));
        o.WriteTag(20, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(Proto(p => { p.WriteTag(1, WireFormat.WireType.LengthDelimited); p.WriteString("Zürich"); p.WriteTag(2, WireFormat.WireType.Varint); p.WriteInt32(8000 + i); })));
        o.WriteTag(21, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(Proto(p => { p.WriteTag(1, WireFormat.WireType.Varint); p.WriteInt64(1_700_000_000); p.WriteTag(2, WireFormat.WireType.Varint); p.WriteInt32(123_456_789); })));
        o.WriteTag(22, WireFormat.WireType.LengthDelimited); o.WriteString("visa");
    });

    private static byte[] Proto(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return stream.ToArray();
    }

    private static string ClickRec(long offset, byte[] value) => TestEvents.Record("clicks", 0, offset, "\"" + Convert.ToBase64String(value) + "\"");

    [Fact]
    public async Task Protobuf_BothFramings_LandTypedWithDefaults_BadOnesAreDeadLettered()
    {
        using var registry = new RegistryEmulator(glueCredentials: Credentials);
        registry.AddConfluent(5, "PROTOBUF", Protobuf.ProtoTranscoderTests.Schema);
        var glue = Guid.NewGuid();
        registry.AddGlue(glue, "PROTOBUF", Protobuf.ProtoTranscoderTests.Schema);
        var (handler, db) = await CreateAsync(registry);

        // Confluent Protobuf: message-index list [0] (the single byte 0) before the message.
        static byte[] Indexed(byte[] message) => [0x00, .. message];
        var payload = TestEvents.Event(("clicks-0", [
            ClickRec(0, Confluent(5, Indexed(Click(0)))),
            ClickRec(1, Glue(glue, Click(1), zlib: false)),
            ClickRec(2, Confluent(5, Indexed([]))),
            ClickRec(3, Confluent(5, [0x02, 0x0E, .. Click(3)])), // message index 7 does not exist
            ClickRec(4, Confluent(6, Indexed(Click(4)))),
        ]));
        Assert.Empty(await InvokeAsync(handler, payload, TimeSpan.FromSeconds(30)));

        var rows = await fixture.Server.QueryAsync(
            $"SELECT _offset, id, i32, u64, s64, f32, status, nums, attrs, addr, created, card, account, note FROM {db}.clicks ORDER BY _offset FORMAT TSV", TestContext.Current.CancellationToken);
        Assert.Equal(
            """
            0	c-0	-7	18446744073709551615	-9223372036854775808	4000000000	PAID	[1,-1]	{'k':0}	('Zürich',8000)	2023-11-14 22:13:20.123456789	visa	\N	\N
            1	c-1	-8	18446744073709551615	-9223372036854775808	4000000000	PAID	[1,-1]	{'k':1}	('Zürich',8001)	2023-11-14 22:13:20.123456789	visa	\N	\N
            2		0	0	0	0	NEW	[]	{}	('',0)	1970-01-01 00:00:00.000000000	\N	\N	\N

            """.ReplaceLineEndings("\n"),
            rows);
        var letters = await fixture.Server.QueryAsync($"SELECT offset, error FROM {db}.kafka_dead_letters ORDER BY offset FORMAT TSV", TestContext.Current.CancellationToken);
        Assert.Contains("3\t", letters, StringComparison.Ordinal);
        Assert.Contains("message index 7", letters, StringComparison.Ordinal);
        Assert.Contains("4\tunknown schema: the registry has no Confluent schema id 6", letters, StringComparison.Ordinal);
    }
}
