using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Secrets;
using MskClickHouse.DevHarness;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.SchemaRegistryEmulator;
using MskClickHouse.TestSupport;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Function.Tests;

/// <summary>
/// The published AOT bootstrap decoding framed Avro and Protobuf values with schemas from the registry emulator
/// (Confluent REST and signed Glue GetSchemaVersion), against the Runtime API emulator and the embedded ClickHouse.
/// </summary>
public sealed class SchemaRegistryEndToEndTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly AwsCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session");
    private static readonly Guid GlueVersion = Guid.Parse("11111111-2222-4333-8444-555555555555");

    private const string AvroSchema = """
        {"type":"record","name":"Order","fields":[
          {"name":"id","type":"string"},
          {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
          {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
          {"name":"note","type":["null","string"]},
          {"name":"tags","type":{"type":"array","items":"string"}}
        ]}
        """;

    private const string ProtoSchema = """
        syntax = "proto3";
        message Click { string id = 1; uint64 n = 2; map<string, int32> attrs = 3; Inner inner = 4; message Inner { sint32 z = 1; } }
        """;

    private static void Varint(List<byte> w, ulong v)
    {
        while (v >= 0x80)
        {
            w.Add((byte)(v | 0x80));
            v >>= 7;
        }

        w.Add((byte)v);
    }

    private static void ZigZag(List<byte> w, long v) => Varint(w, (ulong)((v << 1) ^ (v >> 63)));

    private static void AvroString(List<byte> w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        ZigZag(w, b.Length);
        w.AddRange(b);
    }

    /// <summary>An Order in Avro binary: price -12.34 (unscaled -1234 = 0xFB2E), ts 2024-02-29T12:00:00.123456Z.</summary>
    private static byte[] Order(string id, string? note)
    {
        var w = new List<byte>();
        AvroString(w, id);
        ZigZag(w, 2);
        w.AddRange([0xFB, 0x2E]);
        ZigZag(w, 1_709_208_000_123_456);
        if (note is null)
        {
            ZigZag(w, 0);
        }
        else
        {
            ZigZag(w, 1);
            AvroString(w, note);
        }

        ZigZag(w, 2);
        AvroString(w, "a");
        AvroString(w, "b");
        ZigZag(w, 0);
        return [.. w];
    }

    private static byte[] Click()
    {
        var entry = new List<byte> { 0x0A, 0x01, (byte)'k', 0x10 };
        Varint(entry, unchecked((ulong)-3L)); // int32 -3: sign-extended to 10 bytes
        var inner = new List<byte> { 0x08 };
        ZigZag(inner, -5);
        var w = new List<byte> { 0x0A, 0x02, (byte)'c', (byte)'1', 0x10 };
        Varint(w, ulong.MaxValue);
        w.Add(0x1A);
        Varint(w, (ulong)entry.Count);
        w.AddRange(entry);
        w.Add(0x22);
        Varint(w, (ulong)inner.Count);
        w.AddRange(inner);
        return [.. w];
    }

    private static byte[] Confluent(int id, byte[] payload)
    {
        var v = new byte[5 + payload.Length];
        SchemaFraming.WriteConfluent(v, id);
        payload.CopyTo(v, 5);
        return v;
    }

    private static byte[] Glue(Guid version, byte[] payload)
    {
        var v = new byte[18 + payload.Length];
        SchemaFraming.WriteGlue(v, version, GlueCompression.None);
        payload.CopyTo(v, 18);
        return v;
    }

    private static string Record(string topic, long offset, byte[] value) =>
        $$"""{"topic":"{{topic}}","partition":0,"offset":{{offset}},"timestamp":1764082800000,"timestampType":"CREATE_TIME","key":null,"value":"{{Convert.ToBase64String(value)}}","headers":[]}""";

    private static byte[] Event(params (string Key, string[] Records)[] partitions) => Encoding.UTF8.GetBytes(
        """{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc","records":{"""
        + string.Join(',', partitions.Select(p => $"\"{p.Key}\":[{string.Join(',', p.Records)}]")) + "}}");

    private async Task<(string Db, Dictionary<string, string?> Env)> SetUpAsync(RegistryEmulator registry, CancellationToken ct)
    {
        var db = await clickHouse.CreateDatabaseAsync("e2e_sr", ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "orders", "id String, price Decimal(12, 2), ts DateTime64(6, 'UTC'), note Nullable(String), tags Array(String)"), ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "clicks", "id String, n UInt64, attrs Map(String, Int32), inner Tuple(z Int32)"), ct);
        var env = SinkEnvironment.For(clickHouse, db);
        env["VALUE_FORMAT"] = "avro,clicks=protobuf";
        FunctionEnvironment.AddSchemaRegistry(env, registry.Url, Credentials, "eu-west-1");
        return (db, env);
    }

    [Fact]
    public async Task Bootstrap_AvroAndProtobuf_BothFramings_LandTyped_BadFramingAndUnknownIdsDeadLettered()
    {
        var ct = TestContext.Current.CancellationToken;
        using var registry = new RegistryEmulator(glueCredentials: Credentials, region: "eu-west-1");
        registry.AddConfluent(1, "AVRO", AvroSchema);
        registry.AddGlue(GlueVersion, "AVRO", AvroSchema);
        registry.AddConfluent(2, "PROTOBUF", ProtoSchema);
        var (db, env) = await SetUpAsync(registry, ct);
        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var batch = Event(
            ("orders-0", [
                Record("orders", 10, Confluent(1, Order("o-1", null))),
                Record("orders", 11, Glue(GlueVersion, Order("o-2", "gift"))),
                Record("orders", 12, Encoding.UTF8.GetBytes("{\"id\":\"json, not framed\"}")),
                Record("orders", 13, Confluent(42, Order("o-4", null))),
                Record("orders", 14, Confluent(1, Order("o-5", null))),
            ]),
            ("clicks-0", [Record("clicks", 5, Confluent(2, [0x00, .. Click()]))]));
        var result = await emulator.EnqueueAsync(batch, Timeout, cancellationToken: ct);

        Assert.True(result.Success, $"{result.ErrorType}: {result.BodyText}\n{Output(process)}");
        using (var response = JsonDocument.Parse(result.Body))
        {
            Assert.Empty(response.RootElement.GetProperty("batchItemFailures").EnumerateArray());
        }

        Assert.Equal(
            "10\to-1\t-12.34\t2024-02-29 12:00:00.123456\t\\N\t['a','b']\torders\n" +
            "11\to-2\t-12.34\t2024-02-29 12:00:00.123456\tgift\t['a','b']\torders\n" +
            "14\to-5\t-12.34\t2024-02-29 12:00:00.123456\t\\N\t['a','b']\torders\n",
            await clickHouse.Server.QueryAsync($"SELECT _offset, id, price, ts, note, tags, _topic FROM {db}.orders ORDER BY _offset FORMAT TSV", ct));
        Assert.Equal(
            "5\tc1\t18446744073709551615\t{'k':-3}\t(-5)\n",
            await clickHouse.Server.QueryAsync($"SELECT _offset, id, n, attrs, inner FROM {db}.clicks FORMAT TSV", ct));
        var dead = await clickHouse.Server.QueryAsync($"SELECT offset, error FROM {db}.kafka_dead_letters ORDER BY offset FORMAT TSV", ct);
        var lines = dead.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 2, dead);
        Assert.StartsWith("12\tvalue does not start with a schema-registry framing byte", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("13\tunknown schema: the registry has no Confluent schema id 42", lines[1], StringComparison.Ordinal);
        Assert.Empty(registry.Problems);
    }

    [Fact]
    public async Task Bootstrap_RegistryDown_FailsThePartition_WithoutDeadLetters()
    {
        var ct = TestContext.Current.CancellationToken;
        using var registry = new RegistryEmulator(glueCredentials: Credentials, region: "eu-west-1") { Down = true };
        registry.AddConfluent(1, "AVRO", AvroSchema);
        var (db, env) = await SetUpAsync(registry, ct);
        await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromSeconds(4) });
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var batch = Event(("orders-0", [Record("orders", 20, Confluent(1, Order("o-1", null)))]));
        var result = await emulator.EnqueueAsync(batch, Timeout, cancellationToken: ct);

        Assert.True(result.Success, $"{result.ErrorType}: {result.BodyText}\n{Output(process)}");
        using (var response = JsonDocument.Parse(result.Body))
        {
            var failure = Assert.Single(response.RootElement.GetProperty("batchItemFailures").EnumerateArray());
            Assert.Equal("orders-0", failure.GetProperty("itemIdentifier").GetProperty("topic-partition").GetString());
            Assert.Equal(20, failure.GetProperty("itemIdentifier").GetProperty("offset").GetInt64());
        }

        Assert.Equal("0\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.kafka_dead_letters", ct));
        Assert.Equal("0\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.orders", ct));
        Assert.True(registry.ConfluentRequests > 1, "the lookup is retried before the partition is given up");
    }

    private static string Output(BootstrapProcess process) =>
        string.Join('\n', process.StandardOutputLines) + "\n" + string.Join('\n', process.StandardErrorLines);
}
