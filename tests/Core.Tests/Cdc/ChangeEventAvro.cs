using Avro;
using Avro.Generic;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Tests.Formats.Avro;
using MskClickHouse.Simulation;

namespace MskClickHouse.Core.Tests.Cdc;

/// <summary>
/// A Debezium envelope as the Confluent AvroConverter registers and writes it (the reference Apache.Avro writer):
/// nullable row fields whose types carry <c>connect.name</c>, the decimal also Avro's own <c>logicalType</c>, and the
/// <c>after</c> field naming the record <c>before</c> defines.
/// </summary>
internal static class ChangeEventAvro
{
    public const string Schema = """
        {"type":"record","name":"Envelope","namespace":"sim.shop","fields":[
          {"name":"before","type":["null",{"type":"record","name":"Value","fields":[
            {"name":"id","type":"int"},
            {"name":"name","type":["null","string"],"default":null},
            {"name":"birth","type":["null",{"type":"int","connect.version":1,"connect.name":"io.debezium.time.Date"}],"default":null},
            {"name":"updated_at","type":["null",{"type":"long","connect.version":1,"connect.name":"io.debezium.time.MicroTimestamp"}],"default":null},
            {"name":"balance","type":["null",{"type":"bytes","scale":2,"precision":12,"connect.version":1,"connect.parameters":{"scale":"2","connect.decimal.precision":"12"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}],"default":null},
            {"name":"doc","type":["null",{"type":"string","connect.version":1,"connect.name":"io.debezium.data.Json"}],"default":null},
            {"name":"created","type":["null",{"type":"string","connect.version":1,"connect.name":"io.debezium.time.ZonedTimestamp"}],"default":null}
          ],"connect.name":"sim.shop.Value"}],"default":null},
          {"name":"after","type":["null","Value"],"default":null},
          {"name":"op","type":"string"},
          {"name":"ts_ms","type":["null","long"],"default":null}
        ],"connect.name":"sim.shop.Envelope"}
        """;

    private static readonly RecordSchema Envelope = (RecordSchema)Avro.Schema.Parse(Schema);

    /// <summary>The Confluent-framed value of <paramref name="change"/> under schema id <paramref name="id"/> (null: a tombstone).</summary>
    public static byte[]? Value(SourceChange change, int id)
    {
        if (change.IsTombstone)
        {
            return null;
        }

        var envelope = new GenericRecord(Envelope);
        envelope.Add("before", Row(change.Before, change.KeyOnlyBefore));
        envelope.Add("after", Row(change.After, false));
        envelope.Add("op", change.Op.ToString());
        envelope.Add("ts_ms", 1_735_689_600_000L);
        var payload = AvroReference.Encode(Envelope, envelope);
        var value = new byte[5 + payload.Length];
        SchemaFraming.WriteConfluent(value, id);
        payload.CopyTo(value, 5);
        return value;
    }

    private static GenericRecord? Row(SourceRow? row, bool keyOnly)
    {
        if (row is null)
        {
            return null;
        }

        var schema = (RecordSchema)((UnionSchema)Envelope["before"].Schema).Schemas[1];
        var r = new GenericRecord(schema);
        r.Add("id", row.Id);
        r.Add("name", keyOnly ? null : row.Name);
        r.Add("birth", keyOnly ? null : row.BirthDays);
        r.Add("updated_at", keyOnly ? null : row.UpdatedMicros);
        r.Add("balance", keyOnly ? null : new AvroDecimal(new decimal((int)Math.Abs(row.BalanceCents), 0, 0, row.BalanceCents < 0, 2)));
        r.Add("doc", keyOnly ? null : row.Doc);
        r.Add("created", keyOnly ? null : row.Created);
        return r;
    }
}
