using System.Text;
using BenchmarkDotNet.Attributes;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats;
using MskClickHouse.Core.Formats.Avro;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Formats.Registry;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Benchmarks;

/// <summary>
/// Schema-registry framed Avro: the transcoder alone over Avro payloads (records/s and payload MB/s = Avro bytes /
/// time), and the whole event path (decode the Lambda event, transcode, encode JSONEachRow rows with all metadata).
/// </summary>
[MemoryDiagnoser]
public class FramedDecodeBenchmarks
{
    public const string Schema = """
        {"type":"record","name":"Order","namespace":"bench","fields":[
          {"name":"order_id","type":"string"},
          {"name":"customer","type":"string"},
          {"name":"amount","type":"double"},
          {"name":"quantity","type":"int"},
          {"name":"created","type":{"type":"long","logicalType":"timestamp-millis"}},
          {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}},
          {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"note","type":["null","string"]},
          {"name":"express","type":"boolean"}
        ]}
        """;

    public const string ProtoSchema = """
        syntax = "proto3";
        message Order {
          string order_id = 1; string customer = 2; double amount = 3; int32 quantity = 4; int64 created_ms = 5;
          sint64 price_cents = 6; Status status = 7; repeated string tags = 8; string note = 9; bool express = 10;
          enum Status { NEW = 0; PAID = 1; SHIPPED = 2; }
        }
        """;

    private byte[][] values = [];
    private byte[][] protoValues = [];
    private Core.Formats.Protobuf.ProtoMessage protoRoot = null!;
    private byte[] eventPayload = [];
    private AvroType root = null!;
    private ResolvedSchemas schemas = null!;
    private TableShape shape = null!;
    private readonly JsonOutput output = new(1 << 16);

    /// <summary>Records × Avro payload bytes (the note's length sets the size).</summary>
    [Params("10000x120B", "10000x450B")]
    public string Scenario { get; set; } = "10000x120B";

    /// <summary>Sum of the Avro payload bytes (without framing) of one iteration.</summary>
    public long AvroBytes { get; private set; }

    /// <summary>Sum of the Protobuf payload bytes of one iteration (same records).</summary>
    public long ProtoBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var noteBytes = Scenario == "10000x450B" ? 330 : 8;
        var random = new Random(7);
        values = new byte[10_000][];
        AvroBytes = 0;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Encode(random, i, noteBytes);
            AvroBytes += values[i].Length;
        }

        root = AvroSchemaParser.Parse(Schema);
        protoRoot = Core.Formats.Protobuf.ProtoSchemaParser.Parse(ProtoSchema).Messages[0];
        random = new Random(7);
        protoValues = new byte[values.Length][];
        ProtoBytes = 0;
        for (var i = 0; i < protoValues.Length; i++)
        {
            protoValues[i] = EncodeProto(random, i, noteBytes);
            ProtoBytes += protoValues[i].Length;
        }

        var id = SchemaRef.Confluent(1);
        schemas = new ResolvedSchemas(new Dictionary<SchemaRef, CompiledSchema> { [id] = CompiledSchema.Compile(id, new RegistrySchema(SchemaType.Avro, Schema)) });
        shape = new TableShape(new TableName("default", "orders"), MetadataColumnSets.ClickPipes, ValueFormat.Avro, "value");
        eventPayload = Event(values);
    }

    [Benchmark(Baseline = true)]
    public int TranscodeAvro()
    {
        var n = 0;
        foreach (var v in values)
        {
            output.Reset();
            AvroTranscoder.Transcode(root, v, output);
            n += output.Length;
        }

        return n;
    }

    [Benchmark]
    public int TranscodeProtobuf()
    {
        var n = 0;
        foreach (var v in protoValues)
        {
            output.Reset();
            Core.Formats.Protobuf.ProtoTranscoder.Transcode(protoRoot, v, output);
            n += output.Length;
        }

        return n;
    }

    [Benchmark]
    public int DecodeAndEncodeAvroEvent()
    {
        using var batch = KafkaEventDecoder.Decode(eventPayload);
        var bytes = 0;
        foreach (var partition in batch.Partitions)
        {
            using var encoded = RowEncoder.Encode(batch, partition, shape, TombstonePolicy.Skip, schemas);
            bytes += encoded.ByteCount;
        }

        return bytes;
    }

    private static byte[] Encode(Random random, int i, int noteBytes)
    {
        var w = new List<byte>(512);
        void Long(long v)
        {
            var z = (ulong)((v << 1) ^ (v >> 63));
            while (z >= 0x80)
            {
                w.Add((byte)(z | 0x80));
                z >>= 7;
            }

            w.Add((byte)z);
        }

        void Str(string s)
        {
            var b = Encoding.UTF8.GetBytes(s);
            Long(b.Length);
            w.AddRange(b);
        }

        Str($"ord-{i:D8}");
        Str($"customer-{random.Next(100_000)}");
        w.AddRange(BitConverter.GetBytes(random.NextDouble() * 1000));
        Long(random.Next(1, 50));
        Long(1_700_000_000_000 + (i * 1000L) + random.Next(1000));
        var cents = random.NextInt64(1, 10_000_000);
        var price = System.Numerics.BigInteger.Parse(cents.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture).ToByteArray(isUnsigned: false, isBigEndian: true);
        Long(price.Length);
        w.AddRange(price);
        Long(random.Next(3));
        Long(2);
        Str("web");
        Str($"campaign-{random.Next(20)}");
        Long(0);
        Long(1);
        Str(new string('n', noteBytes));
        w.Add((byte)(i % 2));
        return [.. w];
    }

    private static byte[] EncodeProto(Random random, int i, int noteBytes)
    {
        var w = new List<byte>(512);
        void Varint(ulong v)
        {
            while (v >= 0x80)
            {
                w.Add((byte)(v | 0x80));
                v >>= 7;
            }

            w.Add((byte)v);
        }

        void Str(int field, string s)
        {
            var b = Encoding.UTF8.GetBytes(s);
            Varint((ulong)((field << 3) | 2));
            Varint((ulong)b.Length);
            w.AddRange(b);
        }

        Str(1, $"ord-{i:D8}");
        Str(2, $"customer-{random.Next(100_000)}");
        w.Add(0x19);
        w.AddRange(BitConverter.GetBytes(random.NextDouble() * 1000));
        w.Add(0x20);
        Varint((ulong)random.Next(1, 50));
        w.Add(0x28);
        Varint((ulong)(1_700_000_000_000 + (i * 1000L) + random.Next(1000)));
        var cents = random.NextInt64(1, 10_000_000);
        w.Add(0x30);
        Varint((ulong)(cents << 1));
        w.Add(0x38);
        Varint((ulong)random.Next(3));
        Str(8, "web");
        Str(8, $"campaign-{random.Next(20)}");
        Str(9, new string('n', noteBytes));
        w.Add(0x50);
        w.Add((byte)(i % 2));
        return [.. w];
    }

    private static byte[] Event(byte[][] avro)
    {
        var sb = new StringBuilder("""{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/c/1","records":{""");
        for (var p = 0; p < 3; p++)
        {
            sb.Append(p == 0 ? "" : ",").Append($"\"orders-{p}\":[");
            var first = true;
            for (var i = p; i < avro.Length; i += 3)
            {
                var framed = new byte[avro[i].Length + 5];
                SchemaFraming.WriteConfluent(framed, 1);
                avro[i].CopyTo(framed, 5);
                sb.Append(first ? "" : ",").Append($$"""{"topic":"orders","partition":{{p}},"offset":{{i}},"timestamp":1700000000000,"timestampType":"CREATE_TIME","key":null,"value":"{{Convert.ToBase64String(framed)}}","headers":[]}""");
                first = false;
            }

            sb.Append(']');
        }

        return Encoding.UTF8.GetBytes(sb.Append("}}").ToString());
    }
}
