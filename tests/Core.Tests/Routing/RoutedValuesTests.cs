using System.Text;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Formats.Registry;
using MskClickHouse.Core.Routing;
using MskClickHouse.Simulation;

namespace MskClickHouse.Core.Tests.Routing;

/// <summary>Routing by a field of an Avro record: the field of the decoded record, as the transcoder writes it.</summary>
public sealed class RoutedValuesTests
{
    private const string Schema = """{"type":"record","name":"Event","fields":[{"name":"id","type":"long"},{"name":"type","type":"string"},{"name":"n","type":"int"}]}""";

    /// <summary>Confluent framing (0x00, schema id 7 big-endian) of the Avro binary of {id, type, n}.</summary>
    private static byte[] Framed(long id, string type, int n)
    {
        var bytes = new List<byte> { 0, 0, 0, 0, 7 };
        bytes.AddRange(ZigZag(id));
        bytes.AddRange(ZigZag(Encoding.UTF8.GetByteCount(type)));
        bytes.AddRange(Encoding.UTF8.GetBytes(type));
        bytes.AddRange(ZigZag(n));
        return [.. bytes];

        static IEnumerable<byte> ZigZag(long v)
        {
            var z = (ulong)((v << 1) ^ (v >> 63));
            do
            {
                var b = (byte)(z & 0x7F);
                z >>= 7;
                yield return z == 0 ? b : (byte)(b | 0x80);
            }
            while (z != 0);
        }
    }

    [Fact]
    public void ByField_OfAnAvroRecord_ComparesTheDecodedFieldAsText()
    {
        var records = new[] { Framed(1, "click", 5), Framed(2, "view", 5), Framed(3, "click", 6), [0, 0, 0, 0, 7, 0xFF] }
            .Select((v, i) => new SimRecord("events", 0, i, 1_700_000_000_000, null, v, []));
        using var batch = KafkaEventDecoder.Decode(KafkaEventWriter.Write(records));
        var schemas = new ResolvedSchemas(new Dictionary<SchemaRef, CompiledSchema> { [SchemaRef.Confluent(7)] = CompiledSchema.Compile(SchemaRef.Confluent(7), new RegistrySchema(SchemaType.Avro, Schema)) });
        var options = SinkOptionsParser.Parse(new Dictionary<string, string?>
        {
            ["CLICKHOUSE_URL"] = "https://ch.example.com", ["SINK_ID"] = "s", ["VALUE_FORMAT"] = "avro",
            ["ROUTES"] = """[{"topic":"events","table":"clicks","where":{"field":"type","equals":"click"}},{"topic":"events","table":"fives","where":{"field":"n","equals":"5"}}]""",
        });

        var routing = new TopicRouter(options).Route(batch, batch.Partitions[0], RoutedValues.For(ValueFormat.Avro, schemas));

        Assert.Equal([0L, 2L], routing.Routed.Single(r => r.Table.Table == "clicks").Records.Records.Select(r => r.Offset));
        Assert.Equal([0L, 1L], routing.Routed.Single(r => r.Table.Table == "fives").Records.Records.Select(r => r.Offset));
        Assert.Equal([3L], routing.Unrouted!.Records.Select(r => r.Offset)); // does not decode: no fields, so no route
    }

    [Fact]
    public void For_JsonAndString_ReadTheValueAsItIs()
    {
        Assert.Null(RoutedValues.For(ValueFormat.Json, null));
        Assert.Null(RoutedValues.For(ValueFormat.String, null));
        Assert.NotNull(RoutedValues.For(ValueFormat.Protobuf, null));
    }
}
