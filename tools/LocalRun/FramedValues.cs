using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.SchemaRegistryEmulator;

namespace MskClickHouse.LocalRun;

/// <summary>
/// For <c>--value-format avro|protobuf</c>: turns the generated JSON values (<c>{"id","n","amount","note"}</c>) into
/// schema-registry framed binary, Confluent framing for even offsets and Glue framing for odd ones, with the schemas
/// registered in the built-in registry emulator. Values that are not such an object (the deliberately bad ones) are
/// kept as they are, so the function dead-letters them for bad framing.
/// </summary>
internal static class FramedValues
{
    public const int ConfluentAvroId = 1;
    public const int ConfluentProtobufId = 2;
    public static readonly Guid GlueAvroVersion = Guid.Parse("a0a0a0a0-0000-4000-8000-000000000001");
    public static readonly Guid GlueProtobufVersion = Guid.Parse("b0b0b0b0-0000-4000-8000-000000000002");

    public const string AvroSchema = """{"type":"record","name":"Generated","fields":[{"name":"id","type":"string"},{"name":"n","type":"long"},{"name":"amount","type":"double"},{"name":"note","type":"string"}]}""";

    public const string ProtoSchema = """syntax = "proto3"; message Generated { string id = 1; uint64 n = 2; double amount = 3; string note = 4; }""";

    public static void Register(RegistryEmulator registry)
    {
        registry.AddConfluent(ConfluentAvroId, "AVRO", AvroSchema);
        registry.AddConfluent(ConfluentProtobufId, "PROTOBUF", ProtoSchema);
        registry.AddGlue(GlueAvroVersion, "AVRO", AvroSchema);
        registry.AddGlue(GlueProtobufVersion, "PROTOBUF", ProtoSchema);
    }

    public static byte[]? Convert(byte[]? json, string format, long offset)
    {
        if (json is null)
        {
            return null;
        }

        string id, note;
        long n;
        double amount;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object)
            {
                return json;
            }

            id = r.GetProperty("id").GetString()!;
            n = r.GetProperty("n").GetInt64();
            amount = r.GetProperty("amount").GetDouble();
            note = r.GetProperty("note").GetString()!;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return json;
        }

        var w = new List<byte>(json.Length + 24);
        var glue = offset % 2 == 1;
        if (glue)
        {
            var header = new byte[18];
            SchemaFraming.WriteGlue(header, format == "avro" ? GlueAvroVersion : GlueProtobufVersion, GlueCompression.None);
            w.AddRange(header);
        }
        else
        {
            var header = new byte[5];
            SchemaFraming.WriteConfluent(header, format == "avro" ? ConfluentAvroId : ConfluentProtobufId);
            w.AddRange(header);
            if (format == "protobuf")
            {
                w.Add(0x00); // message-index list: the first message
            }
        }

        if (format == "avro")
        {
            AvroString(w, id);
            Varint(w, (ulong)((n << 1) ^ (n >> 63)));
            w.AddRange(BitConverter.GetBytes(amount));
            AvroString(w, note);
        }
        else
        {
            ProtoBytes(w, 1, Encoding.UTF8.GetBytes(id));
            w.Add(0x10);
            Varint(w, (ulong)n);
            w.Add(0x19);
            w.AddRange(BitConverter.GetBytes(amount));
            ProtoBytes(w, 4, Encoding.UTF8.GetBytes(note));
        }

        return [.. w];
    }

    private static void AvroString(List<byte> w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        Varint(w, (ulong)b.Length << 1);
        w.AddRange(b);
    }

    private static void ProtoBytes(List<byte> w, int field, byte[] b)
    {
        Varint(w, (ulong)((field << 3) | 2));
        Varint(w, (ulong)b.Length);
        w.AddRange(b);
    }

    private static void Varint(List<byte> w, ulong v)
    {
        while (v >= 0x80)
        {
            w.Add((byte)(v | 0x80));
            v >>= 7;
        }

        w.Add((byte)v);
    }
}
