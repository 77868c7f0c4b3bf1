using System.Text;
using MskClickHouse.Core.Formats;
using MskClickHouse.Core.Formats.Avro;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Formats.Protobuf;
using MskClickHouse.LocalRun;

namespace MskClickHouse.Tools.Tests.LocalRun;

/// <summary>
/// --value-format avro|protobuf: the generated values framed for a registry, read back with the sink's own framing
/// parser and transcoders against the schemas the run registers.
/// </summary>
public sealed class FramedValuesTests
{
    private static readonly byte[] Value = """{"id":"o-1","n":42,"amount":9.5,"note":"gift"}"""u8.ToArray();

    [Theory]
    [InlineData("avro", 10)]
    [InlineData("avro", 11)]
    [InlineData("protobuf", 10)]
    [InlineData("protobuf", 11)]
    public void Convert_EvenOffsetsConfluentOddGlue_DecodesBackToTheSameFields(string format, long offset)
    {
        var framed = FramedValues.Convert(Value, format, offset)!;

        Assert.Null(SchemaFraming.TryParse(framed, out var header));
        var expected = offset % 2 == 0
            ? SchemaRef.Confluent(format == "avro" ? FramedValues.ConfluentAvroId : FramedValues.ConfluentProtobufId)
            : SchemaRef.Glue(format == "avro" ? FramedValues.GlueAvroVersion : FramedValues.GlueProtobufVersion);
        Assert.Equal(expected, header.Schema);
        var payload = framed.AsSpan(header.PayloadStart);
        var json = new JsonOutput();
        if (format == "avro")
        {
            AvroTranscoder.Transcode(AvroSchemaParser.Parse(FramedValues.AvroSchema), payload, json);
        }
        else
        {
            // Confluent's Protobuf framing carries a message-index list (0x00: the first message); Glue's does not.
            ProtoTranscoder.Transcode(ProtoSchemaParser.Parse(FramedValues.ProtoSchema).Messages[0], offset % 2 == 0 ? payload[1..] : payload, json);
        }

        Assert.Equal("""{"id":"o-1","n":42,"amount":9.5,"note":"gift"}""", Encoding.UTF8.GetString(json.Written));
    }

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("{\"id\":1,\"broken\":")]
    [InlineData("{\"other\":true}")]
    public void Convert_ValueThatIsNotAGeneratedObject_IsKeptAsItIs_SoTheFunctionDeadLettersIt(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);

        Assert.Same(bytes, FramedValues.Convert(bytes, "avro", 2));
        Assert.Null(FramedValues.Convert(null, "avro", 2));
    }
}
