using System.Collections.Frozen;
using Avro.Generic;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Evolution;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Formats.Registry;
using MskClickHouse.Core.Tests.Events;
using MskClickHouse.Core.Tests.Formats.Avro;
using MskClickHouse.SchemaRegistryEmulator;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Evolution;

/// <summary>The real sink with the registry emulator: a new schema version's added fields become columns of the schema's types.</summary>
public sealed class AvroEvolutionSinkTests(ClickHouseFixture clickHouse)
{
    private const string V1 = """
        {"type":"record","name":"Order","namespace":"shop","fields":[
          {"name":"id","type":"long"},
          {"name":"item","type":"string"}
        ]}
        """;

    // Version 2 adds nullable fields (with defaults, a compatible evolution) of several types.
    private const string V2 = """
        {"type":"record","name":"Order","namespace":"shop","fields":[
          {"name":"id","type":"long"},
          {"name":"item","type":"string"},
          {"name":"coupon","type":["null","string"],"default":null},
          {"name":"qty","type":["null","int"],"default":null},
          {"name":"seen","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},
          {"name":"price","type":["null","double"],"default":null}
        ]}
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Rec(long offset, int schemaId, string schema, Action<GenericRecord> fill)
    {
        var payload = AvroReference.Encode(schema, fill);
        var value = new byte[5 + payload.Length];
        SchemaFraming.WriteConfluent(value, schemaId);
        payload.CopyTo(value, 5);
        return TestEvents.Record("orders", 0, offset, "\"" + Convert.ToBase64String(value) + "\"");
    }

    private static string V1Rec(long o) => Rec(o, 1, V1, r =>
    {
        r.Add("id", o);
        r.Add("item", $"i{o}");
    });

    private static string V2Rec(long o, string? coupon) => Rec(o, 2, V2, r =>
    {
        r.Add("id", o);
        r.Add("item", $"i{o}");
        r.Add("coupon", coupon);
        r.Add("qty", 3);
        r.Add("seen", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123L).UtcDateTime);
        r.Add("price", null);
    });

    private async Task<EvolvingSink> SinkAsync(RegistryEmulator registry, string db, SchemaEvolutionMode mode, bool autoCreate)
    {
        var options = EvolvingSink.Options(clickHouse, db, mode, autoCreate) with
        {
            DefaultValueFormat = ValueFormat.Avro,
            SchemaRegistry = new SchemaRegistryOptions { ConfluentUrl = registry.Url },
            TopicValueFormats = FrozenDictionary<string, ValueFormat>.Empty,
        };
        var cache = await SchemaRegistryFactory.CreateAsync(options.SchemaRegistry, new Dictionary<string, string?>(), Ct);
        return await EvolvingSink.CreateAsync(options, Ct, cache);
    }

    private Task<string> ColumnsAsync(string db) =>
        clickHouse.Server.QueryAsync($"SELECT name, type FROM system.columns WHERE database = '{db}' AND table = 'orders' AND name NOT LIKE '\\_%' ORDER BY position FORMAT TSVRaw", Ct);

    [Fact]
    public async Task NewSchemaVersionWithAddedNullableFields_AddsTheColumnsWithTheSchemasTypes_TheirValuesLand()
    {
        using var registry = new RegistryEmulator();
        registry.AddConfluent(1, "AVRO", V1);
        registry.AddConfluent(2, "AVRO", V2);
        var db = await clickHouse.CreateDatabaseAsync("avroevo", Ct);
        await clickHouse.Server.QueryAsync(
            $"CREATE TABLE {db}.orders (id Int64, item String, _topic String, _partition Int32, _offset Int64) " +
            "ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 1000",
            Ct);
        using var sink = await SinkAsync(registry, db, SchemaEvolutionMode.AddColumns, autoCreate: false);

        // The first v2 record's coupon is null: the schema still says it is a string.
        Assert.Empty(await sink.InvokeAsync(TestEvents.Event(("orders-0", [V1Rec(0), V2Rec(1, null), V2Rec(2, "SAVE10"), V1Rec(3)]))));

        Assert.Equal(
            """
            id	Int64
            item	String
            coupon	Nullable(String)
            qty	Nullable(Int32)
            seen	Nullable(DateTime64(3, 'UTC'))
            price	Nullable(Float64)

            """.ReplaceLineEndings("\n"),
            await ColumnsAsync(db));
        Assert.Equal(
            """
            0	i0	\N	\N	\N	\N
            1	i1	\N	3	2023-11-14 22:13:20.123	\N
            2	i2	SAVE10	3	2023-11-14 22:13:20.123	\N
            3	i3	\N	\N	\N	\N

            """.ReplaceLineEndings("\n"),
            await clickHouse.Server.QueryAsync($"SELECT id, item, coupon, qty, seen, price FROM {db}.orders ORDER BY id FORMAT TSV", Ct));
        Assert.Equal(4, sink.Metrics.Sum(SchemaEvolver.ColumnsAddedMetric));
    }

    [Fact]
    public async Task MissingTable_IsCreatedFromTheAvroSchema_RedeliveryAddsNothing()
    {
        using var registry = new RegistryEmulator();
        registry.AddConfluent(2, "AVRO", V2);
        var db = await clickHouse.CreateDatabaseAsync("avroevo", Ct);
        using var sink = await SinkAsync(registry, db, SchemaEvolutionMode.Off, autoCreate: true);
        var batch = TestEvents.Event(("orders-0", [V2Rec(0, null), V2Rec(1, "X")]));

        Assert.Empty(await sink.InvokeAsync(batch));
        Assert.Empty(await sink.InvokeAsync(batch));

        Assert.Equal(
            """
            id	Nullable(Int64)
            item	Nullable(String)
            coupon	Nullable(String)
            qty	Nullable(Int32)
            seen	Nullable(DateTime64(3, 'UTC'))
            price	Nullable(Float64)

            """.ReplaceLineEndings("\n"),
            await ColumnsAsync(db));
        Assert.Equal("0\ti0\t\\N\t3\n1\ti1\tX\t3\n", await clickHouse.Server.QueryAsync($"SELECT id, item, coupon, qty FROM {db}.orders ORDER BY id FORMAT TSV", Ct));
        Assert.Equal(1, sink.Metrics.Sum(SchemaEvolver.TablesCreatedMetric));
        Assert.Single(sink.Gateway.Statements, s => s.StartsWith($"CREATE TABLE IF NOT EXISTS `{db}`.`orders`", StringComparison.Ordinal));
    }
}
