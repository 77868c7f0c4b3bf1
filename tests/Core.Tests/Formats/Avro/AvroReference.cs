using Avro;
using Avro.Generic;
using Avro.IO;

namespace MskClickHouse.Core.Tests.Formats.Avro;

/// <summary>Apache's Avro library as the reference writer: the bytes the transcoder reads come from an independent encoder.</summary>
internal static class AvroReference
{
    public static byte[] Encode(string schemaJson, Action<GenericRecord> fill)
    {
        var schema = (RecordSchema)Schema.Parse(schemaJson);
        var record = new GenericRecord(schema);
        fill(record);
        return Encode(schema, record);
    }

    public static byte[] Encode(RecordSchema schema, GenericRecord record)
    {
        using var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(schema).Write(record, new BinaryEncoder(stream));
        return stream.ToArray();
    }
}
